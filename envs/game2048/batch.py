"""Raw batched 2048 for agents and the vector env: B games stepped in one numba call.

Two layers:

* functions over plain arrays, for any N (generic kernels): ``move_batch`` (no spawn),
  ``reset_batch(seeds, size, p_four) -> (boards, rng_states)`` and
  ``step_batch(boards, rng_states, actions, p_four, target) -> (gains, changed, status)``;
* :class:`BatchedBoards`, which keeps scores, episode lengths and statuses, skips or
  auto-resets ended games, and uses a fast path where it applies (targets <= 2**15): 4x4
  bitboards, or for other sizes lines of nibbles through a lookup table, compiled per size.

Each board owns its RNG stream, so a game depends only on its seed and its actions.
Every step is one kernel call; it checks the actions itself (before touching any board)
and reports bad ones as a count, turned into a ValueError here.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from . import bitboard as bb
from .kernels import (
    CHECK_STUCK,
    FAILED,
    MAX_NIBBLE_TARGET_EXP,
    ONGOING,
    build_chunk_table,
    build_empty_masks,
    build_select_table,
    can_move_cells,
    legal_bits_cells,
    legal_mask_flat,
    move_flat_inplace,
    reset_flat,
    status_flat,
    step_cells_nibbles,
    step_flat,
    step_flat_top,
)
from .rng import seed_states
from .rules import GameConfig, validate_config, validate_seed

_TABLES = bb.build_row_tables()
_CHUNK_TABLE = build_chunk_table()
_SELECT_TABLE = build_select_table()
_BAD_ACTIONS = "actions must be integers 0..3 (0=W 1=A 2=S 3=D)"


def _seed_array(seeds: object) -> np.ndarray:
    if isinstance(seeds, (int, np.integer)):
        seeds = [seeds]
    seeds = list(np.asarray(seeds, dtype=object).reshape(-1))
    if not seeds:
        raise ValueError("seeds must not be empty")
    return seed_states(np.array([validate_seed(s) for s in seeds], dtype=np.uint64))


def _action_array(actions: object, batch: int) -> np.ndarray:
    """Actions as a C-contiguous int8 or int64 array of shape (B,); range checked in kernels."""
    arr = actions if isinstance(actions, np.ndarray) else np.asarray(actions)
    if arr.shape != (batch,):
        raise ValueError(f"actions must have shape ({batch},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{_BAD_ACTIONS}, got dtype {arr.dtype}")
    if arr.dtype != np.int64 and arr.dtype != np.int8:
        return np.ascontiguousarray(arr, dtype=np.int64)
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


@njit(cache=True)
def _count_bad(actions: np.ndarray) -> int:
    bad = 0
    for i in range(actions.shape[0]):
        bad += (actions[i] < 0) | (actions[i] > 3)
    return bad


def _check_actions(actions: object, batch: int) -> np.ndarray:
    acts = _action_array(actions, batch)
    if _count_bad(acts):
        raise ValueError(_BAD_ACTIONS)
    return acts


# ---------------------------------------------------------------- plain-array functions


@njit(parallel=True, cache=True)
def _reset_all(boards: np.ndarray, rng: np.ndarray, p_four: float) -> None:
    for i in prange(boards.shape[0]):
        reset_flat(boards[i].reshape(-1), rng, i, p_four)


@njit(parallel=True, cache=True)
def _step_all(boards, rng, actions, p_four, target_exp, gains, changed, status) -> int:
    if _count_bad(actions):
        return -1
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        g, c, s = step_flat(boards[i].reshape(-1), size, rng, i, actions[i], p_four, target_exp)
        gains[i] = g
        changed[i] = c
        status[i] = s
    return 0


def reset_batch(seeds: object, size: int = 4, p_four: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """New games: ``boards`` (B, N, N) uint8 exponents and ``rng_states`` (B,) uint64."""
    cfg = validate_config(size, 2048, p_four)
    rng = _seed_array(seeds)
    boards = np.zeros((rng.shape[0], cfg.size, cfg.size), dtype=np.uint8)
    _reset_all(boards, rng, cfg.p_four)
    return boards, rng


def step_batch(
    boards: np.ndarray,
    rng_states: np.ndarray,
    actions: object,
    p_four: float = 0.1,
    target: int = 2048,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move every board (in place), spawn where it changed: (gains, changed, status codes).

    No game-over bookkeeping: callers decide what to do with ended boards (status 1 success,
    2 failed); see :class:`BatchedBoards` for that.
    """
    if not (isinstance(boards, np.ndarray) and boards.dtype == np.uint8 and boards.ndim == 3):
        raise ValueError("boards must be a uint8 array of shape (B, N, N)")
    if boards.shape[1] != boards.shape[2] or not boards.flags.c_contiguous:
        raise ValueError(f"boards must be C-contiguous (B, N, N), got shape {boards.shape}")
    batch = boards.shape[0]
    if not (isinstance(rng_states, np.ndarray) and rng_states.dtype == np.uint64):
        raise ValueError("rng_states must be a uint64 array")
    if rng_states.shape != (batch,):
        raise ValueError(f"rng_states must have shape ({batch},), got {rng_states.shape}")
    cfg = validate_config(boards.shape[1], target, p_four)
    acts = _action_array(actions, batch)
    gains = np.zeros(batch, dtype=np.int64)
    changed = np.zeros(batch, dtype=np.bool_)
    status = np.zeros(batch, dtype=np.int8)
    if _step_all(boards, rng_states, acts, cfg.p_four, cfg.target_exp, gains, changed, status):
        raise ValueError(_BAD_ACTIONS)
    return gains, changed, status


@njit(parallel=True, cache=True)
def _move_all_flat(boards, actions, gains, changed) -> None:
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        gains[i], changed[i] = move_flat_inplace(boards[i].reshape(-1), size, actions[i])


@njit(parallel=True, cache=True)
def _move_all_bits(boards, actions, gains, changed, moves) -> None:
    for i in prange(boards.shape[0]):
        x = bb.pack(boards[i])
        y, g = bb.move_bits(x, actions[i], moves)
        gains[i] = g
        changed[i] = y != x
        bb.unpack_into(y, boards[i])


def move_batch(
    boards: np.ndarray, actions: object, fast_path: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slide and merge copies of B boards (no spawn): (new_boards, gains, changed).

    ``fast_path=True`` uses the 4x4 bitboard tables (4x4 boards, exponents <= 15 only).
    """
    boards = np.array(boards, dtype=np.uint8, order="C", copy=True)
    if boards.ndim != 3 or boards.shape[1] != boards.shape[2]:
        raise ValueError(f"boards must have shape (B, N, N), got {boards.shape}")
    validate_config(boards.shape[1])
    acts = _check_actions(actions, boards.shape[0])
    gains = np.zeros(boards.shape[0], dtype=np.int64)
    changed = np.zeros(boards.shape[0], dtype=np.bool_)
    if fast_path:
        if boards.shape[1] != 4 or (boards.size and boards.max() > bb.MAX_BITBOARD_TARGET_EXP):
            raise ValueError("fast_path needs 4x4 boards with exponents <= 15")
        _move_all_bits(boards, acts, gains, changed, _TABLES.moves)
    else:
        _move_all_flat(boards, acts, gains, changed)
    return boards, gains, changed


# ---------------------------------------------------------------- bookkeeping batch
#
# Per-board state and outputs live in few 2-D arrays (rows are the public 1-D views): a
# kernel that juggles a dozen base pointers spills registers and runs ~50% slower.
#   counters (2, B) int64: scores, lengths     |  flags8 (2, B) int8: status, pending
#   gains (B,) int64                           |  outs (4, B) bool: changed, was_reset,
#                                              |      terminated, truncated
# ``rules`` is the tuple (p_four, target_exp, max_steps, autoreset, nibble lines on/off).

CHANGED, WAS_RESET, TERMINATED, TRUNCATED = 0, 1, 2, 3
CHUNK = 1024  # boards per task of the parallel kernels

# Why the per-board code below is shaped as it is: an array handed to an inlined helper gets
# a numba reference-count pair (two atomic operations), which numba removes again only when
# it can see that the pair is redundant, i.e. when the helper is straight-line code. Left in
# a loop they cost more than the whole 4x4 step (measured: 32 vs 11 ns a board). So the hot
# path reads and writes the arrays itself or through straight-line helpers, the board logic
# works on plain values (the RNG state goes in and out as a value), and the rare cases (a
# board that ended or waits for its restart, a full board) run in functions of their own.


@njit(cache=True, inline="always")
def _book_moved(i, gain, changed, status, max_steps, counters, flags8, outs) -> None:
    """Record a step of an ongoing board (straight-line: see above)."""
    counters[0, i] += gain
    length = counters[1, i] + 1
    counters[1, i] = length
    ended = status != ONGOING
    cut = (not ended) & (max_steps > 0) & (length >= max_steps)  # no branches
    flags8[0, i] = status
    flags8[1, i] = ended | cut
    outs[CHANGED, i] = changed
    outs[WAS_RESET, i] = False
    outs[TERMINATED, i] = ended
    outs[TRUNCATED, i] = cut


@njit(cache=True, inline="always")
def _book_still(i, restarted, outs) -> None:
    """Flags of a board that did not move: it restarted, or it stays as it ended."""
    outs[CHANGED, i] = False
    outs[WAS_RESET, i] = restarted
    outs[TERMINATED, i] = False
    outs[TRUNCATED, i] = False


@njit(cache=True, inline="always")
def _restart_board(i, new_status, counters, flags8) -> None:
    counters[0, i] = 0
    counters[1, i] = 0
    flags8[0, i] = new_status
    flags8[1, i] = False


@njit(cache=True)
def _settle_bits(i, bits, rng, counters, flags8, outs, p_four, target_exp, autoreset) -> None:
    """A bitboard that is not ongoing: restarted if it ended last step and ``autoreset`` is
    on, left as it is otherwise (its status and pending flag unchanged)."""
    restart = autoreset and flags8[1, i] != 0
    if restart:
        x = bb.spawn_bits(bb.spawn_bits(np.uint64(0), rng, i, p_four), rng, i, p_four)
        bits[i] = x
        _restart_board(i, bb.status_bits(x, target_exp), counters, flags8)
    _book_still(i, restart, outs)


@njit(cache=True)
def _settle_flat(i, cells, size, rng, counters, flags8, outs, p_four, target_exp,
                 autoreset) -> None:
    """:func:`_settle_bits` for board ``i`` of ``cells`` (B, N*N)."""
    restart = autoreset and flags8[1, i] != 0
    if restart:
        flat = cells[i]
        reset_flat(flat, rng, i, p_four)
        _restart_board(i, status_flat(flat, size, target_exp), counters, flags8)
    _book_still(i, restart, outs)


@njit(cache=True)
def _step_generic(cells, i, size, action, rng, p_four, target_exp) -> tuple:
    """The generic kernel's step of board ``i``: (gain, changed, status, largest exponent)."""
    return step_flat_top(cells[i], size, rng, i, action, p_four, target_exp)


@njit(cache=True, inline="always")
def _put_mask(masks, i, legal) -> None:
    for a in range(4):
        masks[i, a] = (legal >> a) & 1


@njit(cache=True, inline="always")
def _step_cells(cells, i, size, action, rng, p_four, target_exp, tables, at_least) -> tuple:
    """One step of an ongoing N x N board in place, nibble lines: (gain, changed, status)."""
    gain, changed, status, state = step_cells_nibbles(cells, i, size, action, rng[i], p_four,
                                                      target_exp, tables, at_least)
    rng[i] = state
    return gain, changed, status


# Each kernel below runs the boards lo..hi in one non-inlined function (the per-board code
# is inlined into it). The parallel drivers hand out chunks of CHUNK boards one at a time
# to whichever thread is free, so a descheduled thread on a busy machine does not hold the
# other up. (Inlining board code straight into a prange loop makes numba drop writes to
# arrays taken out of tuples; a call per board costs more than the board.)


@njit(cache=True)
def _bits_range(lo, hi, bits, actions, rng, counters, flags8, rules, gains, outs, masks,
                want_masks, words, moves):
    p_four, target_exp, max_steps, autoreset, _ = rules
    for i in range(lo, hi):
        if flags8[1, i] or flags8[0, i] != ONGOING:
            gains[i] = 0
            _settle_bits(i, bits, rng, counters, flags8, outs, p_four, target_exp, autoreset)
        else:
            x, gain, changed, status, state = bb.step_bits(
                bits[i], actions[i], rng[i], p_four, target_exp, moves)
            bits[i] = x
            rng[i] = state
            gains[i] = gain
            _book_moved(i, gain, changed, status, max_steps, counters, flags8, outs)
        if want_masks:
            _put_mask(masks, i, bb.legal_bits(bits[i]))
        if words.shape[0]:
            words[2 * i], words[2 * i + 1] = bb.board_words(bits[i])


@njit(parallel=True, cache=True)
def _step_bits_par(bits, actions, rng, counters, flags8, rules, gains, outs, masks,
                   want_masks, words, moves) -> int:
    if _count_bad(actions):
        return -1
    n = bits.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        _bits_range(c * CHUNK, min(n, c * CHUNK + CHUNK), bits, actions, rng, counters, flags8,
                    rules, gains, outs, masks, want_masks, words, moves)
    return 0


@njit(cache=True)
def _step_bits_serial(bits, actions, rng, counters, flags8, rules, gains, outs, masks,
                      want_masks, words, moves) -> int:
    if _count_bad(actions):
        return -1
    _bits_range(0, bits.shape[0], bits, actions, rng, counters, flags8, rules, gains, outs,
                masks, want_masks, words, moves)
    return 0


def _size_token(size: int) -> tuple[int, ...]:
    """A tuple of ``size`` zeros for the N x N kernels: its type, UniTuple(int64, N), makes
    numba compile them once per board size with N a constant (``len(lines)``), so that the
    per-line loops unroll. The same code with N only known at run time runs half as fast
    (LLVM vectorizes the 6-cell loops, badly). Only the sizes in use get compiled."""
    return (0,) * size


@njit(cache=True, inline="always")
def _nibble_reach(target_exp) -> np.uint64:
    """The constant of :func:`move_cells_nibbles` that flags tiles >= target_exp (<= 15)."""
    return np.uint64(max(16 - target_exp, 1)) * np.uint64(0x0101010101010101)


# _flat_range and _gym_flat_range repeat the "move one ongoing board" branch on purpose:
# folding it into a helper that takes the arrays brings back numba's per-board reference
# counting, which cost 3x (benchmarks/bench_2048.py).
@njit(cache=True)
def _flat_range(lo, hi, boards, actions, rng, counters, flags8, rules, gains, outs, masks,
                want_masks, tables, lines):
    p_four, target_exp, max_steps, autoreset, nibbles = rules
    size = len(lines)  # a compile-time constant: see _size_token
    cells = boards.reshape(boards.shape[0], size * size)
    at_least = _nibble_reach(target_exp)
    for i in range(lo, hi):
        if flags8[1, i] or flags8[0, i] != ONGOING:
            gains[i] = 0
            _settle_flat(i, cells, size, rng, counters, flags8, outs, p_four, target_exp,
                         autoreset)
        else:
            if nibbles:
                gain, changed, status = _step_cells(cells, i, size, actions[i], rng, p_four,
                                                    target_exp, tables, at_least)
                if status == CHECK_STUCK:
                    status = ONGOING if can_move_cells(cells, i, size) else FAILED
            else:
                gain, changed, status, _ = _step_generic(cells, i, size, actions[i], rng,
                                                         p_four, target_exp)
            gains[i] = gain
            _book_moved(i, gain, changed, status, max_steps, counters, flags8, outs)
        if want_masks:
            _put_mask(masks, i, legal_bits_cells(cells, i, size))


@njit(parallel=True, cache=True)
def _step_flat_par(boards, actions, rng, counters, flags8, rules, gains, outs, masks,
                   want_masks, tables, lines) -> int:
    if _count_bad(actions):
        return -1
    n = boards.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        _flat_range(c * CHUNK, min(n, c * CHUNK + CHUNK), boards, actions, rng, counters,
                    flags8, rules, gains, outs, masks, want_masks, tables, lines)
    return 0


@njit(cache=True)
def _step_flat_serial(boards, actions, rng, counters, flags8, rules, gains, outs, masks,
                      want_masks, tables, lines) -> int:
    if _count_bad(actions):
        return -1
    _flat_range(0, boards.shape[0], boards, actions, rng, counters, flags8, rules, gains, outs,
                masks, want_masks, tables, lines)
    return 0


# Gymnasium step: every returned array is fresh and written by the kernel (no copies):
# obs (B, N, N) uint8, rewards (B,) float64, outs (5, B) int8 (changed, was_reset,
# terminated, truncated as 0/1, then status), masks (B, 4) int8, ints (3, B) int64 (score,
# max_tile, moves).


@njit(cache=True, inline="always")
def _gym_extras(i, top, counters, flags8, outs, ints):
    ints[0, i] = counters[0, i]
    ints[1, i] = (1 << top) if top > 0 else 0
    ints[2, i] = counters[1, i]
    outs[4, i] = flags8[0, i]


@njit(cache=True)
def _gym_bits_range(lo, hi, bits, actions, rng, counters, flags8, rules, obs, rewards, outs,
                    masks, ints, moves, row_max):
    words = obs.reshape(-1).view(np.uint64)
    p_four, target_exp, max_steps, autoreset, _ = rules
    for i in range(lo, hi):
        if flags8[1, i] or flags8[0, i] != ONGOING:
            rewards[i] = 0
            _settle_bits(i, bits, rng, counters, flags8, outs, p_four, target_exp, autoreset)
        else:
            x, gain, changed, status, state = bb.step_bits(
                bits[i], actions[i], rng[i], p_four, target_exp, moves)
            bits[i] = x
            rng[i] = state
            rewards[i] = gain
            _book_moved(i, gain, changed, status, max_steps, counters, flags8, outs)
        x = bits[i]
        _gym_extras(i, bb.max_exp_bits(x, row_max), counters, flags8, outs, ints)
        _put_mask(masks, i, bb.legal_bits(x))
        words[2 * i], words[2 * i + 1] = bb.board_words(x)


@njit(parallel=True, cache=True)
def _gym_bits_par(bits, actions, rng, counters, flags8, rules, obs, rewards, outs, masks, ints,
                  moves, row_max) -> int:
    if _count_bad(actions):
        return -1
    n = bits.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        _gym_bits_range(c * CHUNK, min(n, c * CHUNK + CHUNK), bits, actions, rng, counters,
                        flags8, rules, obs, rewards, outs, masks, ints, moves, row_max)
    return 0


@njit(cache=True)
def _gym_bits_serial(bits, actions, rng, counters, flags8, rules, obs, rewards, outs, masks,
                     ints, moves, row_max) -> int:
    if _count_bad(actions):
        return -1
    _gym_bits_range(0, bits.shape[0], bits, actions, rng, counters, flags8, rules, obs, rewards,
                    outs, masks, ints, moves, row_max)
    return 0


@njit(cache=True)
def _gym_flat_range(lo, hi, boards, actions, rng, counters, flags8, rules, obs, rewards, outs,
                    masks, ints, tables, lines):
    p_four, target_exp, max_steps, autoreset, nibbles = rules
    size = len(lines)  # a compile-time constant: see _size_token
    area = size * size
    cells = boards.reshape(boards.shape[0], area)
    obs_cells = obs.reshape(obs.shape[0], area)
    at_least = _nibble_reach(target_exp)
    for i in range(lo, hi):
        if flags8[1, i] or flags8[0, i] != ONGOING:
            rewards[i] = 0
            _settle_flat(i, cells, size, rng, counters, flags8, outs, p_four, target_exp,
                         autoreset)
        else:
            if nibbles:
                gain, changed, status = _step_cells(cells, i, size, actions[i], rng, p_four,
                                                    target_exp, tables, at_least)
                if status == CHECK_STUCK:
                    status = ONGOING if can_move_cells(cells, i, size) else FAILED
            else:
                gain, changed, status, _ = _step_generic(cells, i, size, actions[i], rng,
                                                         p_four, target_exp)
            rewards[i] = gain
            _book_moved(i, gain, changed, status, max_steps, counters, flags8, outs)
        top = 0
        for k in range(area):
            v = cells[i, k]
            obs_cells[i, k] = v
            top = max(top, int(v))
        _gym_extras(i, top, counters, flags8, outs, ints)
        _put_mask(masks, i, legal_bits_cells(cells, i, size))


@njit(parallel=True, cache=True)
def _gym_flat_par(boards, actions, rng, counters, flags8, rules, obs, rewards, outs, masks,
                  ints, tables, lines) -> int:
    if _count_bad(actions):
        return -1
    n = boards.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        _gym_flat_range(c * CHUNK, min(n, c * CHUNK + CHUNK), boards, actions, rng, counters,
                        flags8, rules, obs, rewards, outs, masks, ints, tables, lines)
    return 0


@njit(cache=True)
def _gym_flat_serial(boards, actions, rng, counters, flags8, rules, obs, rewards, outs, masks,
                     ints, tables, lines) -> int:
    if _count_bad(actions):
        return -1
    _gym_flat_range(0, boards.shape[0], boards, actions, rng, counters, flags8, rules, obs,
                    rewards, outs, masks, ints, tables, lines)
    return 0


@njit(cache=True)
def _reset_flat_range(lo, hi, boards, mask, rng, counters, flags8, p_four, target_exp) -> None:
    for i in range(lo, hi):
        if mask[i]:
            flat = boards[i].reshape(-1)
            reset_flat(flat, rng, i, p_four)
            _restart_board(i, status_flat(flat, boards.shape[1], target_exp), counters, flags8)


@njit(parallel=True, cache=True)
def _reset_flat_masked(boards, mask, rng, counters, flags8, p_four, target_exp) -> None:
    n = boards.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        _reset_flat_range(c * CHUNK, min(n, c * CHUNK + CHUNK), boards, mask, rng, counters,
                          flags8, p_four, target_exp)


@njit(cache=True)
def _reset_bits_range(lo, hi, bits, mask, rng, counters, flags8, p_four, target_exp) -> None:
    for i in range(lo, hi):
        if mask[i]:
            x = bb.spawn_bits(bb.spawn_bits(np.uint64(0), rng, i, p_four), rng, i, p_four)
            bits[i] = x
            _restart_board(i, bb.status_bits(x, target_exp), counters, flags8)


@njit(parallel=True, cache=True)
def _reset_bits_masked(bits, mask, rng, counters, flags8, p_four, target_exp) -> None:
    n = bits.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        _reset_bits_range(c * CHUNK, min(n, c * CHUNK + CHUNK), bits, mask, rng, counters,
                          flags8, p_four, target_exp)


@njit(parallel=True, cache=True)
def _unpack_all(bits: np.ndarray, boards: np.ndarray) -> None:
    words = boards.reshape(-1).view(np.uint64)
    for i in prange(bits.shape[0]):
        bb.unpack_words(bits[i], words, 2 * i)


@njit(parallel=True, cache=True)
def _masks_flat_all(boards: np.ndarray, masks: np.ndarray) -> None:
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        legal_mask_flat(boards[i].reshape(-1), size, masks[i])


class StepResult:
    """Per-board outputs of one :meth:`BatchedBoards.step` (arrays of length B)."""

    __slots__ = ("gains", "changed", "terminated", "truncated", "was_reset", "outs")

    def __init__(self, batch: int) -> None:
        self.gains = np.zeros(batch, dtype=np.int64)
        self.outs = np.zeros((4, batch), dtype=np.bool_)  # rows: CHANGED, WAS_RESET, ...
        self.changed, self.was_reset, self.terminated, self.truncated = self.outs


class BatchedBoards:
    """B independent games with scores, lengths and statuses, stepped in one kernel call.

    ``step(actions)`` moves every ongoing board; a board that ends (success, failure or
    ``max_steps`` truncation) is flagged ``pending``. With ``autoreset=True`` a pending board
    is reset by the *next* ``step`` instead of moved (Gymnasium 1.x NEXT_STEP semantics),
    continuing its own RNG stream; otherwise ended boards are left as they are.
    With ``fast_path`` and target <= 2**15, 4x4 state lives in 64-bit bitboards and other
    sizes step through nibble-line tables (``uses_bitboard``, ``uses_nibbles``; same games as
    the generic kernels); ``boards`` always returns the (B, N, N) uint8 exponents. Batches
    smaller than ``parallel_min_batch`` step on one thread: starting the thread pool costs
    more than it saves there (much more on a loaded machine). ``scores``, ``lengths``, ``status`` and ``pending``
    are views of two small 2-D arrays (see the kernels' comment). On a shared machine run with
    ``OMP_WAIT_POLICY=PASSIVE`` (or ``NUMBA_THREADING_LAYER=workqueue``): numba's default
    OpenMP pool spin-waits and then two threads run slower than one.
    """

    parallel_min_batch = 4096

    def __init__(
        self,
        seeds: object,
        size: int = 4,
        target: int = 2048,
        p_four: float = 0.1,
        max_steps: int | None = None,
        autoreset: bool = False,
        fast_path: bool = True,
    ) -> None:
        self.config: GameConfig = validate_config(size, target, p_four)
        if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
            raise ValueError(f"max_steps must be a positive int or None, got {max_steps!r}")
        self.max_steps = max_steps or 0
        self.autoreset = bool(autoreset)
        self.rng = _seed_array(seeds)
        batch = self.rng.shape[0]
        n = self.config.size
        self.uses_bitboard = bool(
            fast_path and n == 4 and self.config.target_exp <= bb.MAX_BITBOARD_TARGET_EXP
        )
        # Other sizes: lines of nibbles through table lookups while exponents fit a nibble.
        self.uses_nibbles = bool(
            fast_path and not self.uses_bitboard
            and self.config.target_exp <= MAX_NIBBLE_TARGET_EXP
        )
        self._tables = (_CHUNK_TABLE, build_empty_masks(n), _SELECT_TABLE)
        self._lines = _size_token(n)
        self._boards = np.zeros((batch, n, n), dtype=np.uint8)
        self._bits = np.zeros(batch, dtype=np.uint64)
        self._boards_stale = False
        self._counters = np.zeros((2, batch), dtype=np.int64)
        self._flags8 = np.zeros((2, batch), dtype=np.int8)
        self.scores, self.lengths = self._counters
        self.status = self._flags8[0]
        self.pending = self._flags8[1].view(np.bool_)
        self.masks = np.zeros((batch, 4), dtype=np.bool_)
        self._result = StepResult(batch)
        self._no_words = np.zeros(0, dtype=np.uint64)
        self._rules = (self.config.p_four, self.config.target_exp, self.max_steps,
                       self.autoreset, self.uses_nibbles)
        self.reset()

    @property
    def num_boards(self) -> int:
        return self.rng.shape[0]

    @property
    def boards(self) -> np.ndarray:
        """The (B, N, N) uint8 exponent boards (do not write to it)."""
        if self._boards_stale:
            _unpack_all(self._bits, self._boards)
            self._boards_stale = False
        return self._boards

    def reset(self, seeds: object = None, mask: np.ndarray | None = None) -> None:
        """Start new games on the boards in ``mask`` (all by default), reseeding if given."""
        mask = np.ones(self.num_boards, np.bool_) if mask is None else np.asarray(mask, np.bool_)
        if mask.shape != (self.num_boards,):
            raise ValueError(f"mask must have shape ({self.num_boards},), got {mask.shape}")
        if seeds is not None:
            states = _seed_array(seeds)
            if states.shape[0] != int(mask.sum()):
                raise ValueError(f"got {states.shape[0]} seeds for {int(mask.sum())} boards")
            self.rng[mask] = states
        args = (mask, self.rng, self._counters, self._flags8, self.config.p_four,
                self.config.target_exp)
        if self.uses_bitboard:
            _reset_bits_masked(self._bits, *args)
            self._boards_stale = True
        else:
            _reset_flat_masked(self._boards, *args)

    def _run(self, serial, parallel, *args) -> int:
        """Run the serial kernel, or the parallel one handing out its chunks one at a time."""
        if self.num_boards < self.parallel_min_batch:
            return serial(*args)
        previous = numba.set_parallel_chunksize(1)  # thread-local; kept out of the kernel:
        try:  # calling it from jitted code would make the kernel uncacheable
            return parallel(*args)
        finally:
            numba.set_parallel_chunksize(previous)

    def step(self, actions: object, want_masks: bool = True, want_boards: bool = True
             ) -> StepResult:
        """Step every board once; see the class docstring. Results are reused between calls.

        ``want_masks`` refreshes ``masks``; ``want_boards=False`` lets the bitboard path skip
        writing the uint8 boards until ``boards`` is read.
        """
        acts = _action_array(actions, self.num_boards)
        res = self._result
        common = (acts, self.rng, self._counters, self._flags8, self._rules, res.gains, res.outs,
                  self.masks, want_masks)
        if self.uses_bitboard:
            words = self._boards.reshape(-1).view(np.uint64) if want_boards else self._no_words
            bad = self._run(_step_bits_serial, _step_bits_par, self._bits, *common, words,
                            _TABLES.moves)
            self._boards_stale = not want_boards
        else:
            bad = self._run(_step_flat_serial, _step_flat_par, self._boards, *common,
                            self._tables, self._lines)
        if bad:
            raise ValueError(_BAD_ACTIONS)
        return res

    def step_gym(self, actions: object) -> tuple:
        """One step for Gymnasium, every array fresh (callers may keep them): (obs, rewards
        (float64 gains), terminated, truncated, changed, action_mask (B, 4) int8, score,
        max_tile, status, moves)."""
        acts = _action_array(actions, self.num_boards)
        batch, n = self.num_boards, self.config.size
        obs = np.empty((batch, n, n), np.uint8)
        rewards = np.empty(batch, np.float64)
        outs = np.empty((5, batch), np.int8)
        masks = np.empty((batch, 4), np.int8)
        ints = np.empty((3, batch), np.int64)
        common = (acts, self.rng, self._counters, self._flags8, self._rules, obs, rewards, outs,
                  masks, ints)
        if self.uses_bitboard:
            bad = self._run(_gym_bits_serial, _gym_bits_par, self._bits, *common, _TABLES.moves,
                            _TABLES.row_max)
            self._boards_stale = True
        else:
            bad = self._run(_gym_flat_serial, _gym_flat_par, self._boards, *common,
                            self._tables, self._lines)
        if bad:
            raise ValueError(_BAD_ACTIONS)
        score, max_tile, moves = ints
        flags = outs[:4].view(np.bool_)
        return (obs, rewards, flags[TERMINATED], flags[TRUNCATED], flags[CHANGED], masks, score,
                max_tile, outs[4], moves)

    def legal_masks(self) -> np.ndarray:
        """(B, 4) bool: which actions change each board (0=W 1=A 2=S 3=D)."""
        out = np.zeros((self.num_boards, 4), dtype=np.bool_)
        _masks_flat_all(np.ascontiguousarray(self.boards), out)
        return out

    def max_tiles(self) -> np.ndarray:
        """Largest tile value per board (int64)."""
        top = self.boards.reshape(self.num_boards, -1).max(axis=1).astype(np.int64)
        return np.where(top > 0, np.int64(1) << top, 0)
