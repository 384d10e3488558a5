"""Attach one LoRA adapter that priming and GRPO both train (plain transformers + PEFT path)."""

from __future__ import annotations

from typing import Any

from strategy_gym.training.models import ModelSpec


def lora_config(spec: ModelSpec, model: Any) -> Any:
    from peft import LoraConfig

    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [m for m in spec.lora.target_modules if m in present]
    if not targets:
        raise ValueError(f"none of the LoRA target modules {list(spec.lora.target_modules)} exist "
                         f"in {type(model).__name__}; set model.lora.target_modules")
    return LoraConfig(r=spec.lora.r, lora_alpha=spec.lora.alpha, lora_dropout=spec.lora.dropout,
                      target_modules=_language_only(targets, spec), task_type="CAUSAL_LM",
                      bias="none")


def _language_only(targets: list[str], spec: ModelSpec) -> Any:
    # Vision models: adapt the language model only (the Gemma-3 vision recipe), not the tower.
    if spec.modality != "vision":
        return targets
    return r".*language_model.*\.(" + "|".join(targets) + r")$"


def attach_lora(model: Any, spec: ModelSpec) -> Any:
    """The PEFT model (already a PeftModel is returned unchanged, e.g. on resume)."""
    from peft import PeftModel, get_peft_model

    if isinstance(model, PeftModel):
        return model
    return get_peft_model(model, lora_config(spec, model))


def trainable_summary(model: Any) -> str:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return f"{trainable:,} of {total:,} parameters trainable ({trainable / total:.2%})"
