"""Model targets for the evaluator: resolve, load and sample ``k`` completions per prompt.

A model target is the embedded default (``embedded``), a ``conf/model`` name, a hub id, a local
checkpoint, a LoRA adapter folder, or a training run directory (its ``adapter/``, the model and
sampling settings of its ``config.yaml`` and the seed sets of its ``seed_sets.json``). Loading
goes through :func:`training.models.resolve_model`, sampling through
:func:`training.generation.generate` (batched, seeded per batch: the same model and sampling
seed give the same completions on CPU).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from strategy_gym.agents.evaluation.records import Candidate
from strategy_gym.agents.evaluation.tasks import is_strategy_task, rows_for_seeds, split_of
from strategy_gym.envs.seeds import SeedSet, parse_seed_spec
from strategy_gym.tasks.registry import Task
from strategy_gym.training.generation import Generated, Sampling, generate
from strategy_gym.training.models import (
    LoadedModel,
    ModelResolutionError,
    ModelSpec,
    resolve_model,
    spec_for,
)

DEFAULT_MODEL = "smollm2-135m"  # conf/config.yaml's default: the embedded SmolLM2-135M
EMBEDDED_ALIASES = ("embedded", "default")


@dataclass
class ModelTarget:
    """A loaded model plus what its origin says about how to evaluate it (a run's settings)."""

    name: str
    loaded: LoadedModel
    origin: str  # "model", "adapter" or "run"
    location: str
    task_name: str | None = None
    task_options: dict = field(default_factory=dict)
    seed_sets: dict[str, SeedSet] = field(default_factory=dict)
    sampling: Sampling | None = None  # the run's eval sampling, when it came from a run


def resolve_model_target(text: str, device: str = "cpu") -> ModelTarget:
    """Load what ``text`` names; raises ModelResolutionError with a one-paragraph reason."""
    path = Path(text).expanduser()
    if text in EMBEDDED_ALIASES:
        return ModelTarget(DEFAULT_MODEL, resolve_model(DEFAULT_MODEL, device=device), "model", text)
    if path.is_dir() and (path / "config.yaml").is_file() and (path / "adapter").is_dir():
        return _run_target(path, device)
    if path.is_dir() and (path / "adapter_config.json").is_file():
        base = _adapter_base(path)
        loaded = _with_adapter(resolve_model(base, device=device), path)
        return ModelTarget(path.name, loaded, "adapter", str(path))
    loaded = resolve_model(text, device=device)
    return ModelTarget(loaded.spec.name.replace("/", "_"), loaded, "model", text)


def _run_target(run_dir: Path, device: str) -> ModelTarget:
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(run_dir / "config.yaml")
    spec = ModelSpec.from_mapping(cfg.model)
    loaded = _with_adapter(resolve_model(spec, device=device), run_dir / "adapter")
    node = cfg.env.get("task_options")
    options = OmegaConf.to_container(node, resolve=True) if node else {}
    e = cfg.trainer.eval
    tokens = min(int(e.max_new_tokens), int(cfg.trainer.get("max_completion_length") or e.max_new_tokens))
    sampling = Sampling(tokens, float(e.temperature), float(e.top_p), int(e.seed), int(e.batch_size))
    return ModelTarget(run_dir.name, loaded, "run", str(run_dir), str(cfg.env.name), dict(options),
                       run_seed_sets(run_dir), sampling)


def run_seed_sets(run_dir: Path) -> dict[str, SeedSet]:
    """The seed sets a run recorded (``seed_sets.json``), by name."""
    file = run_dir / "seed_sets.json"
    if not file.is_file():
        return {}
    sets = {}
    for name, value in json.loads(file.read_text()).items():
        seeds = range(value["start"], value["stop"], value["step"]) if isinstance(value, dict) else tuple(value)
        sets[name] = SeedSet(f"{name}@run", seeds)
    return sets


def seed_set_for(spec: str, run_sets: dict[str, SeedSet]) -> SeedSet:
    """``test`` / ``test:100`` from the run's own sets when it has them, else the usual spec."""
    head, _, count = spec.partition(":")
    if head in run_sets and (not count or count.isdigit()):
        return run_sets[head].first(int(count)) if count else run_sets[head]
    return parse_seed_spec(spec)


def _adapter_base(adapter: Path) -> str | ModelSpec:
    """The adapter's base model: its run's model spec when it sits in a run directory, else
    ``base_model_name_or_path`` from ``adapter_config.json`` (a hub id or a local folder)."""
    run_cfg = adapter.parent / "config.yaml"
    if run_cfg.is_file():
        from omegaconf import OmegaConf

        return ModelSpec.from_mapping(OmegaConf.load(run_cfg).model)
    base = json.loads((adapter / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if not base:
        raise ModelResolutionError(f"LoRA adapter {str(adapter)!r} names no base model "
                                   "(base_model_name_or_path in adapter_config.json)")
    return spec_for(base)


def _with_adapter(loaded: LoadedModel, adapter: Path) -> LoadedModel:
    from peft import PeftModel

    model = PeftModel.from_pretrained(loaded.model, str(adapter), is_trainable=False)
    model.eval()
    return replace(loaded, model=model, notes=[*loaded.notes, f"LoRA adapter {adapter}"])


def sample(loaded: LoadedModel, prompts: Sequence[Any], k: int, sampling: Sampling,
           progress: Callable[[int], None] | None = None) -> list[list[Generated]]:  # fmt: skip
    """``k`` completions per prompt, in order. Each prompt's copies share a batch where they
    fit, and the sampler's seed is fixed per batch, so a rerun gives the same texts."""
    if k < 1:
        raise ValueError(f"samples per prompt must be >= 1, got {k}")
    expanded = [p for p in prompts for _ in range(k)]
    out = generate(loaded.model, loaded.tokenizer, expanded, sampling, progress)
    return [out[i * k:(i + 1) * k] for i in range(len(prompts))]


def model_candidate(name: str, loaded: LoadedModel, task: Task, seed_set: SeedSet, k: int,
                    sampling: Sampling, prompts: int = 1,
                    progress: Callable[[int], None] | None = None) -> Candidate:  # fmt: skip
    """A candidate of sampled completions. Strategy tasks: ``k`` samples for each of
    ``prompts`` eval prompts, each played on the whole seed set. Answer tasks: ``k`` samples for
    the problem of every seed, each checked against that problem's answer."""
    if is_strategy_task(task):
        rows = task.build_dataset("eval", prompts, sampling.seed)
        groups_of_rows = [str(i) for i in range(len(rows))]
        seeds_of_rows = None
    else:
        seeds = list(seed_set)
        rows = rows_for_seeds(task, seeds, split_of(seed_set.name))
        groups_of_rows = [str(s) for s in seeds]
        seeds_of_rows = seeds
    samples = sample(loaded, [r["prompt"] for r in rows], k, sampling, progress)
    texts = [g.text for group in samples for g in group]
    groups = [g for g in groups_of_rows for _ in range(k)]
    seeds_out = [s for s in seeds_of_rows for _ in range(k)] if seeds_of_rows is not None else None
    flat = [g for group in samples for g in group]
    meta = {"model": loaded.spec.name, "checkpoint": loaded.checkpoint, "notes": loaded.notes,
            "samples_per_prompt": k, "prompts": len(rows), "sampling": sampling.__dict__,
            "mean_tokens": sum(g.tokens for g in flat) / len(flat) if flat else 0.0,
            "truncated": sum(g.truncated for g in flat)}
    return Candidate(name, "completions", texts, groups, seeds_out, meta)


def evaluate_model(task: Task, loaded: LoadedModel, seed_set: SeedSet, out: Path, k: int = 4,
                   sampling: Sampling | None = None, prompts: int = 1, name: str = "model",
                   workers: int = 2, threshold: float = 0.5, show_progress: bool = False) -> dict:
    """Sample, evaluate and write every file (``training/run.py`` calls this after training).
    Returns the summary."""
    from strategy_gym.agents.evaluation.engine import EvalSettings, run_evaluation
    from strategy_gym.agents.evaluation.outputs import write_completions, write_outputs

    sampling = sampling or Sampling()
    candidate = model_candidate(name, loaded, task, seed_set, k, sampling, prompts)
    run = run_evaluation(task, [candidate], seed_set, seed_set.name,
                         EvalSettings(threshold, workers, show_progress=show_progress))
    summary = write_outputs(run, out)
    write_completions(run, out / "completions.jsonl")
    return summary
