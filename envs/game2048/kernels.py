"""Generic N x N 2048 kernels (numba): move, merge, spawn, legal-move mask, status.

A board is a C-contiguous ``uint8`` array of tile exponents (0 = empty, e = tile 2**e).
All functions are pure apart from the arrays they are told to write; randomness comes
from the per-board stream in :mod:`envs.game2048.rng`. The action map is 0=W up, 1=A left,
2=S down, 3=D right.

Speed notes: a line (N <= 8 cells, exponents <= 62) is gathered into one uint64, one byte
per tile, and slid and merged with a fixed trip count and no data-dependent branch (random
boards make such branches mispredict about half the time). A move also reports the
empty-cell count, the largest tile and each line's tile count, so a step finds its spawn
cell without scanning the board and derives its status without rescanning it. Signed and
unsigned ints are never mixed: numba would compute with floats.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import next_below, next_unit

ONGOING, SUCCESS, FAILED = 0, 1, 2

_BYTE = np.uint64(0xFF)
_U0, _U8 = np.uint64(0), np.uint64(8)
_BYTES_01 = np.uint64(0x0101010101010101)
_BYTES_80 = np.uint64(0x8080808080808080)


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
    """Slide and merge one line toward ``start``: (gain, changed, tiles left, largest tile)."""
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


@njit(cache=True, inline="always")
def _move_lines(flat: np.ndarray, size: int, action: int) -> tuple:
    """Slide and merge in place: (gain, changed, empty cells, largest exponent, line counts).

    Byte ``line`` of ``line counts`` is the number of tiles left in that line, packed toward
    the side moved to; :func:`_empty_cell` uses it to find a spawn cell without a scan.
    """
    gain = 0
    changed = False
    tiles = 0
    top = 0
    counts = _U0
    for line in range(size):
        start, step = _line_start_step(size, action, line)
        g, c, n, t = _slide_line(flat, start, step, size)
        gain += g
        changed |= c
        tiles += n
        top = max(top, t)
        counts |= np.uint64(n) << np.uint64(8 * line)
    return gain, changed, size * size - tiles, top, counts


@njit(cache=True, inline="always")
def move_flat_stats(flat: np.ndarray, size: int, action: int) -> tuple[int, bool, int, int]:
    """Slide and merge in place: (gain, changed, empty cells after, largest exponent after)."""
    gain, changed, empty, top, _ = _move_lines(flat, size, action)
    return gain, changed, empty, top


@njit(cache=True, inline="always")
def _empty_cell(counts: np.uint64, size: int, action: int, pick: int) -> int:
    """Flat index of the pick-th empty cell (row-major) right after a move with ``action``.

    After a move every line holds its tiles packed toward the side moved to, so the empty
    cells follow from the per-line tile counts: no pass over the board.
    """
    if action == 1 or action == 3:  # lines are rows: row r has size - n empty cells
        for r in range(size):
            n = int((counts >> np.uint64(8 * r)) & _BYTE)
            if pick < size - n:
                return r * size + (n + pick if action == 1 else pick)
            pick -= size - n
        return -1
    # Lines are columns; cell (r, c) is empty iff n_c <= r (up) or n_c <= size - 1 - r (down).
    lanes = ~_U0 if size == 8 else (np.uint64(1) << np.uint64(8 * size)) - np.uint64(1)
    for r in range(size):
        limit = r if action == 0 else size - 1 - r
        # High bit of byte c set iff n_c <= limit (no borrow: n_c <= 8 < 0x80 + limit).
        high = ((np.uint64(0x80 + limit) * _BYTES_01) - counts) & _BYTES_80 & lanes
        empty = int(((high >> np.uint64(7)) * _BYTES_01) >> np.uint64(56))
        if pick < empty:
            for c in range(size):
                if int((counts >> np.uint64(8 * c)) & _BYTE) <= limit:
                    if pick == 0:
                        return r * size + c
                    pick -= 1
        pick -= empty
    return -1


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


@njit(cache=True, inline="always")
def step_flat_top(
    flat: np.ndarray, size: int, rng: np.ndarray, i: int, action: int, p_four: float, target_exp: int
) -> tuple[int, bool, int, int]:
    """:func:`step_flat` plus the largest exponent after the step (for max-tile infos)."""
    gain, changed, empty, top, counts = _move_lines(flat, size, action)
    if changed and empty > 0:  # a move that changes the board always frees a cell
        # Same draws and cell as spawn_flat: index among the empty cells, then 2 or 4.
        pick = next_below(rng, i, empty)
        value = 2 if next_unit(rng, i) < p_four else 1
        flat[_empty_cell(counts, size, action, pick)] = value
        top = max(top, value)
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
