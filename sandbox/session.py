"""Interactive sandbox jobs: the trusted side drives, the jailed child only answers.

A :class:`Session` runs the model's code once in a child and then serves its entry point to a
trusted :class:`Driver` (a game master), one round trip per step: once the code is defined the
child sends an empty step (the code built), the driver sends views ``[[slot, view], ...]``, the
child answers ``[[slot, answer], ...]``, the driver decides what happens and sends the next
views, until it says ``None``. The child never holds the state the
driver keeps (games, seeds, RNGs); it sees views and nothing else.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from strategy_gym.sandbox.policy import SandboxPolicy

LOCKSTEP_RUNNER = "strategy_gym.sandbox.runners:lockstep"
Views = list[list[Any]]  # [[slot, plain view], ...]
Answers = list[tuple[int, dict[str, Any]]]  # [(slot, {"value": v} | {"error": kind, ...})]


class Driver(Protocol):
    """The trusted side of a session (for games: :class:`strategy_gym.play.master.GameMaster`)."""

    def restart(self) -> None:
        """Back to the initial state: a session lost to the infrastructure is run again."""

    def advance(self, answers: Answers) -> Views | None:
        """Apply one step's answers (the first step has none: the code built); the next
        views, or None when the session is over."""


@dataclass(frozen=True, eq=False)
class Session:
    """``policy.time_limit_s`` bounds each round trip (one move of every live game);
    ``budget_s`` the whole session. ``rng_seeds``: one per slot; the pool keys them before
    they reach the child's ``random``."""

    code: str | None
    policy: SandboxPolicy
    driver: Driver
    budget_s: float
    rng_seeds: tuple[int, ...] = ()
    runner: str = LOCKSTEP_RUNNER  # tests swap in a spy that runs after the lock-down

    def __post_init__(self) -> None:
        if not (isinstance(self.budget_s, int | float) and math.isfinite(self.budget_s)
                and self.budget_s > 0):  # fmt: skip
            raise ValueError(f"Session.budget_s must be a positive number, got {self.budget_s!r}")


@dataclass(eq=False)
class SessionState:
    """The pool's bookkeeping for one running session.

    The child is charged only while it holds the turn: from the moment its views are sent
    until its answers are read. Time the trusted side spends (stepping games, a first JIT
    compile, serving other children on a loaded machine) never counts against its budget.
    """

    session: Session
    left_s: float = math.inf  # of the session's budget, set when it starts
    turn_started: float = 0.0  # monotonic time the child got the turn
    steps: int = 0
    reply_s: float = 0.0  # time spent in the driver (trusted side), for the timings

    @property
    def step_limit_s(self) -> float:
        return self.session.policy.time_limit_s

    def start(self, now: float) -> None:
        self.left_s, self.turn_started = self.session.budget_s, now

    def end_turn(self, now: float) -> None:
        self.left_s -= now - self.turn_started

    def give_turn(self, now: float) -> None:
        self.turn_started = now

    @property
    def deadline(self) -> float:
        """When the child's current turn runs out: one round trip's limit or, sooner, what
        is left of the budget."""
        return self.turn_started + min(self.step_limit_s, self.left_s)

    @property
    def budget_is_binding(self) -> bool:
        return self.left_s <= self.step_limit_s


def parse_answers(frame: bytes) -> Answers | None:
    """The answers of one step frame, or None when the frame is malformed (any shape the
    lockstep runner never writes). Values inside answers are checked by the driver."""
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError):
        return None
    answers = data.get("step") if isinstance(data, dict) else None
    if not isinstance(answers, list):
        return None
    parsed: Answers = []
    for item in answers:
        if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int
                and isinstance(item[1], dict)):  # fmt: skip
            return None
        parsed.append((item[0], item[1]))
    return parsed
