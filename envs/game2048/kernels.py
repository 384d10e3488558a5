"""Generic N x N 2048 kernels (numba): move, merge, spawn, legal-move mask, status.

A board is a C-contiguous ``uint8`` array of tile exponents (0 = empty, e = tile 2**e).
All functions are pure apart from the arrays they are told to write; randomness comes
from the per-board stream in :mod:`envs.game2048.rng`. The action map is 0=W up, 1=A left,
2=S down, 3=D right.

Speed notes: a line (N <= 8 cells, exponents <= 62) is gathered into one uint64, one byte
per tile, without data-dependent branches; only the merge pass branches, once per tile.
A move also reports the empty-cell count and the largest tile, so a step spawns with a
single scan and derives its status without rescanning the board.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import next_below, next_unit

ONGOING, SUCCESS, FAILED = 0, 1, 2

_BYTE = np.uint64(0xFF)
_U0, _U8 = np.uint64(0), np.uint64(8)


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


@njit(cache=True, inline="always")
def _slide_line(flat: np.ndarray, start: int, step: int, size: int) -> tuple:
    """Slide and merge one line toward ``start``: (gain, changed, tiles left, largest tile).

    Branch-free with a fixed trip count: random boards make tile-dependent branches
    mispredict about half the time. Signed and unsigned ints are never mixed (numba would
    compare them as floats).
    """
    before = _U0
    tiles = _U0  # the non-empty cells, packed toward byte 0, zeros after them
    count = 0
    for k in range(size):
        v = np.uint64(flat[start + k * step])
        before |= v << np.uint64(8 * k)
        tiles |= v << np.uint64(8 * count)
        count += np.int64(v != _U0)
    after = _U0
    gain = 0
    top = 0
    out = 0
    merges = 0
    consumed = 0  # 1 when the current tile was already merged into the previous one
    for _ in range(size):
        v = np.int64(tiles & _BYTE)
        tiles >>= _U8
        merge = (1 - consumed) & np.int64(v == np.int64(tiles & _BYTE)) & np.int64(v != 0)
        v += merge  # each tile merges at most once: the pair is consumed
        gain += merge << v
        keep = 1 - consumed
        after |= np.uint64(v * keep) << np.uint64(8 * out)
        top = max(top, v)
        out += keep
        merges += merge
        consumed = merge
    for k in range(size):
        flat[start + k * step] = (after >> np.uint64(8 * k)) & _BYTE
    return gain, after != before, count - merges, top


@njit(cache=True)
def move_flat_stats(flat: np.ndarray, size: int, action: int) -> tuple[int, bool, int, int]:
    """Slide and merge in place: (gain, changed, empty cells after, largest exponent after)."""
    gain = 0
    changed = False
    tiles = 0
    top = 0
    for line in range(size):
        start, step = _line_start_step(size, action, line)
        g, c, n, t = _slide_line(flat, start, step, size)
        gain += g
        changed |= c
        tiles += n
        top = max(top, t)
    return gain, changed, size * size - tiles, top


@njit(cache=True)
def move_flat_inplace(flat: np.ndarray, size: int, action: int) -> tuple[int, bool]:
    """Slide and merge a flat board in place; return (gain, changed).

    Each line is read from the side moved toward; a tile merges with the next equal tile
    at most once.
    """
    gain, changed, _, _ = move_flat_stats(flat, size, action)
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
    top = 0
    for k in range(flat.shape[0]):
        top = max(top, flat[k])
    if top >= target_exp:
        return SUCCESS
    return ONGOING if can_move_flat(flat, size) else FAILED


@njit(cache=True, inline="always")
def _status_from(flat: np.ndarray, size: int, target_exp: int, empty: int, top: int) -> int:
    """Status when the empty count and the largest exponent are already known."""
    if top >= target_exp:
        return SUCCESS
    if empty > 0:
        return ONGOING
    return ONGOING if can_move_flat(flat, size) else FAILED


@njit(cache=True, inline="always")
def _place_spawn(flat: np.ndarray, rng: np.ndarray, i: int, p_four: float, empty: int) -> int:
    """Spawn on one of ``empty`` (> 0) empty cells; return the exponent placed.

    Draw order (shared with the 4x4 bitboard path): cell index among the empty cells in
    row-major order, then the 2-or-4 draw.
    """
    pick = next_below(rng, i, empty)
    value = 2 if next_unit(rng, i) < p_four else 1
    for k in range(flat.shape[0]):
        pick -= flat[k] == 0
        if pick < 0:
            flat[k] = value
            break
    return value


@njit(cache=True)
def spawn_flat(flat: np.ndarray, rng: np.ndarray, i: int, p_four: float) -> bool:
    """Put a 2 (or a 4 with probability p_four) on a uniformly chosen empty cell.

    Draw order (shared with the 4x4 bitboard path): cell index among the empty cells in
    row-major order, then the 2-or-4 draw. Returns False (drawing nothing) if the board is full.
    """
    empty = 0
    for k in range(flat.shape[0]):
        empty += flat[k] == 0
    if empty == 0:
        return False
    _place_spawn(flat, rng, i, p_four, empty)
    return True


@njit(cache=True)
def reset_flat(flat: np.ndarray, rng: np.ndarray, i: int, p_four: float) -> None:
    """Clear the board and spawn the two starting tiles."""
    flat[:] = 0
    _place_spawn(flat, rng, i, p_four, flat.shape[0])
    _place_spawn(flat, rng, i, p_four, flat.shape[0] - 1)


@njit(cache=True)
def step_flat_top(
    flat: np.ndarray, size: int, rng: np.ndarray, i: int, action: int, p_four: float, target_exp: int
) -> tuple[int, bool, int, int]:
    """:func:`step_flat` plus the largest exponent after the step (for max-tile infos)."""
    gain, changed, empty, top = move_flat_stats(flat, size, action)
    if changed and empty > 0:  # a move that changes the board always frees a cell
        top = max(top, _place_spawn(flat, rng, i, p_four, empty))
        empty -= 1
    return gain, changed, _status_from(flat, size, target_exp, empty, top), top


@njit(cache=True)
def step_flat(
    flat: np.ndarray, size: int, rng: np.ndarray, i: int, action: int, p_four: float, target_exp: int
) -> tuple[int, bool, int]:
    """One full game step: move, spawn if the board changed, new status -> (gain, changed, status)."""
    gain, changed, status, _ = step_flat_top(flat, size, rng, i, action, p_four, target_exp)
    return gain, changed, status


@njit(cache=True)
def step_board_info(
    board: np.ndarray, rng: np.ndarray, action: int, p_four: float, target_exp: int,
    mask: np.ndarray,
) -> tuple[int, bool, int, int]:
    """One step of an (N, N) board with stream 0 of ``rng``, plus what an env reports:
    (gain, changed, status, largest exponent); the legal-move mask is written to ``mask``."""
    size = board.shape[0]
    flat = board.reshape(-1)
    gain, changed, status, top = step_flat_top(flat, size, rng, 0, action, p_four, target_exp)
    legal_mask_flat(flat, size, mask)
    return gain, changed, status, top
