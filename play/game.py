"""What a strategy task declares about its game, and how hard the sandbox holds it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from strategy_gym.core.outcomes import Outcome
from strategy_gym.sandbox import DEFAULT_ALLOWED_IMPORTS, SandboxPolicy

Info = dict[str, Any]


class InvalidMove(ValueError):
    """Raised by a codec for a return value outside the task's contract; the message is
    what the model is told (it lands in logs and replays)."""


def _no_progress(info: Info) -> float:
    return 0.0


def _no_detail(info: Info) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, eq=False)
class StrategyGame:
    """One strategy task's game, played by the library on the trusted side.

    ``env_id`` and ``env_kwargs`` name the Gymnasium env: the single definition of the game.
    ``view(obs, info)`` is the plain data (lists, numbers, str) the strategy function gets;
    ``decode(value, info)`` turns its return value into an env action or raises
    :class:`InvalidMove`; ``judge(terminated, truncated, info)`` says how an episode the env
    ended came out (``Outcome.SUCCESS`` or ``Outcome.GAME_OVER``). ``progress(info)`` (0..1)
    is for shaped rewards, ``detail(info)`` the task-specific numbers kept per game (2048:
    score and best tile), ``stalled(info)`` whether a move changed nothing. A game ends as
    ``MAX_MOVES`` after ``max_moves`` actions and ``STALLED`` after ``stall_limit`` moves in
    a row that changed nothing.
    """

    env_id: str
    view: Callable[[Any, Info], Any]
    decode: Callable[[Any, Info], Any]
    judge: Callable[[bool, bool, Info], Outcome]
    max_moves: int
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    progress: Callable[[Info], float] = _no_progress
    detail: Callable[[Info], dict[str, Any]] = _no_detail
    score: Callable[[Info], float] | None = None  # None: the sum of the env's rewards
    stalled: Callable[[Info], bool] | None = None
    stall_limit: int = 50
    entry_point: str = "strategy"

    def __post_init__(self) -> None:
        if not isinstance(self.max_moves, int) or self.max_moves < 1:
            raise ValueError(f"max_moves must be a positive int, got {self.max_moves!r}")
        if not isinstance(self.stall_limit, int) or self.stall_limit < 1:
            raise ValueError(f"stall_limit must be a positive int, got {self.stall_limit!r}")

    def make_env(self) -> gym.Env:
        return gym.make(self.env_id, disable_env_checker=True, **dict(self.env_kwargs))


@dataclass(frozen=True)
class PlaySettings:
    """Sandbox settings for playing strategies (plain data, hashable).

    ``time_limit_s`` is per game: one move may take at most that long, and a session of k
    games at most k times that. ``rng_key`` keys the HMAC that turns a game seed into the
    strategy's own ``random`` seed: fixed, so the same strategy on the same seeds gives the
    same numbers in every run; the code never sees it.
    """

    time_limit_s: float = 2.0
    memory_limit_mb: int = 512
    allowed_imports: frozenset[str] = DEFAULT_ALLOWED_IMPORTS
    extraction: str = "lenient"  # "notebook": the gpt-oss notebook's strict fenced-block rule
    seeds_per_session: int = 64  # more seeds than this are split over several children
    rng_key: bytes = b"strategy-gym/play/v1"

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_imports", frozenset(self.allowed_imports))
        if self.extraction not in ("lenient", "notebook"):
            raise ValueError(f"extraction must be 'lenient' or 'notebook', got {self.extraction!r}")
        if not isinstance(self.seeds_per_session, int) or self.seeds_per_session < 1:
            raise ValueError(f"seeds_per_session must be >= 1, got {self.seeds_per_session!r}")
        self.policy("strategy")  # validates the limits

    def policy(self, entry_point: str) -> SandboxPolicy:
        return SandboxPolicy(entry_point=entry_point, allowed_imports=self.allowed_imports,
                             time_limit_s=self.time_limit_s,
                             memory_limit_mb=self.memory_limit_mb)  # fmt: skip
