"""Program mode: the completion is a ``def solve()`` whose return value is the answer.

The code runs through the sandbox with its built-in ``strategy_gym.sandbox.runners:call`` runner (no
arguments); the plain-data return value becomes an answer string via
:func:`strategy_gym.text_tasks.answers.format_number`. Nothing here raises on model output: every completion
ends as a :class:`ProgramAnswer` with an outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strategy_gym.core.messages import completion_text, completion_texts
from strategy_gym.text_tasks.answers import format_number
from strategy_gym.text_tasks.contracts import Contract, MissKind, ParseResult

ENTRY_POINT = "solve"
RUNNER = "strategy_gym.sandbox.runners:call"
PROGRAM_SYSTEM_PROMPT = (
    "Solve the problem by writing a Python function `def solve():` that takes no arguments and "
    "returns the final answer as a number. Put only the function in a ```python code block."
)


@dataclass(frozen=True)
class ProgramAnswer:
    """What running one completion's ``solve()`` gave: an outcome and, when ok, the answer."""

    outcome: str  # a sandbox Outcome value, or "not_a_number" for a non-numeric return
    answer: str | None
    message: str

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def program_policy(time_limit_s: float = 2.0, memory_limit_mb: int = 256) -> Any:
    """The sandbox policy for ``solve()``: default allowed imports (math, fractions, ...)."""
    from strategy_gym.sandbox import SandboxPolicy

    return SandboxPolicy(
        entry_point=ENTRY_POINT, time_limit_s=time_limit_s, memory_limit_mb=memory_limit_mb
    )


def run_programs(completions: Sequence[Any], pool: Any, policy: Any = None) -> list[ProgramAnswer]:
    """Extract, check and run every completion's ``solve()`` in ``pool`` (one batch)."""
    from strategy_gym.sandbox import Job, extract_function

    policy = policy or program_policy()
    texts = completion_texts(completions)
    extractions = [extract_function(text, ENTRY_POINT) for text in texts]
    runnable = [i for i, found in enumerate(extractions) if found.ok]
    jobs = [Job(extractions[i].code, RUNNER, {"args": [], "kwargs": {}}, policy) for i in runnable]
    results = dict(zip(runnable, pool.run_batch(jobs), strict=True)) if jobs else {}
    answers = []
    for index, found in enumerate(extractions):
        if not found.ok:
            answers.append(ProgramAnswer("no_function", None, found.reason))
            continue
        answers.append(_answer_of(results[index]))
    return answers


def _answer_of(result: Any) -> ProgramAnswer:
    if not result.ok:
        return ProgramAnswer(str(result.outcome), None, result.message)
    answer = format_number(result.value)
    if answer is None:
        return ProgramAnswer("not_a_number", None, f"solve() returned {result.value!r}")
    return ProgramAnswer("ok", answer, "")


class ProgramContract(Contract):
    """Contract for program mode: a ``def solve()`` definition must be extractable.

    ``parse`` only finds the code (its value is the source); running it is
    :func:`run_programs`' job, so parsing stays cheap and side-effect free.
    """

    name = "program"
    markers = ("def solve():",)
    system_prompt = PROGRAM_SYSTEM_PROMPT

    def parse_text(self, text: str) -> ParseResult:
        from strategy_gym.sandbox import extract_function

        found = extract_function(text, ENTRY_POINT)
        if found.ok:
            return ParseResult.success(found.code)
        kind = MissKind.misspelled_tag if "def " in text else MissKind.no_tags
        return ParseResult.miss(kind, found.reason)

    def render(self, reasoning: str, answer: str) -> str:
        comment = "\n".join(f"    # {line}" for line in reasoning.strip().splitlines() if line)
        return f"```python\ndef solve():\n{comment}\n    return {answer}\n```"

    def progress(self, completion: Any) -> float:
        return (
            1.0
            if self.parse(completion).ok
            else (0.5 if "def " in completion_text(completion) else 0.0)
        )
