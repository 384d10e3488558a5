"""The output contract of a strategy task: the one format decision, shared with evaluation.

``StrategyContract.parse`` and :meth:`StrategyEvaluator.evaluate` both call
:func:`prepare_strategy`, with the same settings, so the step log's format counts and the
rewards can never disagree about what counts as a strategy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strategy_gym.core.messages import completion_text
from strategy_gym.core.outcomes import Outcome
from strategy_gym.play.game import PlaySettings
from strategy_gym.play.source import extract_strategy, reads_argument
from strategy_gym.sandbox import check_source


@dataclass(frozen=True)
class Prepared:
    """The code of one completion, and how far it got before any sandbox ran it."""

    code: str | None
    stage: Outcome  # OK, or the static failure
    message: str


def prepare_strategy(text: str, settings: PlaySettings, entry_point: str = "strategy",
                     raw_code: bool = False) -> Prepared:  # fmt: skip
    """Extract (unless ``raw_code``) and statically check one strategy."""
    if raw_code:
        code, reason = text, "source file"
    else:
        code, reason = extract_strategy(text, settings.extraction, entry_point)
    if code is None:
        return Prepared(None, Outcome.NO_FUNCTION, reason)
    verdict = check_source(code, settings.policy(entry_point))
    if not verdict.ok:
        return Prepared(code, verdict.outcome, verdict.message)
    return Prepared(code, Outcome.OK, reason)


@dataclass(frozen=True)
class ParseResult:
    ok: bool
    value: str | None  # the strategy source when ok
    reason: str
    kind: Outcome | str = Outcome.OK  # the failure class for logs ("placeholder" for no reads)


@dataclass(frozen=True)
class StrategyContract:
    """A completion must hold ``def <entry_point>(...)`` that passes the static checks and
    reads its input (the prompt's own example move is a placeholder, not a strategy)."""

    settings: PlaySettings = PlaySettings()
    entry_point: str = "strategy"
    name: str = "python_strategy_function"

    def parse(self, completion: Any) -> ParseResult:
        prepared = prepare_strategy(completion_text(completion), self.settings, self.entry_point)
        if prepared.stage is not Outcome.OK:
            message = f"{prepared.stage}: {prepared.message}"
            return ParseResult(False, prepared.code, message, prepared.stage)
        if not reads_argument(prepared.code, self.entry_point):
            reason = f"placeholder: {self.entry_point} never reads its argument"
            return ParseResult(False, prepared.code, reason, "placeholder")
        return ParseResult(True, prepared.code, prepared.message)
