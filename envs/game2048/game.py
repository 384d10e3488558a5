"""One 2048 game as a small Python object, and the strategies' list view."""

from __future__ import annotations

import numpy as np

from .kernels import ONGOING, legal_mask_flat, reset_flat, status_flat, step_flat
from .rng import seed_state
from .rules import (
    ACTION_LETTERS,
    STATUS_NAMES,
    GameConfig,
    parse_action,
    validate_config,
    validate_seed,
)


def board_as_lists(board: np.ndarray) -> list[list[int]]:
    """Exponent board -> fresh list of lists of tile values (0 for empty): a strategy's input."""
    return [[(1 << e) if e else 0 for e in row] for row in board.tolist()]


class Game:
    """A single game: ``board`` (N x N uint8 exponents), ``score``, its own RNG state, status.

    Actions are "W", "A", "S", "D" (any case, stripped) or 0..3 (0=W up, 1=A left, 2=S down,
    3=D right). A move that changes nothing spawns nothing and is not an error.
    """

    def __init__(self, config: GameConfig, seed: int) -> None:
        self.config = config
        self.seed = validate_seed(seed)
        self.board = np.zeros((config.size, config.size), dtype=np.uint8)
        self.rng_state = np.array([seed_state(np.uint64(self.seed))], dtype=np.uint64)
        self.score = 0
        self.moves = 0  # board-changing moves
        self.steps = 0  # actions applied, changing the board or not
        flat = self.board.reshape(-1)
        reset_flat(flat, self.rng_state, 0, config.p_four)
        self._status = int(status_flat(flat, config.size, config.target_exp))

    @property
    def size(self) -> int:
        return self.config.size

    @property
    def status(self) -> str:
        """"ongoing", "success" (a tile >= target exists) or "failed" (no move changes the board)."""
        return STATUS_NAMES[self._status]

    @property
    def status_code(self) -> int:
        return self._status

    @property
    def max_tile(self) -> int:
        top = int(self.board.max())
        return 1 << top if top else 0

    def step(self, action: str | int) -> tuple[bool, int]:
        """Apply one action: (changed, gain). Raises ValueError once the game is over."""
        code = parse_action(action)
        if self._status != ONGOING:
            raise ValueError(f"the game is over ({self.status}); start a new one")
        gain, changed, status = step_flat(
            self.board.reshape(-1), self.config.size, self.rng_state, 0, code,
            self.config.p_four, self.config.target_exp,
        )
        self.score += int(gain)
        self.steps += 1
        self.moves += int(changed)
        self._status = int(status)
        return bool(changed), int(gain)

    def legal_mask(self) -> np.ndarray:
        """(4,) bool: which actions (0=W 1=A 2=S 3=D) change the board."""
        mask = np.zeros(4, dtype=np.bool_)
        legal_mask_flat(self.board.reshape(-1), self.config.size, mask)
        return mask

    def legal_actions(self) -> list[str]:
        """Letters of the actions that change the board, in W, A, S, D order."""
        return [ACTION_LETTERS[a] for a in np.flatnonzero(self.legal_mask())]

    def board_values(self) -> list[list[int]]:
        """A fresh list of lists of tile values (0 = empty), exactly what ``strategy`` receives."""
        return board_as_lists(self.board)

    def copy(self) -> Game:
        other = object.__new__(Game)
        other.__dict__.update(self.__dict__)
        other.board = self.board.copy()
        other.rng_state = self.rng_state.copy()
        return other

    def __repr__(self) -> str:
        return (f"Game(size={self.size}, target={self.config.target}, seed={self.seed}, "
                f"score={self.score}, max_tile={self.max_tile}, status={self.status!r})")


def new_game(size: int = 4, target: int = 2048, p_four: float = 0.1, seed: int = 0) -> Game:
    """A new game with two starting tiles; the same arguments always give the same game."""
    return Game(validate_config(size, target, p_four), seed)
