"""Sandbox runner: plays one seeded 2048 game with an untrusted ``strategy(board)`` function.

Runs inside a sandbox worker. It returns only the actions; the trusted parent replays them
with :func:`strategy_gym.envs.game2048.replay`, so nothing the strategy does can forge an outcome.
"""

from __future__ import annotations

from collections.abc import Callable

from .game import new_game

DEFAULT_MAX_MOVES = 2000
DEFAULT_STALL_LIMIT = 50
_LETTERS = frozenset("WASD")


def _action_letter(action: object) -> str:
    if not isinstance(action, str):
        from strategy_gym.sandbox.errors import (
            InvalidAction,  # lazily: the worker provides the sandbox
        )

        raise InvalidAction(
            f"strategy must return one of 'W', 'A', 'S', 'D' as a str, got {type(action).__name__}"
        )
    letter = action.strip().upper()
    if letter not in _LETTERS:
        from strategy_gym.sandbox.errors import InvalidAction

        raise InvalidAction(f"strategy returned {action[:40]!r}; expected one of W, A, S, D")
    return letter


def play(fn: Callable[[list[list[int]]], object], payload: dict) -> dict:
    """Play until the game ends, ``max_moves`` actions, or ``stall_limit`` no-op moves in a row.

    payload: size, target, p_four, seed, max_moves (default 2000), stall_limit (default 50).
    Returns ``{"actions": "WASD...", "stalled": bool}``. ``fn`` gets a fresh list of lists of
    tile values every turn.
    """
    game = new_game(
        payload.get("size", 4), payload.get("target", 2048), payload.get("p_four", 0.1),
        payload.get("seed", 0),
    )
    max_moves = int(payload.get("max_moves", DEFAULT_MAX_MOVES))
    stall_limit = int(payload.get("stall_limit", DEFAULT_STALL_LIMIT))
    actions: list[str] = []
    idle = 0
    while game.status == "ongoing" and len(actions) < max_moves and idle < stall_limit:
        letter = _action_letter(fn(game.board_values()))
        actions.append(letter)
        changed, _ = game.step(letter)
        idle = 0 if changed else idle + 1
    return {"actions": "".join(actions), "stalled": idle >= stall_limit}


def sandbox_warmup() -> None:
    """Called once per sandbox worker: loads the numba kernels before any strategy runs."""
    play(lambda board: "W", {"seed": 0, "max_moves": 4})
