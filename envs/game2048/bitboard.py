"""4x4 fast path: the board as one uint64 (16 nibbles) and 65,536-entry row lookup tables.

Nibble ``4*(4*r + c)`` holds the exponent at row r, column c, so row r is bits 16r..16r+15
and row-major order is nibble order. Valid while every exponent fits a nibble, i.e. for
targets up to 2**15 (the game stops once the target exists). Gives exactly the games of the
generic kernels in :mod:`envs.game2048.kernels`: same move results, same RNG draw order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .kernels import FAILED, ONGOING, SUCCESS
from .rng import next_below, next_unit

MAX_BITBOARD_TARGET_EXP = 15

_NIB = np.uint64(0xF)
_ROW = np.uint64(0xFFFF)
_U4, _U12, _U16, _U24, _U32, _U48 = (np.uint64(s) for s in (4, 12, 16, 24, 32, 48))
_U1, _U2, _U60 = np.uint64(1), np.uint64(2), np.uint64(60)
_LOW = np.uint64(0x1111111111111111)
_ROW_PAIRS = np.uint64(0x0111011101110111)  # nibbles with a right-hand neighbour
_COL_PAIRS = np.uint64(0x0000111111111111)  # nibbles with a neighbour below
_T1 = np.uint64(0xF0F00F0FF0F00F0F)
_T2 = np.uint64(0x0000F0F00000F0F0)
_T3 = np.uint64(0x0F0F00000F0F0000)
_T4 = np.uint64(0xFF00FF0000FF00FF)
_T5 = np.uint64(0x00FF00FF00000000)
_T6 = np.uint64(0x00000000FF00FF00)


class RowTables(NamedTuple):
    """Per-row results: ``moved[d, row]`` and ``gain[d, row]`` for d = 0 left, 1 right."""

    moved: np.ndarray  # (2, 65536) uint16
    gain: np.ndarray  # (2, 65536) int64
    row_max: np.ndarray  # (65536,) uint8: largest exponent in the row


@njit(cache=True)
def _build_tables(moved: np.ndarray, gain: np.ndarray, row_max: np.ndarray) -> None:
    cells = np.zeros(4, dtype=np.int64)
    for row in range(65536):
        top = 0
        for c in range(4):
            cells[c] = (row >> (4 * c)) & 0xF
            top = max(top, cells[c])
        row_max[row] = top
        for d in range(2):
            line = cells.copy() if d == 0 else cells[::-1].copy()
            out = np.zeros(4, dtype=np.int64)
            n_out = 0
            pending = 0
            g = 0
            for k in range(4):
                v = line[k]
                if v == 0:
                    continue
                if pending == 0:
                    pending = v
                elif pending == v:
                    out[n_out] = min(v + 1, 15)  # saturate: unreachable below the target
                    g += 1 << (v + 1)
                    n_out += 1
                    pending = 0
                else:
                    out[n_out] = pending
                    n_out += 1
                    pending = v
            if pending != 0:
                out[n_out] = pending
            if d == 1:
                out = out[::-1].copy()
            packed = 0
            for c in range(4):
                packed |= out[c] << (4 * c)
            moved[d, row] = packed
            gain[d, row] = g


def build_row_tables() -> RowTables:
    """Compute the lookup tables (a few ms once compiled)."""
    moved = np.zeros((2, 65536), dtype=np.uint16)
    gain = np.zeros((2, 65536), dtype=np.int64)
    row_max = np.zeros(65536, dtype=np.uint8)
    _build_tables(moved, gain, row_max)
    return RowTables(moved, gain, row_max)


@njit(cache=True, inline="always")
def transpose(x: np.uint64) -> np.uint64:
    """Transpose the 4x4 nibble matrix (swap nibble pairs, then byte pairs)."""
    a = (x & _T1) | ((x & _T2) << _U12) | ((x & _T3) >> _U12)
    return (a & _T4) | ((a & _T5) >> _U24) | ((a & _T6) << _U24)


@njit(cache=True, inline="always")
def _rows_move(x: np.uint64, moved: np.ndarray, gain: np.ndarray, d: int) -> tuple:
    out = np.uint64(0)
    g = 0
    for r in range(4):
        shift = np.uint64(16 * r)
        row = (x >> shift) & _ROW
        out |= np.uint64(moved[d, row]) << shift
        g += gain[d, row]
    return out, g


@njit(cache=True)
def move_bits(x: np.uint64, action: int, moved: np.ndarray, gain: np.ndarray) -> tuple:
    """Slide and merge a bitboard: (new_bits, gain). Action map 0=W 1=A 2=S 3=D."""
    if action == 1:
        return _rows_move(x, moved, gain, 0)
    if action == 3:
        return _rows_move(x, moved, gain, 1)
    t, g = _rows_move(transpose(x), moved, gain, 0 if action == 0 else 1)
    return transpose(t), g


@njit(cache=True, inline="always")
def _zero_nibbles(x: np.uint64, low_bits: np.uint64) -> np.uint64:
    """Bit 4k set for every zero nibble k selected by ``low_bits`` (0x1 per nibble)."""
    t = x | (x >> _U1)
    t |= t >> _U2
    return ~t & low_bits


@njit(cache=True, inline="always")
def empty_count(x: np.uint64) -> int:
    if x == 0:
        return 16
    return int((_zero_nibbles(x, _LOW) * _LOW) >> _U60)  # nibble-wise popcount, < 16 here


@njit(cache=True)
def spawn_bits(x: np.uint64, rng: np.ndarray, i: int, p_four: float) -> np.uint64:
    """Spawn on a uniformly chosen empty nibble; same draw order as ``kernels.spawn_flat``."""
    empty = empty_count(x)
    if empty == 0:
        return x
    pick = next_below(rng, i, empty)
    value = np.uint64(2) if next_unit(rng, i) < p_four else np.uint64(1)
    free = _zero_nibbles(x, _LOW)
    for _ in range(pick):
        free &= free - _U1  # drop the lowest empty nibble
    return x | (value * (free & (~free + _U1)))


@njit(cache=True)
def can_move_bits(x: np.uint64) -> bool:
    """An empty nibble or two equal neighbours in a row or a column."""
    if _zero_nibbles(x, _LOW) != 0:
        return True
    if _zero_nibbles(x ^ (x >> _U4), _ROW_PAIRS) != 0:
        return True
    return _zero_nibbles(x ^ (x >> _U16), _COL_PAIRS) != 0


@njit(cache=True)
def max_exp_bits(x: np.uint64, row_max: np.ndarray) -> int:
    top = 0
    for r in range(4):
        top = max(top, int(row_max[(x >> np.uint64(16 * r)) & _ROW]))
    return top


@njit(cache=True)
def status_bits(x: np.uint64, row_max: np.ndarray, target_exp: int) -> int:
    if max_exp_bits(x, row_max) >= target_exp:
        return SUCCESS
    return ONGOING if can_move_bits(x) else FAILED


@njit(cache=True)
def legal_mask_bits(x: np.uint64, moved: np.ndarray, mask: np.ndarray) -> None:
    """mask[a] = True iff action a changes the board."""
    t = transpose(x)
    for a in range(4):
        src = x if (a == 1 or a == 3) else t
        d = 0 if (a == 0 or a == 1) else 1
        legal = False
        for r in range(4):
            row = (src >> np.uint64(16 * r)) & _ROW
            if moved[d, row] != row:
                legal = True
                break
        mask[a] = legal


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
