"""Reward functions, layered as the playbook asks: format -> correctness -> safety.

Each has TRL's signature ``f(completions, **columns) -> list[float]``; ``seeds`` is the dataset
column listing the games a completion is played on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from strategy_gym.core.messages import completion_text
from strategy_gym.sandbox import Outcome, SandboxPool, check_source, extract_function

from connect_four.scoring import POLICY, play_games

_BROKEN = {Outcome.SYNTAX_ERROR, Outcome.NO_FUNCTION}
_CHEATING = {Outcome.IMPORT_VIOLATION, Outcome.FORBIDDEN}


def extract_strategy(completion: object) -> str | None:
    return extract_function(completion_text(completion), POLICY.entry_point).code


def function_works(completions: Sequence, **_: object) -> list[float]:
    """Format: +1 when a ``def strategy`` parses, -2 when there is none or it does not parse."""
    return [_format_score(extract_strategy(c)) for c in completions]


def _format_score(code: str | None) -> float:
    if code is None or check_source(code, POLICY).outcome in _BROKEN:
        return -2.0
    return 1.0


def no_cheating(completions: Sequence, **_: object) -> list[float]:
    """Safety: -10 for a forbidden import or construct, -1 without a parsable function, else +1."""
    return [_safety_score(extract_strategy(c)) for c in completions]


def _safety_score(code: str | None) -> float:
    outcome = None if code is None else check_source(code, POLICY).outcome
    if outcome is None or outcome in _BROKEN:
        return -1.0
    return -10.0 if outcome in _CHEATING else 1.0


class StrategyWins:
    """Correctness: play each strategy on its row's ``seeds`` in the sandbox.

    +1 when every game runs to the end, plus ``win_weight`` x the fraction won; -1 when a game
    times out; -3 for any other failure (crash, illegal column); 0 without a runnable function.
    Owns a sandbox pool, created on first use; call :meth:`close` when done. ``outcome_counts``
    (game statuses and sandbox outcomes so far) feeds the trainer's step log.
    """

    __name__ = "strategy_wins"  # TRL logs reward functions by name

    def __init__(self, win_weight: float = 10.0, workers: int = 2) -> None:
        if not isinstance(win_weight, (int, float)) or win_weight <= 0:
            raise ValueError(f"win_weight must be a positive number, got {win_weight!r}")
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        self.win_weight = win_weight
        self.workers = workers
        self._pool: SandboxPool | None = None
        self.outcome_counts: Counter[str] = Counter()

    def __call__(
        self, completions: Sequence, seeds: Sequence[Sequence[int]], **_: object
    ) -> list[float]:
        codes = [self._runnable(extract_strategy(c)) for c in completions]
        games = play_games(self._get_pool(), codes, seeds)
        self.outcome_counts.update(g.status for played in games for g in played)
        pairs = zip(codes, games, strict=True)
        return [0.0 if code is None else self._score(g) for code, g in pairs]

    def _score(self, games: list) -> float:
        if not games:
            return 0.0
        if any(g.status == Outcome.TIMEOUT.value for g in games):
            return -1.0
        if not all(g.finished for g in games):
            return -3.0
        return 1.0 + self.win_weight * sum(g.status == "win" for g in games) / len(games)

    @staticmethod
    def _runnable(code: str | None) -> str | None:
        return code if code is not None and check_source(code, POLICY).ok else None

    def _get_pool(self) -> SandboxPool:
        if self._pool is None:
            self._pool = SandboxPool(workers=self.workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def default_rewards(win_weight: float = 10.0, workers: int = 2) -> list:
    return [function_works, StrategyWins(win_weight, workers), no_cheating]


def wins_only(win_weight: float = 10.0, workers: int = 2) -> list:
    return [StrategyWins(win_weight, workers)]
