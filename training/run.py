"""One training run's state and steps, called in order by ``train_env.py``.

Each method is a thin step over one module (preflight, priming, grpo, steplog, evaluation,
report); the state they share (task, model, rows, run directory, results) lives here.
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from strategy_gym.envs.seeds import seed_set_spec
from strategy_gym.training import distributed
from strategy_gym.training.backend import BackendError, choose_backend
from strategy_gym.training.cache import ModelFetchError
from strategy_gym.training.environments import PlayMode
from strategy_gym.training.evaluation import EvalResult, evaluate, load_eval, write_eval
from strategy_gym.training.generation import Sampling
from strategy_gym.training.grpo import (
    build_trainer,
    checkpoint_step,
    checkpoint_write_failure,
    grpo_config,
    last_checkpoint,
    train_dataset,
    trim_step_logs,
)
from strategy_gym.training.lora import attach_lora, trainable_summary
from strategy_gym.training.models import (
    LoadedModel,
    ModelResolutionError,
    ModelSpec,
    checkpoint_location,
    resolve_model,
)
from strategy_gym.training.plots import plot_eval
from strategy_gym.training.preflight import (
    Check,
    PreflightError,
    PreflightResult,
    backend_env_checks,
    demo_completion_tokens,
    measure_lengths,
    memory_check,
    pick_device,
    raise_on_failure,
    render,
    sample_check,
    tokenizer_check,
    version_checks,
)
from strategy_gym.training.priming import PrimingSettings, fitting_demonstrations, prime_format
from strategy_gym.training.progress import RichProgress
from strategy_gym.training.recording import RecordingReward, wrap_rewards
from strategy_gym.training.report import ReportInputs, write_report
from strategy_gym.training.schema import validate_config
from strategy_gym.training.smoke import SmokeCallback, SmokeVerdict
from strategy_gym.training.steplog import StepLogger
from strategy_gym.training.tasks import TaskError, TaskRows, build_rows, load_task


class ConfigError(ValueError):
    """A config value that cannot work; ``str()`` is one paragraph."""


# Errors shown to the user as one paragraph (no stack trace), exit code 2, nothing written.
USER_ERRORS = (ModelResolutionError, ModelFetchError, TaskError, PreflightError, BackendError,
               ConfigError)


@dataclass
class Run:
    cfg: DictConfig
    console: Any
    task: Any
    loaded: LoadedModel
    rows: TaskRows
    device: str
    backend: str
    use_vllm: bool
    preflight: PreflightResult
    run_dir: Path | None = None
    evals: dict[str, EvalResult] = field(default_factory=dict)
    rewards: list[RecordingReward] = field(default_factory=list)
    step_logger: StepLogger | None = None
    smoke: SmokeVerdict = field(default_factory=lambda: SmokeVerdict(True))
    timings: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    resumed_from: str | None = None
    play: PlayMode | None = None  # env.mode=play: the model plays move by move through tools

    # ---- 1. preflight -------------------------------------------------------------------
    @classmethod
    def prepare(cls, cfg: DictConfig, console: Any) -> Run:
        start = time.perf_counter()
        validate_config(cfg)  # types, ranges, cross-field rules: before anything loads
        quiet_libraries()
        spec = _model_spec(cfg)
        if cfg.run.resume and not cfg.run.dir:
            raise ConfigError("run.resume=true needs run.dir=DIR (the run directory to continue "
                              "from its last checkpoint). Nothing was written.")
        device = pick_device(str(cfg.run.device))
        backend, use_vllm, why = choose_backend(str(cfg.trainer.backend), device,
                                                bool(cfg.trainer.use_vllm))
        checks = version_checks(bool(cfg.run.get("allow_untested_versions", False)), backend)
        checks += backend_env_checks(why, use_vllm, bool(cfg.trainer.vllm_sleep_mode))
        early = PreflightResult(checks=list(checks))
        if early.failures():
            render(early, console)
            raise_on_failure(early)
        if backend == "transformers":
            checkpoint_location(spec)  # unknown path / unreachable hub: fail before the task
        task = load_task(str(cfg.env.name), _plain_options(cfg.env.get("task_options")))
        if spec.modality != task.modality:
            raise ConfigError(f"env={task.name} is a {task.modality} task but model={spec.name} "
                              f"is a {spec.modality} model; pick a matching model. Nothing was "
                              "written.")
        play = _play_mode(cfg, task)
        _sandbox_options(cfg, task, play)  # a Ray backend that cannot work fails here
        with console.status(f"loading {spec.name} ..."):
            loaded = _load(spec, device, backend, use_vllm)
        if play is None:
            rows = build_rows(task, int(cfg.env.train_rows), int(cfg.env.eval_prompts),
                              int(cfg.env.demonstrations), int(cfg.run.seed))
        else:  # play rows: a seed column per game, no demonstrations (no code to prime)
            rows = play.rows(task, int(cfg.env.train_rows), int(cfg.env.eval_prompts),
                             int(cfg.run.seed))
        result = _model_preflight(cfg, task, loaded, rows, device, checks, play)
        render(result, console, f"Preflight: env={task.name} model={spec.name} on {device}")
        _print_samples(result, console)
        raise_on_failure(result)
        run = cls(cfg, console, task, loaded, rows, device, backend, use_vllm, result, play=play)
        run.timings["load + preflight"] = time.perf_counter() - start
        return run

    # ---- 2. run directory ---------------------------------------------------------------
    def open_directory(self) -> Path:
        if not distributed.is_main():  # rank 0 names and writes the directory; the rest follow
            self.run_dir, self.resumed_from = distributed.broadcast_from_main()
            return self.run_dir  # type: ignore[return-value]
        self.run_dir = _run_dir(self.cfg)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.yaml").write_text(OmegaConf.to_yaml(self._resolved_cfg()))
        (self.run_dir / "seed_sets.json").write_text(json.dumps(_seed_sets(self.task), indent=1))
        with open(self.run_dir / "eval_prompts.jsonl", "w") as handle:
            for row in self.rows.eval:
                handle.write(json.dumps(row, default=repr) + "\n")
        self.resumed_from = (last_checkpoint(self.run_dir / "checkpoints")
                             if self.cfg.run.resume else None)
        if self.cfg.run.resume:  # steps after the checkpoint are trained (and logged) again
            trim_step_logs(self.run_dir, checkpoint_step(self.resumed_from))
        if self.resumed_from:  # keep the earlier invocations' evaluations (before, after priming)
            for phase in ("before", "after_priming"):
                earlier = load_eval(self.run_dir, phase)
                if earlier is not None:
                    self.evals[phase] = earlier
        self.console.print(f"run directory: {self.run_dir}"
                           + (f" (resuming from {self.resumed_from})" if self.resumed_from else ""))
        distributed.broadcast_from_main((self.run_dir, self.resumed_from))
        return self.run_dir

    @property
    def priming_enabled(self) -> bool:
        enabled = self.cfg.trainer.priming.enabled
        enabled = self.loaded.spec.format_priming if enabled is None else bool(enabled)
        return enabled and self.resumed_from is None and bool(self.rows.demonstrations)

    # ---- 3. evaluation ------------------------------------------------------------------
    def evaluate(self, phase: str) -> EvalResult:
        if self.play is not None:  # the fixed-prompt eval scores one completion, not a game
            self.console.print(f"eval {phase}: skipped in play mode (the step log has the "
                               "success rate over the played seeds)")
            return None  # type: ignore[return-value]
        if phase == "after_priming" and not self.cfg.trainer.eval.get("after_priming", True):
            return self.evals.get(phase)  # type: ignore[return-value]
        if phase == "before" and (not self.cfg.trainer.eval.get("before", True)
                                  or phase in self.evals):  # off, or kept from before a resume
            return self.evals.get(phase)  # type: ignore[return-value]
        start = time.perf_counter()
        sampling = self._eval_sampling()
        from rich.progress import Progress

        with Progress(console=self.console, transient=True) as bar:
            job = bar.add_task(f"eval {phase}", total=len(self.rows.eval))
            result = evaluate(phase, self.task, self.loaded.model, self.loaded.tokenizer,
                              self.rows.eval, sampling, lambda n: bar.advance(job, n))
        self.evals[phase] = result
        write_eval(result, self._dir())
        (self._dir() / "eval_summary.json").write_text(
            json.dumps({p: r.summary for p, r in self.evals.items()}, indent=1))
        plot_eval({p: r.summary for p, r in self.evals.items()}, self._dir() / "eval.png")
        s = result.summary
        self.console.print(f"eval {phase}: format {s['format']['rate']:.0%}, success "
                           f"{s['success']['rate']:.0%}, mean score {s['mean_score']:.3f}, "
                           f"mean length {s['length']['mean']:.0f}")
        self.timings[f"eval {phase}"] = time.perf_counter() - start
        return result

    def evaluate_seed_set(self, spec: str = "test", samples: int = 4, prompts: int = 1) -> dict:
        """The generic evaluator on the model as it is now: ``samples`` completions per prompt
        with the eval sampling, each judged over the ``spec`` seeds (the run's own seed sets);
        pass@k, intervals, replay page under ``<run>/seed_eval/``. Returns the summary."""
        from strategy_gym.training.sampling import evaluate_model, run_seed_sets, seed_set_for

        seed_set = seed_set_for(spec, run_seed_sets(self._dir()))
        return evaluate_model(self.task, self.loaded, seed_set, self._dir() / "seed_eval",
                              k=samples, sampling=self._eval_sampling(), prompts=prompts,
                              name=self.loaded.spec.name.replace("/", "_"), show_progress=True)

    # ---- 4. format priming --------------------------------------------------------------
    def prime_format(self) -> dict:
        start = time.perf_counter()
        self._ensure_lora()
        t_cfg = self.cfg.trainer
        p = t_cfg.priming
        settings = PrimingSettings(int(p.steps), int(p.batch_size), float(p.learning_rate),
                                   int(p.max_length), int(self.cfg.run.seed),
                                   use_cpu=self.device == "cpu", bf16=self._bf16(),
                                   gradient_checkpointing=bool(t_cfg.gradient_checkpointing))
        demos = fitting_demonstrations(self.loaded.tokenizer, self.rows.demonstrations,
                                       self.preflight.max_completion_length)
        self.console.print(f"format priming on {len(demos)} of {len(self.rows.demonstrations)} "
                           "demonstrations (those that fit max_completion_length)")
        metrics = prime_format(self.loaded.model, self.loaded.tokenizer, demos,
                               settings, self._dir() / "priming",
                               [RichProgress("priming", settings.steps, self.console)])
        self.timings["priming"] = time.perf_counter() - start
        return metrics

    # ---- 5. GRPO (smoke phase = its first steps) ----------------------------------------
    def train_grpo(self) -> SmokeVerdict:
        start = time.perf_counter()
        self._ensure_lora()
        t = self.cfg.trainer
        env = self.cfg.env
        options = {**_sandbox_options(self.cfg, self.task, self.play), **(env.reward_options or {})}
        self.rewards = wrap_rewards(self.play.rewards() if self.play else
                                    self.task.rewards(env.preset, **options))
        config = self._grpo_config()
        smoke = SmokeCallback(int(t.smoke_steps))
        self.step_logger = StepLogger(self._dir(), self.rewards, config.max_steps, self.console,
                                      None if self.play else self.task.contract)
        dataset = train_dataset(self.rows.train, self.loaded.tokenizer,
                                self.preflight.max_prompt_length)
        if self.play:
            self.play.configure(config)
        trainer = build_trainer(self.loaded.model, self.loaded.tokenizer, self.rewards, dataset,
                                config,
                                [smoke, self.step_logger],
                                fast_generation=bool(t.fast_generation),
                                **(self.play.trainer_kwargs() if self.play else {}))
        try:
            self._train(trainer)
        finally:
            self.step_logger.stop()
            for fn in self.rewards:
                fn.close()
            for line in _sandbox_lines(self.rewards):
                self.console.print(line)
            self.smoke = smoke.verdict
            self.timings["grpo"] = time.perf_counter() - start
        if not self.smoke.ok:
            self.console.print(f"[bold red]smoke phase stopped training:[/] {self.smoke.diagnosis}")
        return self.smoke

    def note_interrupted(self) -> None:
        self.interrupted = True
        self.console.print("[yellow]interrupted: saving the adapter and writing the report[/]")

    # ---- 6. save ------------------------------------------------------------------------
    def save_adapter(self) -> Path:
        path = self._dir() / "adapter"
        self._ensure_lora()
        self.loaded.model.save_pretrained(path)
        self.loaded.tokenizer.save_pretrained(path)
        return path

    # ---- 7. report ----------------------------------------------------------------------
    def write_report(self) -> Path:
        spec = self.loaded.spec
        env = self.cfg.env
        inputs = ReportInputs(
            goal=self.cfg.run.goal or (f"Teach {spec.name} the {self.task.name} task's output "
                                       "format and raise its task score with GRPO; compare the "
                                       "fixed eval prompts before and after."),
            model_lines=[f"{spec.name} from {self.loaded.checkpoint} on {self.device} "
                         f"({self.backend} backend)", trainable_summary(self.loaded.model),
                         f"LoRA r={spec.lora.r} alpha={spec.lora.alpha}", *self.loaded.notes,
                         *filter(None, [distributed.describe()])],
            data_lines=[f"task {self.task.name}: {self.task.description}",
                        *(self.play.describe() if self.play else []),
                        f"{len(self.rows.train)} training rows, {len(self.rows.eval)} fixed eval "
                        f"prompts, {len(self.rows.demonstrations)} priming demonstrations "
                        f"(seed {self.cfg.run.seed})",
                        "seed sets: " + ", ".join(f"{k} ({len(v)})" for k, v in
                                                  self.task.seed_sets.items())],
            reward_names=[fn.__name__ for fn in self.rewards],
            reward_lines=[f"preset {env.preset or self.task.default_preset}: "
                          + ", ".join(fn.__name__ for fn in self.rewards),
                          f"contract: {self.task.contract.name}",
                          *_sandbox_lines(self.rewards)],
            config_yaml=OmegaConf.to_yaml(self._resolved_cfg().trainer),
            evals=self.evals, steps=self.step_logger.rows if self.step_logger else [],
            smoke=self.smoke,
            preflight_lines=[f"{c.name}: {c.status} - {c.detail}" for c in self.preflight.checks],
            timings=self.timings, interrupted=self.interrupted,
            artefacts=sorted(p.name for p in self._dir().iterdir()), device=self.device,
        )
        return write_report(inputs, self._dir())

    # ---- helpers ------------------------------------------------------------------------
    def _dir(self) -> Path:
        if self.run_dir is None:
            self.open_directory()
        return self.run_dir  # type: ignore[return-value]

    def _train(self, trainer: Any) -> None:
        """``trainer.train``; a save that fails (a full disk) ends the run with one paragraph
        naming the intact previous checkpoint, instead of a traceback."""
        try:
            trainer.train(resume_from_checkpoint=self.resumed_from)
        except Exception as exc:
            failure = checkpoint_write_failure(exc, self._dir() / "checkpoints")
            if failure is None:
                raise
            self.console.print(f"[bold red]error:[/] {failure}", soft_wrap=True)
            raise SystemExit(3) from None

    def _ensure_lora(self) -> None:
        if self.backend == "transformers":
            self.loaded.model = attach_lora(self.loaded.model, self.loaded.spec)

    def _bf16(self) -> bool:
        value = self.cfg.trainer.bf16
        if value is not None:
            return bool(value)
        import torch

        return self.device.startswith("cuda") and torch.cuda.is_bf16_supported()

    def _eval_sampling(self) -> Sampling:
        e = self.cfg.trainer.eval
        # Never longer than training completions: the eval measures what GRPO shaped.
        tokens = min(int(e.max_new_tokens), self.preflight.max_completion_length)
        return Sampling(tokens, float(e.temperature), float(e.top_p), int(e.seed),
                        int(e.batch_size))

    def _grpo_config(self) -> Any:
        """The trainer node as TRL's GRPOConfig; only what the run measured or decided is
        computed here."""
        trainer = OmegaConf.to_container(self.cfg.trainer, resolve=True)
        return grpo_config(trainer, self._dir() / "checkpoints",
                           max_completion_length=self.preflight.max_completion_length,
                           seed=int(self.cfg.run.seed), use_cpu=self.device == "cpu",
                           bf16=self._bf16(), use_vllm=self.use_vllm,
                           report_to=str(self.cfg.run.report_to))

    def _resolved_cfg(self) -> DictConfig:
        resolved = OmegaConf.create(OmegaConf.to_container(self.cfg, resolve=True))
        resolved.trainer.max_completion_length = self.preflight.max_completion_length
        resolved.trainer.max_prompt_length = self.preflight.max_prompt_length
        return resolved


def quiet_libraries() -> None:
    """Our rich output is the run's voice: no tqdm bars or deprecation chatter from libraries."""
    import warnings

    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")


def _model_spec(cfg: DictConfig) -> ModelSpec:
    try:
        return ModelSpec.from_mapping(cfg.model)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"model config is invalid: {exc}. Nothing was written.") from None


def _load(spec: ModelSpec, device: str, backend: str, use_vllm: bool) -> LoadedModel:
    if backend == "unsloth":
        from strategy_gym.training.unsloth_backend import load_with_unsloth

        return load_with_unsloth(spec, use_vllm)
    return resolve_model(spec, device=device)


def _model_preflight(cfg: DictConfig, task: Any, loaded: LoadedModel, rows: TaskRows,
                     device: str, checks: list, play: PlayMode | None = None) -> PreflightResult:
    t = cfg.trainer
    result = PreflightResult(checks=list(checks))
    if play is not None:  # the tool template goes in first: lengths are measured with it
        result.checks.extend(play.preflight_checks(loaded.tokenizer))
    max_prompt, completion, length_check = measure_lengths(
        loaded.tokenizer, rows.train, int(t.max_completion_length),
        int(loaded.spec.max_seq_length), t.max_prompt_length,
        demo_completion_tokens(loaded.tokenizer, rows.demonstrations),
        float(t.get("completion_headroom", 1.25)))
    result.max_prompt_length, result.max_completion_length = max_prompt, completion
    result.checks.append(length_check)
    result.checks.append(memory_check(loaded.model, device,
                                      int(t.num_generations) * int(t.prompts_per_step),
                                      max_prompt + completion))
    if play is None and (tokenizer := tokenizer_check(task.contract, loaded.tokenizer)):
        result.checks.append(tokenizer)
    p = t.preflight
    if play is None and distributed.is_main():  # no single-turn contract in play mode; the
        # sampled preview is rank 0's (the other ranks load and measure the same model and rows)
        sampling = Sampling(int(p.max_new_tokens), 0.7, 0.95, int(cfg.run.seed), int(p.samples))
        samples, rate, summary, contract_check = sample_check(
            task, loaded.model, loaded.tokenizer, rows.train[:int(p.samples)], sampling,
            float(p.min_format_rate))
        result.samples, result.format_rate, result.format_detail = samples, rate, summary
        result.checks.append(contract_check)
    for note in loaded.notes:
        result.checks.append(Check("model note", "warn", note))
    return result


def _print_samples(result: PreflightResult, console: Any) -> None:
    from rich.panel import Panel

    for i, sample in enumerate(result.samples):
        console.print(Panel(sample.text.strip()[:600] or "(empty)",
                            title=f"preflight sample {i} ({sample.tokens} tokens)"))
    if result.format_detail:
        console.print(f"contract report: {result.format_detail}")


def _play_mode(cfg: DictConfig, task: Any) -> PlayMode | None:
    try:
        return PlayMode.from_config(cfg.env, task)
    except ValueError as exc:
        raise ConfigError(f"{exc}. Nothing was written.") from None


def _sandbox_options(cfg: DictConfig, task: Any, play: PlayMode | None) -> dict:
    """``trainer.sandbox`` as the strategy reward presets' options ({} for the local pool)."""
    node = cfg.trainer.get("sandbox") or {}
    backend = str(node.get("backend") or "local")
    if backend == "local":
        return {}
    if backend != "ray":
        raise ConfigError(f"trainer.sandbox.backend must be local or ray, got {backend!r}. "
                          "Nothing was written.")
    if task.strategy_game is None or play is not None:
        raise ConfigError(f"trainer.sandbox.backend=ray plays the games of a strategy task's "
                          f"rewards (env.mode=code); env={task.name}"
                          f"{' in play mode' if play else ''} has none. Nothing was written.")
    if importlib.util.find_spec("ray") is None:
        raise ConfigError("trainer.sandbox.backend=ray needs ray: pip install "
                          "'strategy-gym[ray]'. Nothing was written.")
    cpus = node.get("ray_num_cpus")
    return {"backend": "ray", "ray_address": node.get("ray_address"),
            "ray_num_cpus": None if cpus is None else int(cpus)}


def _sandbox_lines(rewards: list[RecordingReward]) -> list[str]:
    """One line per remote sandbox backend the rewards played on (none for the local pool)."""
    lines = []
    for fn in rewards:
        summary = getattr(fn.fn, "backend_summary", None)
        summary = summary() if callable(summary) else None
        if not summary or summary.get("backend") == "local":
            continue
        lines.append(f"sandbox: {summary['backend']}, {summary.get('where', '?')} "
                     f"({summary.get('cluster_cpus', 0)} "
                     f"CPUs, {summary.get('actors', 0)} actors): {summary.get('chunks', 0)} "
                     f"sessions in {summary.get('jobs', 0)} jobs, {summary.get('resubmitted', 0)} "
                     f"resubmitted, {summary.get('actors_lost', 0)} actors lost")
    return lines


def _plain_options(node: Any) -> dict:
    return dict(OmegaConf.to_container(node, resolve=True)) if node else {}


def _run_dir(cfg: DictConfig) -> Path:
    if cfg.run.dir:
        return Path(str(cfg.run.dir))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(str(cfg.run.root)) / f"{cfg.env.name}-{cfg.model.name}-{stamp}"


def _seed_sets(task: Any) -> dict:
    """Each seed set by spec (name, range, sha256), not enumerated: the 1,000,000 train seeds
    were a 9.5 MB file in every run; ``envs.seeds.seed_set_from_spec`` rebuilds them."""
    return {name: seed_set_spec(seeds, getattr(seeds, "name", name))
            for name, seeds in task.seed_sets.items()}
