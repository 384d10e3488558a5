"""Seeded batched generation from chat prompts (preflight samples and before/after evaluation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strategy_gym.training.fastgen import merged_copy_for


@dataclass(frozen=True)
class Sampling:
    max_new_tokens: int = 128
    temperature: float = 0.7  # 0 = greedy
    top_p: float = 0.95
    seed: int = 1234
    batch_size: int = 8


@dataclass(frozen=True)
class Generated:
    text: str
    tokens: int
    truncated: bool  # stopped by max_new_tokens, not by an end token


def prompt_text(tokenizer: Any, messages: Any) -> str:
    """The chat-templated prompt string (plain-text prompts pass through)."""
    if isinstance(messages, str):
        return messages
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def prompt_lengths(tokenizer: Any, prompts: Sequence[Any]) -> list[int]:
    text_tok = getattr(tokenizer, "tokenizer", tokenizer)
    return [len(text_tok(prompt_text(tokenizer, p), add_special_tokens=False)["input_ids"])
            for p in prompts]


def generate(model: Any, tokenizer: Any, prompts: Sequence[Any], sampling: Sampling,
             progress: Any = None) -> list[Generated]:
    """Completions for ``prompts`` in order; the same seed gives the same texts.

    ``progress`` is an optional callable ``advance(n)`` for a rich progress bar.
    """
    import torch

    text_tok = getattr(tokenizer, "tokenizer", tokenizer)
    device = next(model.parameters()).device
    results: list[Generated] = []
    was_training = model.training
    model.eval()
    copy = merged_copy_for(model)  # LoRA folded into a separate copy: no adapter cost, no drift
    generator = copy.model if copy is not None else model
    try:
        for start in range(0, len(prompts), sampling.batch_size):
            batch = [prompt_text(tokenizer, p) for p in prompts[start:start + sampling.batch_size]]
            enc = text_tok(batch, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(device) for k, v in enc.items()}
            # Seed per batch so a batch's output does not depend on how many batches came before.
            torch.manual_seed(sampling.seed + start)
            with torch.no_grad():
                out = generator.generate(**enc, **_sampling_kwargs(sampling, text_tok))
            results.extend(_decode(out[:, enc["input_ids"].shape[1]:], text_tok, sampling,
                                   _stop_ids(text_tok, model)))
            if progress is not None:
                progress(len(batch))
    finally:
        model.train(was_training)
    return results


def _sampling_kwargs(sampling: Sampling, tok: Any) -> dict:
    kwargs: dict = {"max_new_tokens": sampling.max_new_tokens, "pad_token_id": tok.pad_token_id}
    if sampling.temperature <= 0:
        return {**kwargs, "do_sample": False}
    return {**kwargs, "do_sample": True, "temperature": sampling.temperature,
            "top_p": sampling.top_p}


def _decode(new_tokens: Any, tok: Any, sampling: Sampling, stop_ids: set[int]) -> list[Generated]:
    rows = []
    for ids in new_tokens.tolist():
        ended = next((i for i, t in enumerate(ids) if t in stop_ids), None)
        kept = ids if ended is None else ids[:ended]
        rows.append(Generated(tok.decode(kept, skip_special_tokens=True), len(kept),
                              truncated=ended is None and len(ids) >= sampling.max_new_tokens))
    return rows


def _stop_ids(tok: Any, model: Any) -> set[int]:
    ids = {tok.eos_token_id, tok.pad_token_id}
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(configured if isinstance(configured, list) else [configured])
    return {i for i in ids if i is not None}
