"""The one outcome vocabulary: what happened to one completion, one call or one game.

Sandbox calls, played games, rewards, evaluation and step logs all speak it, so a count in a log
and a branch in a reward name the same thing. ``str(Outcome.SUCCESS) == "success"`` for JSON.
"""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    # The code never ran (static checks).
    NO_FUNCTION = "no_function"
    SYNTAX_ERROR = "syntax_error"
    IMPORT_VIOLATION = "import_violation"
    FORBIDDEN = "forbidden"
    BUILD_ERROR = "build_error"  # passed the checks, but defining it failed in the sandbox
    # A sandbox call: it ran, and this is how it ended.
    OK = "ok"
    RUNTIME_ERROR = "runtime_error"
    INVALID_ACTION = "invalid_action"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    CRASHED = "crashed"
    OUTPUT_TOO_LARGE = "output_too_large"
    # A played game (the trusted side decides these).
    SUCCESS = "success"
    GAME_OVER = "game_over"  # ended without reaching the goal
    MAX_MOVES = "max_moves"  # the turn budget ran out first
    STALLED = "stalled"  # too many moves in a row that changed nothing
    UNFINISHED = "unfinished"  # a model playing move by move stopped before the game ended
    # Not the model's fault.
    TASK_ERROR = "task_error"  # the plug-in's or task's own code failed
    INFRA_ERROR = "infra_error"  # a worker was lost; retried once, then reported

    def __str__(self) -> str:
        return self.value


STATIC_OUTCOMES = frozenset(
    {Outcome.NO_FUNCTION, Outcome.SYNTAX_ERROR, Outcome.IMPORT_VIOLATION, Outcome.FORBIDDEN}
)
# After one of these on a strategy's first game, its other seeds are not played.
LIMIT_OUTCOMES = frozenset({Outcome.TIMEOUT, Outcome.MEMORY_LIMIT, Outcome.CRASHED})
# Game endings in which the strategy played legally to the end (progress credit applies).
PLAYED_OUTCOMES = frozenset({Outcome.SUCCESS, Outcome.GAME_OVER, Outcome.MAX_MOVES, Outcome.STALLED})
NOT_THE_MODELS_FAULT = frozenset({Outcome.TASK_ERROR, Outcome.INFRA_ERROR})
