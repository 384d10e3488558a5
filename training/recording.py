"""A transparent wrapper around each reward function: timing, last batch, outcome counts.

TRL names a reward by ``__name__``, so the wrapper carries the wrapped function's name and the
logged metrics keep their usual keys (``rewards/<name>/mean``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from strategy_gym.core.messages import completion_texts


class RecordingReward:
    """Calls ``fn`` unchanged and remembers what it saw, for the step log and the report."""

    def __init__(self, fn: Callable[..., list], name: str | None = None) -> None:
        self.fn = fn
        self.__name__ = name or getattr(fn, "__name__", type(fn).__name__)
        self.seconds = 0.0  # cumulative over the whole run
        self._unreported_seconds = 0.0  # since the last take_step_seconds()
        self.calls = 0
        self.last_texts: list[str] = []
        self.last_rewards: list[float | None] = []
        self._seen_counts: Counter = Counter()

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list:
        start = time.perf_counter()
        rewards = self.fn(completions=completions, **kwargs)
        elapsed = time.perf_counter() - start
        self.seconds += elapsed
        self._unreported_seconds += elapsed
        self.calls += 1
        self.last_texts = completion_texts(completions)
        self.last_rewards = list(rewards)
        return rewards

    def take_step_seconds(self) -> float:
        """Seconds spent in this reward since the previous call: one GRPO step's reward time
        when the step logger calls it once per step (``seconds`` keeps the run's total)."""
        taken, self._unreported_seconds = self._unreported_seconds, 0.0
        return taken

    def new_outcome_counts(self) -> dict[str, int]:
        """Outcome classes counted by the reward object since the last call (if it counts).

        Reward objects may expose ``outcome_counts`` (a cumulative mapping, or a method
        returning one); anything else yields ``{}``.
        """
        counts = getattr(self.fn, "outcome_counts", None)
        if callable(counts):
            counts = counts()
        if not isinstance(counts, dict | Counter):
            return {}
        current = Counter({str(k): int(v) for k, v in counts.items()})
        delta = current - self._seen_counts
        self._seen_counts = current
        return dict(delta)

    def close(self) -> None:
        closer = getattr(self.fn, "close", None)
        if callable(closer):
            closer()


def wrap_rewards(fns: Sequence[Callable[..., list]]) -> list[RecordingReward]:
    wrapped, seen = [], Counter()
    for fn in fns:
        name = getattr(fn, "__name__", type(fn).__name__)
        seen[name] += 1
        wrapped.append(RecordingReward(fn, name if seen[name] == 1 else f"{name}_{seen[name]}"))
    return wrapped
