"""The Unsloth path (GPU only): FastLanguageModel / FastVisionModel loading and LoRA.

Imported only when :func:`strategy_gym.training.backend.choose_backend` picked ``unsloth``; it cannot run on
the CPU development machines, so it is kept to the calls the notebooks make.
"""

from __future__ import annotations

from typing import Any

from strategy_gym.training.models import LoadedModel, ModelSpec, checkpoint_location


def load_with_unsloth(spec: ModelSpec, use_vllm: bool, gpu_memory_utilization: float = 0.9
                      ) -> LoadedModel:
    import unsloth  # noqa: F401  - must be imported before transformers/trl patches apply
    from unsloth import FastLanguageModel, FastVisionModel

    location = spec.path or spec.unsloth_id or checkpoint_location(spec)
    if spec.modality == "vision":
        model, processor = FastVisionModel.from_pretrained(
            location, load_in_4bit=spec.load_in_4bit, use_gradient_checkpointing="unsloth")
        model = FastVisionModel.get_peft_model(
            model, finetune_vision_layers=False, finetune_language_layers=True,
            finetune_attention_modules=True, finetune_mlp_modules=True, r=spec.lora.r,
            lora_alpha=spec.lora.alpha, lora_dropout=spec.lora.dropout, bias="none",
            random_state=3407)
        return LoadedModel(model, processor, spec, location, ["unsloth FastVisionModel"])
    kwargs: dict[str, Any] = {"max_seq_length": spec.max_seq_length,
                              "load_in_4bit": spec.load_in_4bit, "fast_inference": use_vllm}
    if spec.load_in_fp8:
        kwargs["load_in_fp8"] = True
    if use_vllm:
        kwargs["max_lora_rank"] = spec.lora.r
        kwargs["gpu_memory_utilization"] = gpu_memory_utilization
    model, tokenizer = FastLanguageModel.from_pretrained(location, **kwargs)
    model = FastLanguageModel.get_peft_model(
        model, r=spec.lora.r, lora_alpha=spec.lora.alpha, lora_dropout=spec.lora.dropout,
        target_modules=list(spec.lora.target_modules), use_gradient_checkpointing="unsloth",
        random_state=3407)
    return LoadedModel(model, tokenizer, spec, location, ["unsloth FastLanguageModel"])
