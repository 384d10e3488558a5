"""2048 on numba kernels: single games, raw batches, Gymnasium envs.

Action map everywhere: 0=W up, 1=A left, 2=S down, 3=D right. Boards are N x N uint8 tile
exponents (0 empty, e means 2**e); ``board_as_lists`` gives the tile-value view that a
model-written ``strategy(board)`` receives.

* ``new_game(size, target, p_four, seed) -> Game``; ``Game.step(action) -> (changed, gain)``.
* ``move_board(board, action) -> (new_board, gain, changed)``: pure numba single-board move
  (no spawn) for search agents; callable from other numba code.
* ``reset_batch`` / ``step_batch`` over plain arrays, and ``BatchedBoards`` with bookkeeping.
* ``Game2048Env`` / ``Game2048VectorEnv`` (imported lazily: they need Gymnasium's env classes).
"""

from __future__ import annotations

from .batch import BatchedBoards, StepResult, move_batch, reset_batch, step_batch
from .game import Game, board_as_lists, new_game
from .kernels import legal_mask_flat, move_board, move_flat_inplace, spawn_flat, status_flat
from .rules import (
    ACTION_LETTERS,
    ACTION_NAMES,
    FAILED,
    ONGOING,
    STATUS_NAMES,
    SUCCESS,
    GameConfig,
    parse_action,
    validate_config,
)

__all__ = [
    "ACTION_LETTERS", "ACTION_NAMES", "FAILED", "ONGOING", "STATUS_NAMES", "SUCCESS",
    "BatchedBoards", "Game", "Game2048Env", "Game2048VectorEnv", "GameConfig",
    "StepResult", "board_as_lists", "legal_mask_flat", "move_board", "move_flat_inplace",
    "move_batch", "new_game", "parse_action", "reset_batch", "spawn_flat", "status_flat",
    "step_batch", "validate_config",
]


def __getattr__(name: str):
    if name == "Game2048Env":
        from .env import Game2048Env

        return Game2048Env
    if name == "Game2048VectorEnv":
        from .vector import Game2048VectorEnv

        return Game2048VectorEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
