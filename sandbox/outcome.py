"""The typed result of every sandbox call: an outcome class, a message, a value, timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strategy_gym.core.outcomes import STATIC_OUTCOMES, Outcome

__all__ = ["STATIC_OUTCOMES", "Outcome", "SandboxResult"]


@dataclass(frozen=True)
class SandboxResult:
    """One call's result. ``value`` is the runner's plain-data return (only when ``ok``)."""

    outcome: Outcome
    message: str = ""
    value: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def with_timings(self, **extra: float) -> SandboxResult:
        return SandboxResult(self.outcome, self.message, self.value, {**self.timings, **extra})
