"""GRPO with TRL's GRPOTrainer: config from our trainer settings, the dataset, the trainer."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from strategy_gym.training.generation import prompt_lengths

# Keys of the trainer node (conf/trainer/*.yaml) that are GRPOConfig fields of the same name
# and meaning: they pass through as they are; a null keeps TRL's default.
GRPO_FIELDS = (
    "max_steps", "num_generations", "gradient_accumulation_steps", "learning_rate",
    "lr_scheduler_type", "weight_decay", "max_grad_norm", "optim", "beta", "temperature",
    "top_p", "top_k", "min_p", "max_completion_length", "loss_type", "importance_sampling_level",
    "mask_truncated_completions", "scale_rewards", "num_iterations", "save_steps",
    "logging_steps", "gradient_checkpointing", "bf16",
)


def grpo_config(trainer: Mapping[str, Any], output_dir: Path, **derived: Any) -> Any:
    """TRL's GRPOConfig from the trainer node: the :data:`GRPO_FIELDS` pass straight through,
    ``derived`` holds what the run computes (the measured completion length, the device,
    the seed, vLLM). A step is ``prompts_per_step`` whole groups of ``num_generations``.

    >>> config = grpo_config({"max_steps": 2, "num_generations": 4, "prompts_per_step": 2,
    ...                       "warmup_ratio": 0.0}, Path("out"), use_cpu=True)
    >>> config.per_device_train_batch_size, config.max_steps
    (8, 2)
    """
    from trl import GRPOConfig

    given = {k: trainer[k] for k in GRPO_FIELDS if trainer.get(k) is not None}
    if derived.pop("use_vllm", False):
        derived.update(use_vllm=True, vllm_mode="colocate",
                       vllm_enable_sleep_mode=bool(trainer.get("vllm_sleep_mode")))
    fixed = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=int(trainer["prompts_per_step"]) * int(trainer["num_generations"]),
        # transformers 5 folds warmup_ratio into warmup_steps: a float below 1 is a share of steps
        warmup_steps=float(trainer.get("warmup_ratio") or 0.0),
        save_strategy="steps", save_total_limit=2, disable_tqdm=True,
        dataloader_num_workers=0, shuffle_dataset=True,
    )
    return GRPOConfig(**{**fixed, **given, **derived})


def train_dataset(rows: Sequence[dict], tokenizer: Any, max_prompt_length: int) -> Any:
    """The GRPO dataset; prompts longer than ``max_prompt_length`` are dropped (not cut)."""
    from datasets import Dataset

    lengths = prompt_lengths(tokenizer, [r["prompt"] for r in rows])
    kept = [row for row, n in zip(rows, lengths, strict=True) if n <= max_prompt_length]
    if not kept:
        raise ValueError(f"every training prompt is longer than max_prompt_length "
                         f"{max_prompt_length}; raise trainer.max_prompt_length")
    return Dataset.from_list(kept)


def build_trainer(model: Any, tokenizer: Any, reward_funcs: Sequence[Any], dataset: Any,
                  config: Any, callbacks: Sequence[Any] = (), fast_generation: bool = True,
                  **trainer_kwargs: Any) -> Any:
    """TRL's GRPOTrainer; with ``fast_generation`` its HF generation runs on a merged copy of
    the LoRA model (:mod:`strategy_gym.training.fastgen`), same sampling, no adapter cost."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl import GRPOTrainer

    from strategy_gym.training.fastgen import fast_grpo_trainer_class

    trainer_class = fast_grpo_trainer_class() if fast_generation else GRPOTrainer
    trainer = trainer_class(model=model, reward_funcs=list(reward_funcs), args=config,
                          train_dataset=dataset, processing_class=tokenizer,
                          callbacks=list(callbacks), **trainer_kwargs)  # e.g. environment_factory
    trainer.remove_callback(ProgressCallback)  # our rich bar replaces tqdm and raw log dicts
    trainer.remove_callback(PrinterCallback)
    return trainer


_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# A checkpoint is complete once trainer_state.json exists: the Trainer writes it after the
# weights, optimizer, scheduler and RNG state, and rotates old checkpoints only after that.
_COMPLETE_MARKER = "trainer_state.json"
# Log files with one JSON object per line and a "step" key (the CSV is handled alongside).
STEP_LOGS = ("steps.jsonl", "samples.jsonl")


def checkpoints(output_dir: Path) -> list[tuple[int, Path, bool]]:
    """(step, path, complete) of each ``checkpoint-N`` folder, by step."""
    if not output_dir.is_dir():
        return []
    found = []
    for path in output_dir.iterdir():
        match = _CHECKPOINT.match(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path, (path / _COMPLETE_MARKER).is_file()))
    return sorted(found)


def last_checkpoint(output_dir: Path) -> str | None:
    """The newest *complete* checkpoint: one cut short (a SIGKILL or a full disk while saving)
    is skipped, so resuming never loads half-written weights."""
    complete = [path for _, path, done in checkpoints(output_dir) if done]
    return str(complete[-1]) if complete else None


def checkpoint_step(checkpoint: str | Path | None) -> int:
    """The global step a checkpoint was saved at (0 for none)."""
    if checkpoint is None:
        return 0
    match = _CHECKPOINT.match(Path(checkpoint).name)
    return int(match.group(1)) if match else 0


def drop_incomplete_checkpoints(output_dir: Path) -> list[Path]:
    """Remove checkpoint folders a failed save left behind (frees what the full disk took)."""
    removed = []
    for _, path, done in checkpoints(output_dir):
        if not done:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def trim_step_logs(run_dir: Path, last_step: int) -> int:
    """Keep the step-log lines up to ``last_step`` (the checkpoint a resume starts from).

    Steps after the checkpoint are trained again on resume, so their old lines would appear
    twice; a line a kill cut short is not valid JSON and goes too. Returns the lines dropped.
    """
    dropped = 0
    for name in STEP_LOGS:
        path = run_dir / name
        if path.exists():
            kept = [line for line in path.read_text().splitlines() if _step_of(line) is not None
                    and _step_of(line) <= last_step]
            dropped += len(path.read_text().splitlines()) - len(kept)
            _rewrite(path, kept)
    csv_path = run_dir / "steps.csv"
    if csv_path.exists():
        with open(csv_path, newline="") as handle:
            rows = list(csv.reader(handle))
        if rows:
            column = rows[0].index("step") if "step" in rows[0] else 0
            body = [r for r in rows[1:] if len(r) == len(rows[0]) and r[column].isdigit()
                    and int(r[column]) <= last_step]
            with open(csv_path, "w", newline="") as handle:
                csv.writer(handle).writerows([rows[0], *body])
    return dropped


def _step_of(line: str) -> int | None:
    try:
        step = json.loads(line).get("step")
    except (ValueError, AttributeError):
        return None
    return step if isinstance(step, int) else None


def _rewrite(path: Path, lines: list[str]) -> None:
    """Replace a file's lines atomically: a second kill mid-trim leaves the old or the new."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines))
    os.replace(tmp, path)


class CheckpointWriteError(RuntimeError):
    """Saving a checkpoint (or a log) failed, typically a full disk; ``str()`` is one paragraph."""


_DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def checkpoint_write_failure(exc: BaseException, output_dir: Path) -> CheckpointWriteError | None:
    """A clear error when ``exc`` broke a save, else None (the exception is not ours to name).

    A save was under way when a checkpoint folder without its completion marker is left
    (safetensors and torch.save wrap the OS error in their own types), or the exception chain
    holds a disk-full errno.
    """
    partial = [path for _, path, done in checkpoints(output_dir) if not done]
    if not partial and not _disk_errno(exc):
        return None
    removed = drop_incomplete_checkpoints(output_dir)
    previous = last_checkpoint(output_dir)
    free = _free_space(output_dir)
    what = f"writing {removed[-1].name}" if removed else "writing the run's files"
    kept = (f"The previous checkpoint {previous} is intact; free some space, then continue with "
            f"run.dir={output_dir.parent} run.resume=true." if previous else
            "No earlier checkpoint exists; free some space and start the run again.")
    cleaned = f" The partial {removed[-1].name} was removed." if removed else ""
    return CheckpointWriteError(
        f"Disk full or file too large while {what} in {output_dir} ({free}): "
        f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}.{cleaned} {kept}")


def _disk_errno(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _free_space(path: Path) -> str:
    try:
        return f"{shutil.disk_usage(path).free / 2**20:.1f} MiB free"
    except OSError:
        return "free space unknown"
