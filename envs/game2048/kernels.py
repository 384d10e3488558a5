"""Generic N x N 2048 kernels (numba): move, merge, spawn, legal-move mask, status.

A board is a C-contiguous ``uint8`` array of tile exponents (0 = empty, e = tile 2**e).
All functions are pure apart from the arrays they are told to write; randomness comes
from the per-board stream in :mod:`strategy_gym.envs.game2048.rng`. The action map is 0=W up, 1=A left,
2=S down, 3=D right.

Speed notes: a line (N <= 8 cells, exponents <= 62) is gathered into one uint64, one byte
per tile, and slid and merged with a fixed trip count and no data-dependent branch (random
boards make such branches mispredict about half the time). A move also reports the
empty-cell count, the largest tile and each line's tile count, so a step finds its spawn
cell without scanning the board and derives its status without rescanning it. Signed and
unsigned ints are never mixed: numba would compute with floats.

The batch's N x N fast path (targets <= 2**15, see "nibble lines" below) slides lines of
nibbles through a lookup table instead, spawns by selecting the k-th bit of an empty-cell
mask, and works on one (B, N*N) array indexed by board, never on per-board views (each
view costs numba a reference-count pair).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import advanced, below, bits_at, next_below, next_unit, unit

ONGOING, SUCCESS, FAILED = 0, 1, 2
CHECK_STUCK = 3  # step_cells_nibbles: full after the spawn, can_move_cells decides

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


# ---------------------------------------------------------------- nibble lines, N x N
#
# While every exponent fits a nibble (targets up to 2**15: a game stops at its target) a line
# of N <= 8 cells packs into 32 bits, in line order (nibble 0 = the cell at the side moved
# toward), and slides through lookups of 3 cells at a time. The slide is a left-to-right pass
# whose only state is the tile still waiting for a partner (0 = none), so one table indexed
# by (waiting tile, next 3 cells) gives everything: the tiles that pass leaves behind, how
# many, the tile left waiting and the merge gain. Up to 3 dependent lookups per line replace
# the per-cell merge loop of :func:`_slide_line` and give the same lines and gains.

MAX_NIBBLE_TARGET_EXP = 15
_CHUNK_CELLS = 3
_CHUNK_BITS = 12
_U4, _U12, _U16, _U32, _U56 = (np.uint64(s) for s in (4, 12, 16, 32, 56))
_CHUNK = np.uint64(0xFFF)
_NIB = np.uint64(0xF)
_EVEN_NIBS = np.uint64(0x0F0F0F0F)
_BYTES_10 = np.uint64(0x1010101010101010)
_BYTES_55 = np.uint64(0x5555555555555555)
_BYTES_33 = np.uint64(0x3333333333333333)
_BYTES_0F = np.uint64(0x0F0F0F0F0F0F0F0F)


@njit(cache=True)
def _fill_chunk_table(table: np.ndarray) -> None:
    for waiting_in in range(16):
        for chunk in range(1 << _CHUNK_BITS):
            waiting = waiting_in
            left = 0  # tiles settled by this chunk, packed from nibble 0
            n = 0
            gain = 0
            for k in range(_CHUNK_CELLS):
                v = (chunk >> (4 * k)) & 0xF
                if v == 0:
                    continue
                if waiting == 0:
                    waiting = v
                elif waiting == v:
                    left |= min(v + 1, 15) << (4 * n)  # saturates only past any target
                    n += 1
                    gain += 1 << (v + 1)
                    waiting = 0
                else:
                    left |= waiting << (4 * n)
                    n += 1
                    waiting = v
            table[(waiting_in << _CHUNK_BITS) | chunk] = (
                left | ((4 * n) << 12) | (waiting << 16) | (gain << 32))


def build_chunk_table() -> np.ndarray:
    """(65536,) uint64: entry (waiting << 12 | 3 cells) = settled tiles (bits 0-11) | 4 * their
    count (bits 12-15) | tile left waiting (bits 16-19) | gain (bits 32-63)."""
    table = np.zeros(16 << _CHUNK_BITS, dtype=np.uint64)
    _fill_chunk_table(table)
    return table


def build_empty_masks(size: int) -> np.ndarray:
    """(4, size + 1) uint64: row-major bits of the empty cells of line 0 after a move with
    action a when n tiles are left in it; line l's mask is this shifted by l * (line stride)."""
    masks = np.zeros((4, size + 1), dtype=np.uint64)
    for n in range(size + 1):
        for k in range(n, size):  # line positions k >= n are empty, counted from the front
            masks[0, n] |= np.uint64(1) << np.uint64(k * size)  # up: column 0, rows k
            masks[1, n] |= np.uint64(1) << np.uint64(k)  # left: row 0, columns k
            masks[2, n] |= np.uint64(1) << np.uint64((size - 1 - k) * size)  # down
            masks[3, n] |= np.uint64(1) << np.uint64(size - 1 - k)  # right
    return masks


def build_select_table() -> np.ndarray:
    """(8 * 256,) uint8: entry (rank << 8 | byte) = position of the rank-th set bit of byte."""
    table = np.zeros(8 * 256, dtype=np.uint8)
    for byte in range(256):
        ones = [b for b in range(8) if byte >> b & 1]
        for rank, b in enumerate(ones):
            table[(rank << 8) | byte] = b
    return table


@njit(cache=True, inline="always")
def running_bytes(mask: np.uint64) -> np.uint64:
    """Byte j = number of set bits of ``mask`` in bytes 0..j (so byte 7 = its popcount)."""
    s = mask - ((mask >> np.uint64(1)) & _BYTES_55)
    s = (s & _BYTES_33) + ((s >> np.uint64(2)) & _BYTES_33)
    return ((s + (s >> _U4)) & _BYTES_0F) * _BYTES_01


@njit(cache=True, inline="always")
def select_bit(mask: np.uint64, upto: np.uint64, rank: int, select: np.ndarray) -> int:
    """Position of the rank-th (from 0) set bit of ``mask``, rank < popcount, ``upto`` =
    :func:`running_bytes` of it; no loop: the byte that holds the bit by a bytewise compare,
    the bit inside that byte from a table."""
    r = np.uint64(rank)
    # High bit of byte j set iff upto_j <= rank (no borrow: upto_j <= 64 < 0x80).
    before = (((r * _BYTES_01) | _BYTES_80) - upto) & _BYTES_80
    shift = (((before >> np.uint64(7)) * _BYTES_01) >> _U56) * _U8  # 8 * bytes before it
    below = ((upto << _U8) >> shift) & _BYTE  # set bits in those bytes
    inner = (mask >> shift) & _BYTE
    return np.int64(shift) + np.int64(select[((r - below) << _U8) | inner])


@njit(cache=True, inline="always")
def spawn_spot(empty: np.uint64, state: np.uint64, p_four: float, select: np.ndarray) -> tuple:
    """Where and what to spawn on the empty cells ``empty`` (row-major bits, not 0) with the
    draws that follow stream state ``state``: (flat index, exponent, empty cells before).

    Same draws and cell as :func:`spawn_flat`: index among the empty cells, then 2 or 4.
    """
    upto = running_bytes(empty)
    count = np.int64(upto >> _U56)
    pick = below(bits_at(state, 1), count)
    value = 2 if unit(bits_at(state, 2)) < p_four else 1
    return select_bit(empty, upto, pick, select), value, count


@njit(cache=True, inline="always")
def step_cells_nibbles(cells: np.ndarray, i: int, size: int, action: int, state: np.uint64,
                       p_four: float, target_exp: int, tables: tuple,
                       at_least: np.uint64) -> tuple:
    """One step of board ``i`` of ``cells`` (B, N*N) in place, for an ongoing board (no tile
    at the target yet, a move possible) with target_exp <= 15: (gain, changed, status, new rng
    state); status :data:`CHECK_STUCK` means "full after the spawn": the caller settles it
    with :func:`can_move_cells`. ``at_least`` is the uint64 (16 - target_exp) * 0x0101...

    Same results and draws as :func:`step_flat` on such boards (a move that changes nothing
    leaves an ongoing board ongoing), and no branch on random data: the spawn is always
    worked out (on a stand-in cell when nothing moved) and kept or dropped by selects.
    """
    chunk_table, empty_masks, select = tables
    gain, changed, empty, reached = move_cells_nibbles(cells, i, size, action, chunk_table,
                                                       empty_masks, at_least)
    spawn = changed and empty != _U0  # a move that changes the board frees a cell
    spot, value, count = spawn_spot(empty | np.uint64(not spawn), state, p_four, select)
    spot = spot if spawn else 0
    cells[i, spot] = value if spawn else cells[i, spot]
    success = reached or value >= target_exp
    status = SUCCESS if success else (CHECK_STUCK if count == 1 else ONGOING)
    return gain, changed, status if spawn else ONGOING, advanced(state, 2) if spawn else state


@njit(cache=True, inline="always")
def _line_layout(size: int, action: int) -> tuple[int, int, int]:
    """(first cell of line 0, cell stride along a line, stride between lines), no branches."""
    vertical = (action & 1) == 0
    along = size if vertical else 1
    across = 1 if vertical else size
    backward = action >= 2  # down and right start from the far side
    start = (size - 1) * along if backward else 0
    return start, -along if backward else along, across


@njit(cache=True, inline="always")
def _slide_nibbles(line: np.uint64, chunks: int, table: np.ndarray) -> tuple:
    """Slide a nibble line toward nibble 0: (new line, gain, tiles left)."""
    out = _U0
    pos = _U0
    waiting = _U0
    gain = _U0
    for c in range(chunks):
        e = table[(waiting << _U12) | ((line >> np.uint64(12 * c)) & _CHUNK)]
        out |= (e & _CHUNK) << pos
        pos += (e >> _U12) & _NIB
        waiting = (e >> _U16) & _NIB
        gain += e >> _U32
    out |= waiting << pos
    return out, np.int64(gain), np.int64(pos >> np.uint64(2)) + np.int64(waiting != _U0)


@njit(cache=True, inline="always")
def move_cells_nibbles(cells: np.ndarray, i: int, size: int, action: int, table: np.ndarray,
                       empty_masks: np.ndarray, at_least: np.uint64) -> tuple:
    """Slide and merge board ``i`` of ``cells`` (B, N*N) in place, every exponent <= 15:
    (gain, changed, empty-cell mask (row-major bits), whether a tile has at least the exponent
    that ``at_least`` = (16 - exp) * 0x0101... encodes)."""
    start, along, across = _line_layout(size, action)
    chunks = (size + _CHUNK_CELLS - 1) // _CHUNK_CELLS
    gain = 0
    changed = False
    empty = _U0
    reach = _U0
    for line in range(size):
        first = start + line * across
        packed = _U0
        for k in range(size):
            packed |= np.uint64(cells[i, first + k * along]) << np.uint64(4 * k)
        out, g, tiles = _slide_nibbles(packed, chunks, table)
        for k in range(size):
            cells[i, first + k * along] = (out >> np.uint64(4 * k)) & _NIB
        gain += g
        changed |= out != packed
        empty |= empty_masks[action, tiles] << np.uint64(line * across)
        # Even and odd nibbles in separate bytes, so that adding 16 - exp to each carries
        # into bit 4 of a byte exactly where a nibble is >= exp.
        reach |= ((out & _EVEN_NIBS) | (((out >> _U4) & _EVEN_NIBS) << _U32)) + at_least
    return gain, changed, empty, (reach & _BYTES_10) != _U0


@njit(cache=True)
def can_move_cells(cells: np.ndarray, i: int, size: int) -> bool:
    """:func:`can_move_flat` for board ``i`` of ``cells`` (B, N*N); a call of its own (full
    boards are rare), so that its early exits stay out of the callers' hot loops."""
    for r in range(size):
        for c in range(size):
            v = cells[i, r * size + c]
            if v == 0:
                return True
            if c + 1 < size and cells[i, r * size + c + 1] == v:
                return True
            if r + 1 < size and cells[i, (r + 1) * size + c] == v:
                return True
    return False


@njit(cache=True)
def legal_bits_cells(cells: np.ndarray, i: int, size: int) -> int:
    """Bit a set iff action a changes board ``i`` of ``cells`` (B, N*N): the answers of
    :func:`legal_mask_flat` without making a per-board view (views cost reference counts)."""
    bits = 0
    for action in range(4):
        start, along, across = _line_layout(size, action)
        for line in range(size):
            first = start + line * across
            legal = False
            for k in range(size - 1):
                front = cells[i, first + k * along]
                back = cells[i, first + (k + 1) * along]
                if back != 0 and (front == 0 or front == back):
                    legal = True
                    break
            if legal:
                bits |= 1 << action
                break
    return bits
