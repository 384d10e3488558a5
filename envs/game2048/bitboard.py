"""4x4 fast path: the board as one uint64 (16 nibbles) and 65,536-entry row lookup tables.

Nibble ``4*(4*r + c)`` holds the exponent at row r, column c, so row r is bits 16r..16r+15
and row-major order is nibble order. Valid while every exponent fits a nibble, i.e. for
targets up to 2**15 (the game stops once the target exists). Gives exactly the games of the
generic kernels in :mod:`strategy_gym.envs.game2048.kernels`: same move results, same RNG draw order.

One table entry per (direction, row) packs the moved row (low 16 bits) and the row's merge
gain divided by 4 (high 16 bits; every merge gain is a multiple of 4), so a move is four
loads. Up and down moves go through a nibble transpose. Emptiness, success, failure and
the legal-move mask are bit tricks on the whole board, with no table and no loop.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np
from numba import njit

from .kernels import FAILED, ONGOING, SUCCESS
from .rng import advanced, below, bits_at, next_below, next_unit, unit

MAX_BITBOARD_TARGET_EXP = 15
_LITTLE_ENDIAN = sys.byteorder == "little"

_NIB = np.uint64(0xF)
_ROW = np.uint64(0xFFFF)
_U4, _U12, _U16, _U24, _U32, _U48 = (np.uint64(s) for s in (4, 12, 16, 24, 32, 48))
_U0, _U1, _U2, _U8, _U60 = (np.uint64(s) for s in (0, 1, 2, 8, 60))
_LOW = np.uint64(0x1111111111111111)
_ROW_PAIRS = np.uint64(0x0111011101110111)  # nibbles with a right-hand neighbour
_COL_PAIRS = np.uint64(0x0000111111111111)  # nibbles with a neighbour below
_BYTE_LOW_NIBS = np.uint64(0x0F0F0F0F0F0F0F0F)
_BYTE_ONES = np.uint64(0x0101010101010101)
_BYTE_BIT4 = np.uint64(0x1010101010101010)
_T1 = np.uint64(0xF0F00F0FF0F00F0F)
_T2 = np.uint64(0x0000F0F00000F0F0)
_T3 = np.uint64(0x0F0F00000F0F0000)
_T4 = np.uint64(0xFF00FF0000FF00FF)
_T5 = np.uint64(0x00FF00FF00000000)
_T6 = np.uint64(0x00000000FF00FF00)
_S1 = np.uint64(0x0000FFFF0000FFFF)
_S2 = np.uint64(0x00FF00FF00FF00FF)
_LOW32 = np.uint64(0xFFFFFFFF)


class RowTables(NamedTuple):
    """Per-row results: ``moves[d, row]`` = moved row | (gain // 4) << 16, d = 0 left, 1 right."""

    moves: np.ndarray  # (2, 65536) uint32
    row_max: np.ndarray  # (65536,) uint8: largest exponent in the row


@njit(cache=True)
def _slide_row(cells: np.ndarray) -> tuple[int, int]:
    """Slide 4 exponents toward index 0: (packed nibbles, gain)."""
    out = np.zeros(4, dtype=np.int64)
    n_out = 0
    pending = 0
    gain = 0
    for k in range(4):
        v = cells[k]
        if v == 0:
            continue
        if pending == 0:
            pending = v
        elif pending == v:
            out[n_out] = min(v + 1, 15)  # saturate: unreachable below the target
            gain += 1 << (v + 1)
            n_out += 1
            pending = 0
        else:
            out[n_out] = pending
            n_out += 1
            pending = v
    if pending != 0:
        out[n_out] = pending
    packed = 0
    for c in range(4):
        packed |= out[c] << (4 * c)
    return packed, gain


@njit(cache=True)
def _build_tables(moves: np.ndarray, row_max: np.ndarray) -> None:
    cells = np.zeros(4, dtype=np.int64)
    for row in range(65536):
        for c in range(4):
            cells[c] = (row >> (4 * c)) & 0xF
        row_max[row] = cells.max()
        left, gain = _slide_row(cells)
        moves[0, row] = left | ((gain >> 2) << 16)
        right_reversed, gain = _slide_row(cells[::-1].copy())
        right = 0
        for c in range(4):
            right |= ((right_reversed >> (4 * c)) & 0xF) << (4 * (3 - c))
        moves[1, row] = right | ((gain >> 2) << 16)


def build_row_tables() -> RowTables:
    """Compute the lookup tables (a few ms once compiled)."""
    moves = np.zeros((2, 65536), dtype=np.uint32)
    row_max = np.zeros(65536, dtype=np.uint8)
    _build_tables(moves, row_max)
    return RowTables(moves, row_max)


@njit(cache=True, inline="always")
def transpose(x: np.uint64) -> np.uint64:
    """Transpose the 4x4 nibble matrix (swap nibble pairs, then byte pairs)."""
    a = (x & _T1) | ((x & _T2) << _U12) | ((x & _T3) >> _U12)
    return (a & _T4) | ((a & _T5) >> _U24) | ((a & _T6) << _U24)


@njit(cache=True, inline="always")
def _rows_move(x: np.uint64, moves: np.ndarray, d: int) -> tuple:
    e0 = np.uint64(moves[d, x & _ROW])
    e1 = np.uint64(moves[d, (x >> _U16) & _ROW])
    e2 = np.uint64(moves[d, (x >> _U32) & _ROW])
    e3 = np.uint64(moves[d, x >> _U48])
    out = (e0 & _ROW) | ((e1 & _ROW) << _U16) | ((e2 & _ROW) << _U32) | ((e3 & _ROW) << _U48)
    gain = ((e0 >> _U16) + (e1 >> _U16) + (e2 >> _U16) + (e3 >> _U16)) << _U2
    return out, np.int64(gain)


@njit(cache=True, inline="always")
def move_bits(x: np.uint64, action: int, moves: np.ndarray) -> tuple:
    """Slide and merge a bitboard: (new_bits, gain). Action map 0=W 1=A 2=S 3=D."""
    if action == 1:
        return _rows_move(x, moves, 0)
    if action == 3:
        return _rows_move(x, moves, 1)
    t, g = _rows_move(transpose(x), moves, 0 if action == 0 else 1)
    return transpose(t), g


@njit(cache=True, inline="always")
def _pick(cond: bool, a: np.uint64, b: np.uint64) -> np.uint64:
    """``a if cond else b`` as a mask blend: random conditions must not become branches."""
    m = np.uint64(0) - np.uint64(cond)
    return (a & m) | (b & ~m)


@njit(cache=True, inline="always")
def move_bits_any(x: np.uint64, action: int, moves: np.ndarray) -> tuple:
    """:func:`move_bits` without a branch on the action (random actions mispredict a branch
    most of the time, which costs more than the transposes done for nothing)."""
    vertical = (action & 1) == 0  # 0 up, 2 down: columns become rows
    rows, gain = _rows_move(_pick(vertical, transpose(x), x), moves, action >> 1)
    return _pick(vertical, transpose(rows), rows), gain


@njit(cache=True, inline="always")
def _zero_nibbles(x: np.uint64, low_bits: np.uint64) -> np.uint64:
    """Bit 4k set for every zero nibble k selected by ``low_bits`` (0x1 per nibble)."""
    t = x | (x >> _U1)
    t |= t >> _U2
    return ~t & low_bits


@njit(cache=True, inline="always")
def empty_count(x: np.uint64) -> int:
    if x == _U0:
        return 16
    return int((_zero_nibbles(x, _LOW) * _LOW) >> _U60)  # nibble-wise popcount, < 16 here


@njit(cache=True, inline="always")
def spawn_bits(x: np.uint64, rng: np.ndarray, i: int, p_four: float) -> np.uint64:
    """Spawn on a uniformly chosen empty nibble; same draw order as ``kernels.spawn_flat``.

    The pick-th empty nibble is found without a loop: multiplying the empty-nibble bits by
    0x1111... puts in nibble k the number of empty nibbles up to k, so the chosen one is the
    empty nibble whose running count equals pick + 1 (an unpredictable loop would cost a
    branch miss per spawn).
    """
    if x == _U0:  # 16 empty nibbles: the running count would overflow a nibble
        pick = next_below(rng, i, 16)
        value = np.uint64(2) if next_unit(rng, i) < p_four else _U1
        return value << np.uint64(4 * pick)
    free = _zero_nibbles(x, _LOW)
    empty = int((free * _LOW) >> _U60)  # nibble-wise popcount, < 16 here
    if empty == 0:
        return x
    pick = next_below(rng, i, empty)
    value = np.uint64(2) if next_unit(rng, i) < p_four else _U1
    running = free * _LOW
    spot = _zero_nibbles(running ^ (np.uint64(pick + 1) * _LOW), free)
    return x | (value * spot)


@njit(cache=True, inline="always")
def step_bits(x: np.uint64, action: int, state: np.uint64, p_four: float, target_exp: int,
              moves: np.ndarray) -> tuple:
    """Move, spawn if the board changed, new status, for an ongoing board (it has tiles):
    (new bits, gain, changed, status, new rng state).

    Same results and draws as :func:`move_bits`, :func:`spawn_bits`, :func:`status_bits`.
    The draws are worked out from the state value side by side, and the state is stored
    once by the caller. The branch on the action is replaced by selects (random actions
    would mispredict it most of the time); the one on ``changed`` stays: measured, it costs
    less than building a spawn that is then dropped.
    """
    y, gain = move_bits_any(x, action, moves)
    changed = y != x
    status = ONGOING
    if changed:
        free = _zero_nibbles(y, _LOW)  # y has a tile: at most 15 empty nibbles, no overflow
        running = free * _LOW  # nibble k: empty nibbles up to k
        pick = below(bits_at(state, 1), np.int64(running >> _U60))
        value = _U1 + np.uint64(unit(bits_at(state, 2)) < p_four)
        y |= value * _zero_nibbles(running ^ (np.uint64(pick + 1) * _LOW), free)
        status = status_bits(y, target_exp)
        state = advanced(state, 2)
    return y, gain, changed, status, state


@njit(cache=True, inline="always")
def has_tile_at_least(x: np.uint64, exp: int) -> bool:
    """Some nibble >= exp (1..15): nibble + 16 - exp carries into bit 4 of its byte lane."""
    add = np.uint64(16 - exp) * _BYTE_ONES
    even = (x & _BYTE_LOW_NIBS) + add
    odd = ((x >> _U4) & _BYTE_LOW_NIBS) + add
    return ((even | odd) & _BYTE_BIT4) != _U0


@njit(cache=True, inline="always")
def can_move_bits(x: np.uint64) -> bool:
    """An empty nibble or two equal neighbours in a row or a column."""
    if _zero_nibbles(x, _LOW) != _U0:
        return True
    if _zero_nibbles(x ^ (x >> _U4), _ROW_PAIRS) != _U0:
        return True
    return _zero_nibbles(x ^ (x >> _U16), _COL_PAIRS) != _U0


@njit(cache=True, inline="always")
def max_exp_bits(x: np.uint64, row_max: np.ndarray) -> int:
    top = max(row_max[x & _ROW], row_max[(x >> _U16) & _ROW])
    return int(max(top, max(row_max[(x >> _U32) & _ROW], row_max[x >> _U48])))


@njit(cache=True, inline="always")
def status_bits(x: np.uint64, target_exp: int) -> int:
    if has_tile_at_least(x, target_exp):
        return SUCCESS
    return ONGOING if can_move_bits(x) else FAILED


@njit(cache=True, inline="always")
def legal_bits(x: np.uint64) -> int:
    """Bit a set iff action a (0=W 1=A 2=S 3=D) changes the board.

    A line moves toward a side iff it has an empty cell with a tile behind it (an adjacent
    empty/tile pair suffices) or two equal adjacent tiles.
    """
    empty = _zero_nibbles(x, _LOW)
    tile = ~empty & _LOW
    same_h = _zero_nibbles(x ^ (x >> _U4), _ROW_PAIRS) & tile
    same_v = _zero_nibbles(x ^ (x >> _U16), _COL_PAIRS) & tile
    left = (empty & (tile >> _U4) & _ROW_PAIRS) | same_h
    right = (tile & (empty >> _U4) & _ROW_PAIRS) | same_h
    up = (empty & (tile >> _U16) & _COL_PAIRS) | same_v
    down = (tile & (empty >> _U16) & _COL_PAIRS) | same_v
    return (int(up != _U0) | (int(left != _U0) << 1) | (int(down != _U0) << 2)
            | (int(right != _U0) << 3))


@njit(cache=True, inline="always")
def legal_mask_bits(x: np.uint64, mask: np.ndarray) -> None:
    """mask[a] = True iff action a changes the board."""
    bits = legal_bits(x)
    for a in range(4):
        mask[a] = ((bits >> a) & 1) != 0


@njit(cache=True, inline="always")
def _spread_nibbles(x: np.uint64) -> np.uint64:
    """The 8 nibbles of the low 32 bits of x, one per byte (little-endian order kept)."""
    x &= _LOW32
    x = (x | (x << _U16)) & _S1
    x = (x | (x << _U8)) & _S2
    return (x | (x << _U4)) & _BYTE_LOW_NIBS


@njit(cache=True, inline="always")
def _native_order(x: np.uint64) -> np.uint64:
    """Byte-swap on big-endian machines so that byte k of the word lands at address k."""
    if _LITTLE_ENDIAN:
        return x
    x = ((x & _S2) << _U8) | ((x >> _U8) & _S2)
    x = ((x & _S1) << _U16) | ((x >> _U16) & _S1)
    return (x << _U32) | (x >> _U32)


@njit(cache=True, inline="always")
def board_words(x: np.uint64) -> tuple[np.uint64, np.uint64]:
    """Bitboard -> the 16 exponent bytes of one board, as 2 uint64 (rows 0-1, rows 2-3)."""
    return _native_order(_spread_nibbles(x)), _native_order(_spread_nibbles(x >> _U32))


@njit(cache=True, inline="always")
def unpack_words(x: np.uint64, words: np.ndarray, at: int) -> None:
    """Bitboard -> the 16 exponent bytes of one board, as 2 uint64 at ``words[at:at + 2]``."""
    words[at], words[at + 1] = board_words(x)


@njit(cache=True)
def pack(board: np.ndarray) -> np.uint64:
    """(4, 4) uint8 exponents -> bitboard."""
    x = np.uint64(0)
    for r in range(4):
        for c in range(4):
            x |= np.uint64(board[r, c]) << np.uint64(4 * (4 * r + c))
    return x


@njit(cache=True)
def unpack_into(x: np.uint64, board: np.ndarray) -> None:
    """Bitboard -> (4, 4) uint8 exponents, written into ``board``."""
    for r in range(4):
        for c in range(4):
            board[r, c] = (x >> np.uint64(4 * (4 * r + c))) & _NIB
