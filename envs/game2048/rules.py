"""Game rules shared by every 2048 front end: action map, status codes, config checks.

Action map (integers and letters mean the same move everywhere in this package):

=====  ======  =========
int    letter  direction
=====  ======  =========
0      W       up
1      A       left
2      S       down
3      D       right
=====  ======  =========
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTION_LETTERS = "WASD"
ACTION_NAMES = ("up", "left", "down", "right")
UP, LEFT, DOWN, RIGHT = 0, 1, 2, 3

ONGOING, SUCCESS, FAILED = 0, 1, 2
STATUS_NAMES = ("ongoing", "success", "failed")

MIN_SIZE, MAX_SIZE = 2, 8
# The exponent must fit a uint8 and the gain of a merge an int64.
MAX_TARGET_EXPONENT = 62

@dataclass(frozen=True)
class GameConfig:
    """A validated game configuration; ``target_exp`` is log2(target)."""

    size: int
    target: int
    p_four: float

    @property
    def target_exp(self) -> int:
        return self.target.bit_length() - 1


def validate_config(size: object = 4, target: object = 2048, p_four: object = 0.1) -> GameConfig:
    """Check a board size, target tile and 4-spawn probability; raise ValueError/TypeError."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an int, got {type(size).__name__}")
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target must be an int, got {type(target).__name__}")
    target = int(target)
    if target < 4 or target & (target - 1):
        raise ValueError(f"target must be a power of two >= 4, got {target}")
    if target.bit_length() - 1 > MAX_TARGET_EXPONENT:
        raise ValueError(f"target must be at most 2**{MAX_TARGET_EXPONENT}, got {target}")
    if isinstance(p_four, bool) or not isinstance(p_four, (int, float, np.integer, np.floating)):
        raise TypeError(f"p_four must be a number, got {type(p_four).__name__}")
    p_four = float(p_four)
    if not 0.0 <= p_four <= 1.0:  # also rejects NaN
        raise ValueError(f"p_four must be a probability in [0, 1], got {p_four}")
    return GameConfig(int(size), target, p_four)


def validate_seed(seed: object) -> int:
    """A game seed is an int in [0, 2**64)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return seed


def parse_action(action: object) -> int:
    """Map 'W'/'A'/'S'/'D' (any case, surrounding spaces ignored) or 0..3 to an action code."""
    if isinstance(action, str):
        letter = action.strip().upper()
        if len(letter) == 1 and letter in ACTION_LETTERS:
            return ACTION_LETTERS.index(letter)
        raise ValueError(f"unknown action {action!r}; expected one of W, A, S, D")
    if isinstance(action, (int, np.integer)) and not isinstance(action, bool):
        if 0 <= int(action) <= 3:
            return int(action)
        raise ValueError(f"unknown action {action!r}; integer actions are 0..3 (W, A, S, D)")
    raise TypeError(f"action must be a str or an int, got {type(action).__name__}")
