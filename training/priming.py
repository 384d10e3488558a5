"""Format priming: a short LoRA SFT on the task's demonstrations before GRPO.

The Qwen3-4B-Base recipe's pre-SFT idea: a small or base model cannot be rewarded for a format it
never produces, so show it a few dozen completions in the contract first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strategy_gym.core.messages import completion_text


@dataclass(frozen=True)
class PrimingSettings:
    steps: int
    batch_size: int
    learning_rate: float
    max_length: int
    seed: int
    use_cpu: bool
    bf16: bool
    gradient_checkpointing: bool = False  # TRL's SFT default is on: pure recompute cost here


def as_sft_rows(demonstrations: Sequence[dict]) -> list[dict]:
    """Prompt-completion rows in TRL's conversational format (a plain completion is wrapped)."""
    rows = []
    for i, demo in enumerate(demonstrations):
        if "prompt" not in demo or "completion" not in demo:
            raise ValueError(f"demonstration {i} needs 'prompt' and 'completion' columns")
        completion = demo["completion"]
        if isinstance(completion, str):
            completion = [{"role": "assistant", "content": completion}]
        rows.append({"prompt": demo["prompt"], "completion": completion})
    return rows


def fitting_demonstrations(tokenizer: Any, demonstrations: Sequence[dict],
                           max_tokens: int) -> list[dict]:
    """Demonstrations whose completion fits the GRPO completion budget (all, if none fits):
    priming on longer ones would teach completions that GRPO then truncates."""
    text_tok = getattr(tokenizer, "tokenizer", tokenizer)
    fitting = [d for d in demonstrations
               if len(text_tok(completion_text(d.get("completion")),
                               add_special_tokens=False)["input_ids"]) <= max_tokens]
    return fitting or list(demonstrations)


def prime_format(model: Any, tokenizer: Any, demonstrations: Sequence[dict],
                 settings: PrimingSettings, output_dir: Path, callbacks: Sequence[Any] = ()) -> dict:
    """Train the attached LoRA adapter on the demonstrations; returns TRL's final metrics."""
    from datasets import Dataset
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    if not demonstrations:
        raise ValueError("format priming needs demonstrations; the task provides none "
                         "(set trainer.priming.enabled=false)")
    config = SFTConfig(
        output_dir=str(output_dir), max_steps=settings.steps,
        per_device_train_batch_size=settings.batch_size, gradient_accumulation_steps=1,
        learning_rate=settings.learning_rate, lr_scheduler_type="linear", warmup_steps=0.1,
        weight_decay=0.001, logging_steps=1, save_strategy="no", report_to="none",
        max_length=settings.max_length, seed=settings.seed, use_cpu=settings.use_cpu,
        bf16=settings.bf16, disable_tqdm=True, completion_only_loss=True,
        dataloader_num_workers=0, gradient_checkpointing=settings.gradient_checkpointing,
    )
    trainer = SFTTrainer(model=model, args=config, processing_class=tokenizer,
                         train_dataset=Dataset.from_list(as_sft_rows(demonstrations)),
                         callbacks=list(callbacks))
    trainer.remove_callback(PrinterCallback)  # the rich bar shows progress; no raw log dicts
    result = trainer.train()
    model.eval()
    return dict(result.metrics)
