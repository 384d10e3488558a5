"""Generic N x N 2048 kernels (numba): move, merge, spawn, legal-move mask, status.

A board is a C-contiguous ``uint8`` array of tile exponents (0 = empty, e = tile 2**e).
All functions are pure apart from the arrays they are told to write; randomness comes
from the per-board stream in :mod:`envs.game2048.rng`. The action map is 0=W up, 1=A left,
2=S down, 3=D right.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import next_below, next_unit

ONGOING, SUCCESS, FAILED = 0, 1, 2


@njit(cache=True, inline="always")
def _line_start_step(size: int, action: int, line: int) -> tuple[int, int]:
    """Flat index of a line's first cell (at the side moved toward) and the stride along it."""
    if action == 0:  # up: column `line`, top to bottom
        return line, size
    if action == 1:  # left: row `line`, left to right
        return line * size, 1
    if action == 2:  # down: column `line`, bottom to top
        return (size - 1) * size + line, -size
    return line * size + size - 1, -1  # right: row `line`, right to left


@njit(cache=True)
def move_flat_inplace(flat: np.ndarray, size: int, action: int) -> tuple[int, bool]:
    """Slide and merge a flat board in place; return (gain, changed).

    Reads each line from the side moved toward; a pending tile merges with the next equal
    tile at most once. Writes never overtake reads, so one pass suffices.
    """
    gain = 0
    changed = False
    for line in range(size):
        start, step = _line_start_step(size, action, line)
        out = 0
        pending = 0
        for k in range(size):
            v = flat[start + k * step]
            if v == 0:
                continue
            if pending == 0:
                pending = v
            elif pending == v:
                merged = v + 1
                pos = start + out * step
                changed |= flat[pos] != merged
                flat[pos] = merged
                gain += 1 << merged
                out += 1
                pending = 0
            else:
                pos = start + out * step
                changed |= flat[pos] != pending
                flat[pos] = pending
                out += 1
                pending = v
        if pending != 0:
            pos = start + out * step
            changed |= flat[pos] != pending
            flat[pos] = pending
            out += 1
        for k in range(out, size):
            pos = start + k * step
            changed |= flat[pos] != 0
            flat[pos] = 0
    return gain, changed


@njit(cache=True)
def move_board(board: np.ndarray, action: int) -> tuple[np.ndarray, int, bool]:
    """Pure move of an N x N exponent board: (new_board, gain, changed); no spawn.

    This is the single-board kernel for search agents (expectimax etc.): it never touches
    the input. ``action`` uses the map 0=W up, 1=A left, 2=S down, 3=D right.
    """
    new_board = board.copy()
    gain, changed = move_flat_inplace(new_board.reshape(-1), board.shape[0], action)
    return new_board, gain, changed


@njit(cache=True)
def legal_mask_flat(flat: np.ndarray, size: int, mask: np.ndarray) -> bool:
    """Write which of the 4 actions change the board into ``mask``; return True if any does."""
    any_legal = False
    for action in range(4):
        legal = False
        for line in range(size):
            start, step = _line_start_step(size, action, line)
            for k in range(size - 1):
                front = flat[start + k * step]
                back = flat[start + (k + 1) * step]
                if back != 0 and (front == 0 or front == back):
                    legal = True
                    break
            if legal:
                break
        mask[action] = legal
        any_legal |= legal
    return any_legal


@njit(cache=True)
def can_move_flat(flat: np.ndarray, size: int) -> bool:
    """True if some move changes the board (an empty cell or two equal neighbours)."""
    for r in range(size):
        for c in range(size):
            v = flat[r * size + c]
            if v == 0:
                return True
            if c + 1 < size and flat[r * size + c + 1] == v:
                return True
            if r + 1 < size and flat[(r + 1) * size + c] == v:
                return True
    return False


@njit(cache=True)
def status_flat(flat: np.ndarray, size: int, target_exp: int) -> int:
    """SUCCESS once any tile reaches the target, FAILED when no move changes the board."""
    for k in range(flat.shape[0]):
        if flat[k] >= target_exp:
            return SUCCESS
    return ONGOING if can_move_flat(flat, size) else FAILED


@njit(cache=True)
def spawn_flat(flat: np.ndarray, rng: np.ndarray, i: int, p_four: float) -> bool:
    """Put a 2 (or a 4 with probability p_four) on a uniformly chosen empty cell.

    Draw order (shared with the 4x4 bitboard path): cell index among the empty cells in
    row-major order, then the 2-or-4 draw. Returns False (drawing nothing) if the board is full.
    """
    empty = 0
    for k in range(flat.shape[0]):
        if flat[k] == 0:
            empty += 1
    if empty == 0:
        return False
    pick = next_below(rng, i, empty)
    value = 2 if next_unit(rng, i) < p_four else 1
    for k in range(flat.shape[0]):
        if flat[k] == 0:
            if pick == 0:
                flat[k] = value
                return True
            pick -= 1
    return False


@njit(cache=True)
def reset_flat(flat: np.ndarray, rng: np.ndarray, i: int, p_four: float) -> None:
    """Clear the board and spawn the two starting tiles."""
    flat[:] = 0
    spawn_flat(flat, rng, i, p_four)
    spawn_flat(flat, rng, i, p_four)


@njit(cache=True)
def step_flat(
    flat: np.ndarray, size: int, rng: np.ndarray, i: int, action: int, p_four: float, target_exp: int
) -> tuple[int, bool, int]:
    """One full game step: move, spawn if the board changed, new status -> (gain, changed, status)."""
    gain, changed = move_flat_inplace(flat, size, action)
    if changed:
        spawn_flat(flat, rng, i, p_four)
    return gain, changed, status_flat(flat, size, target_exp)
