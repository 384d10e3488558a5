"""Helpers shared by every reward function: TRL hands completions in two shapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Text-like sequences whose items are not messages: walking them would only find ints.
_NOT_MESSAGES = (bytes, bytearray, memoryview)
# Nodes visited per completion at most: bounds the walk of a list that contains itself.
MAX_NODES = 1_000_000


def completion_text(completion: Any) -> str:
    """Text of one completion, whether TRL passed a plain string or conversational messages.

    Conversational completions are lists of ``{"role": ..., "content": ...}``; the assistant's
    content may itself be a list of parts (``{"type": "text", "text": ...}``) for vision models.
    Anything else (None, numbers) becomes ``""`` so a malformed completion scores as unformatted
    instead of raising inside the trainer.

    The walk is iterative: a structure nested thousands of levels deep (or one that contains
    itself: the walk stops after ``MAX_NODES`` nodes) costs time linear in its size instead of a
    RecursionError.
    """
    if isinstance(completion, str):
        return completion
    parts: list[str] = []
    stack: list[Any] = [completion]
    budget = MAX_NODES
    while stack and budget > 0:
        budget -= 1
        node = stack.pop()
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, Mapping):
            _push_content(node.get("content"), stack)
        elif isinstance(node, Sequence) and not isinstance(node, _NOT_MESSAGES):
            stack.extend(reversed(node))  # reversed: the stack pops them in order
    return "".join(parts)


def _push_content(content: Any, stack: list[Any]) -> None:
    """A message's content: a string, or a list of parts of which only text parts count."""
    if isinstance(content, str):
        stack.append(content)
    elif isinstance(content, Sequence) and not isinstance(content, _NOT_MESSAGES):
        texts = [p.get("text") for p in content if isinstance(p, Mapping) and p.get("type") == "text"]
        stack.extend(reversed([t for t in texts if isinstance(t, str)]))


def completion_texts(completions: Sequence[Any]) -> list[str]:
    return [completion_text(c) for c in completions]
