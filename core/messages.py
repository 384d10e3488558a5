"""Helpers shared by every reward function: TRL hands completions in two shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def completion_text(completion: Any) -> str:
    """Text of one completion, whether TRL passed a plain string or conversational messages.

    Conversational completions are lists of ``{"role": ..., "content": ...}``; the assistant's
    content may itself be a list of parts (``{"type": "text", "text": ...}``) for vision models.
    Anything else (None, numbers) becomes ``""`` so a malformed completion scores as unformatted
    instead of raising inside the trainer.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, Sequence):
        return "".join(completion_text(message) for message in completion)
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(part for part in parts if isinstance(part, str))
    return ""


def completion_texts(completions: Sequence[Any]) -> list[str]:
    return [completion_text(c) for c in completions]
