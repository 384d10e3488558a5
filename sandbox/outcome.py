"""The typed result of every sandbox call: an outcome class, a message, a value, timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    """What happened to one piece of model-written code."""

    OK = "ok"
    SYNTAX_ERROR = "syntax_error"
    NO_FUNCTION = "no_function"
    IMPORT_VIOLATION = "import_violation"
    FORBIDDEN = "forbidden"
    RUNTIME_ERROR = "runtime_error"
    INVALID_ACTION = "invalid_action"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    CRASHED = "crashed"
    OUTPUT_TOO_LARGE = "output_too_large"

    def __str__(self) -> str:
        return self.value


STATIC_OUTCOMES = frozenset(
    {Outcome.SYNTAX_ERROR, Outcome.NO_FUNCTION, Outcome.IMPORT_VIOLATION, Outcome.FORBIDDEN}
)


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
