"""GRPO with TRL's GRPOTrainer: config from our trainer settings, the dataset, the trainer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strategy_gym.training.generation import prompt_lengths


@dataclass(frozen=True)
class GrpoSettings:
    """The subset of ``conf/trainer/*.yaml`` GRPO reads, plus measured lengths."""

    max_steps: int
    num_generations: int
    prompts_per_step: int
    gradient_accumulation_steps: int
    learning_rate: float
    lr_scheduler_type: str
    warmup_ratio: float
    weight_decay: float
    max_grad_norm: float
    optim: str
    beta: float
    temperature: float
    top_p: float
    max_completion_length: int
    save_steps: int
    seed: int
    use_cpu: bool
    bf16: bool
    use_vllm: bool = False
    vllm_sleep_mode: bool = False
    top_k: int | None = None
    min_p: float | None = None
    loss_type: str | None = None
    importance_sampling_level: str | None = None
    mask_truncated_completions: bool | None = None
    gradient_checkpointing: bool = False
    report_to: str = "none"
    logging_steps: int = 1
    scale_rewards: str | None = None  # TRL: "group" | "batch" | "none"
    num_iterations: int | None = None  # policy updates per generated batch
    fast_generation: bool = True  # generate on a merged copy of the LoRA model (fastgen.py)


def grpo_config(settings: GrpoSettings, output_dir: Path) -> Any:
    """A TRL GRPOConfig; one prompt per step means ``num_generations`` completions per batch."""
    from trl import GRPOConfig

    optional = {k: getattr(settings, k) for k in
                ("top_k", "min_p", "loss_type", "importance_sampling_level",
                 "mask_truncated_completions", "scale_rewards", "num_iterations")
                if getattr(settings, k) is not None}
    if settings.use_vllm:
        optional.update(use_vllm=True, vllm_mode="colocate",
                        vllm_enable_sleep_mode=settings.vllm_sleep_mode)
    return GRPOConfig(
        output_dir=str(output_dir), max_steps=settings.max_steps,
        per_device_train_batch_size=settings.prompts_per_step * settings.num_generations,
        num_generations=settings.num_generations,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        learning_rate=settings.learning_rate, lr_scheduler_type=settings.lr_scheduler_type,
        warmup_steps=settings.warmup_ratio, weight_decay=settings.weight_decay,
        max_grad_norm=settings.max_grad_norm, optim=settings.optim, beta=settings.beta,
        temperature=settings.temperature, top_p=settings.top_p,
        max_completion_length=settings.max_completion_length,
        save_strategy="steps", save_steps=settings.save_steps, save_total_limit=2,
        logging_steps=settings.logging_steps, report_to=settings.report_to,
        seed=settings.seed, use_cpu=settings.use_cpu, bf16=settings.bf16,
        gradient_checkpointing=settings.gradient_checkpointing, disable_tqdm=True,
        dataloader_num_workers=0, shuffle_dataset=True, **optional,
    )


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


def last_checkpoint(output_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    if not output_dir.is_dir():
        return None
    return get_last_checkpoint(str(output_dir))
