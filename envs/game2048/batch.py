"""Raw batched 2048 for agents and the vector env: B games stepped in one numba parallel call.

Two layers:

* functions over plain arrays, for any N (generic kernels): ``move_batch`` (no spawn),
  ``reset_batch(seeds, size, p_four) -> (boards, rng_states)`` and
  ``step_batch(boards, rng_states, actions, p_four, target) -> (gains, changed, status)``;
* :class:`BatchedBoards`, which keeps scores, episode lengths and statuses, skips or
  auto-resets ended games, and uses the 4x4 bitboard fast path where it applies.

Each board owns its RNG stream, so a game depends only on its seed and its actions.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import bitboard as bb
from .kernels import (
    ONGOING,
    legal_mask_flat,
    move_flat_inplace,
    reset_flat,
    status_flat,
    step_flat,
)
from .rng import seed_states
from .rules import GameConfig, validate_config, validate_seed

_TABLES = bb.build_row_tables()


def _seed_array(seeds: object) -> np.ndarray:
    if isinstance(seeds, (int, np.integer)):
        seeds = [seeds]
    seeds = list(np.asarray(seeds, dtype=object).reshape(-1))
    if not seeds:
        raise ValueError("seeds must not be empty")
    return seed_states(np.array([validate_seed(s) for s in seeds], dtype=np.uint64))


def _action_array(actions: object, batch: int) -> np.ndarray:
    arr = np.asarray(actions)
    if arr.shape != (batch,):
        raise ValueError(f"actions must have shape ({batch},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"actions must be integers 0..3 (0=W 1=A 2=S 3=D), got dtype {arr.dtype}")
    if batch and (arr.min() < 0 or arr.max() > 3):
        raise ValueError("actions must be integers 0..3 (0=W 1=A 2=S 3=D)")
    return np.ascontiguousarray(arr, dtype=np.int8)


# ---------------------------------------------------------------- plain-array functions


@njit(parallel=True, cache=True)
def _reset_all(boards: np.ndarray, rng: np.ndarray, p_four: float) -> None:
    for i in prange(boards.shape[0]):
        reset_flat(boards[i].reshape(-1), rng, i, p_four)


@njit(parallel=True, cache=True)
def _step_all(boards, rng, actions, p_four, target_exp, gains, changed, status) -> None:
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        g, c, s = step_flat(boards[i].reshape(-1), size, rng, i, actions[i], p_four, target_exp)
        gains[i] = g
        changed[i] = c
        status[i] = s


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
    _step_all(boards, rng_states, acts, cfg.p_four, cfg.target_exp, gains, changed, status)
    return gains, changed, status


@njit(parallel=True, cache=True)
def _move_all_flat(boards, actions, gains, changed) -> None:
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        gains[i], changed[i] = move_flat_inplace(boards[i].reshape(-1), size, actions[i])


@njit(parallel=True, cache=True)
def _move_all_bits(boards, actions, gains, changed, moved, gain_tab) -> None:
    for i in prange(boards.shape[0]):
        x = bb.pack(boards[i])
        y, g = bb.move_bits(x, actions[i], moved, gain_tab)
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
    acts = _action_array(actions, boards.shape[0])
    gains = np.zeros(boards.shape[0], dtype=np.int64)
    changed = np.zeros(boards.shape[0], dtype=np.bool_)
    if fast_path:
        if boards.shape[1] != 4 or (boards.size and boards.max() > bb.MAX_BITBOARD_TARGET_EXP):
            raise ValueError("fast_path needs 4x4 boards with exponents <= 15")
        _move_all_bits(boards, acts, gains, changed, _TABLES.moved, _TABLES.gain)
    else:
        _move_all_flat(boards, acts, gains, changed)
    return boards, gains, changed


# ---------------------------------------------------------------- bookkeeping batch


@njit(parallel=True, cache=True)
def _reset_flat_masked(boards, rng, mask, p_four, target_exp, scores, lengths, status, pending):
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        if mask[i]:
            flat = boards[i].reshape(-1)
            reset_flat(flat, rng, i, p_four)
            scores[i] = 0
            lengths[i] = 0
            status[i] = status_flat(flat, size, target_exp)
            pending[i] = False


@njit(parallel=True, cache=True)
def _reset_bits_masked(bits, rng, mask, p_four, target_exp, scores, lengths, status, pending,
                       row_max):
    for i in prange(bits.shape[0]):
        if mask[i]:
            x = bb.spawn_bits(bb.spawn_bits(np.uint64(0), rng, i, p_four), rng, i, p_four)
            bits[i] = x
            scores[i] = 0
            lengths[i] = 0
            status[i] = bb.status_bits(x, row_max, target_exp)
            pending[i] = False


@njit(parallel=True, cache=True)
def _step_flat_masked(boards, rng, actions, p_four, target_exp, max_steps, autoreset,
                      scores, lengths, status, pending, gains, changed, was_reset,
                      terminated, truncated, masks, want_masks):
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        flat = boards[i].reshape(-1)
        gains[i] = 0
        changed[i] = False
        terminated[i] = False
        truncated[i] = False
        was_reset[i] = False
        if pending[i] and autoreset:
            reset_flat(flat, rng, i, p_four)
            scores[i] = 0
            lengths[i] = 0
            status[i] = status_flat(flat, size, target_exp)
            pending[i] = False
            was_reset[i] = True
        elif status[i] == ONGOING and not pending[i]:
            g, c, s = step_flat(flat, size, rng, i, actions[i], p_four, target_exp)
            gains[i] = g
            changed[i] = c
            status[i] = s
            scores[i] += g
            lengths[i] += 1
            terminated[i] = s != ONGOING
            truncated[i] = s == ONGOING and max_steps > 0 and lengths[i] >= max_steps
            pending[i] = terminated[i] or truncated[i]
        if want_masks:
            legal_mask_flat(flat, size, masks[i])


@njit(parallel=True, cache=True)
def _step_bits_masked(bits, rng, actions, p_four, target_exp, max_steps, autoreset,
                      scores, lengths, status, pending, gains, changed, was_reset,
                      terminated, truncated, masks, want_masks, boards, want_boards,
                      moved, gain_tab, row_max):
    for i in prange(bits.shape[0]):
        x = bits[i]
        gains[i] = 0
        changed[i] = False
        terminated[i] = False
        truncated[i] = False
        was_reset[i] = False
        if pending[i] and autoreset:
            x = bb.spawn_bits(bb.spawn_bits(np.uint64(0), rng, i, p_four), rng, i, p_four)
            scores[i] = 0
            lengths[i] = 0
            status[i] = bb.status_bits(x, row_max, target_exp)
            pending[i] = False
            was_reset[i] = True
        elif status[i] == ONGOING and not pending[i]:
            y, g = bb.move_bits(x, actions[i], moved, gain_tab)
            c = y != x
            if c:
                y = bb.spawn_bits(y, rng, i, p_four)
            s = bb.status_bits(y, row_max, target_exp)
            x = y
            gains[i] = g
            changed[i] = c
            status[i] = s
            scores[i] += g
            lengths[i] += 1
            terminated[i] = s != ONGOING
            truncated[i] = s == ONGOING and max_steps > 0 and lengths[i] >= max_steps
            pending[i] = terminated[i] or truncated[i]
        bits[i] = x
        if want_masks:
            bb.legal_mask_bits(x, moved, masks[i])
        if want_boards:
            bb.unpack_into(x, boards[i])


@njit(parallel=True, cache=True)
def _unpack_all(bits: np.ndarray, boards: np.ndarray) -> None:
    for i in prange(bits.shape[0]):
        bb.unpack_into(bits[i], boards[i])


@njit(parallel=True, cache=True)
def _masks_flat_all(boards: np.ndarray, masks: np.ndarray) -> None:
    size = boards.shape[1]
    for i in prange(boards.shape[0]):
        legal_mask_flat(boards[i].reshape(-1), size, masks[i])


class StepResult:
    """Per-board outputs of one :meth:`BatchedBoards.step` (arrays of length B)."""

    __slots__ = ("gains", "changed", "terminated", "truncated", "was_reset")

    def __init__(self, batch: int) -> None:
        self.gains = np.zeros(batch, dtype=np.int64)
        self.changed = np.zeros(batch, dtype=np.bool_)
        self.terminated = np.zeros(batch, dtype=np.bool_)
        self.truncated = np.zeros(batch, dtype=np.bool_)
        self.was_reset = np.zeros(batch, dtype=np.bool_)


class BatchedBoards:
    """B independent games with scores, lengths and statuses, stepped in one parallel call.

    ``step(actions)`` moves every ongoing board; a board that ends (success, failure or
    ``max_steps`` truncation) is flagged ``pending``. With ``autoreset=True`` a pending board
    is reset by the *next* ``step`` instead of moved (Gymnasium 1.x NEXT_STEP semantics),
    continuing its own RNG stream; otherwise ended boards are left as they are.
    On 4x4 with target <= 2**15 the state lives in 64-bit bitboards (``fast_path``);
    ``boards`` always returns the (B, N, N) uint8 exponents.
    """

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
        self._boards = np.zeros((batch, n, n), dtype=np.uint8)
        self._bits = np.zeros(batch, dtype=np.uint64)
        self._boards_stale = False
        self.scores = np.zeros(batch, dtype=np.int64)
        self.lengths = np.zeros(batch, dtype=np.int64)
        self.status = np.zeros(batch, dtype=np.int8)
        self.pending = np.zeros(batch, dtype=np.bool_)
        self.masks = np.zeros((batch, 4), dtype=np.bool_)
        self._result = StepResult(batch)
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
        args = (self.rng, mask, self.config.p_four, self.config.target_exp,
                self.scores, self.lengths, self.status, self.pending)
        if self.uses_bitboard:
            _reset_bits_masked(self._bits, *args, _TABLES.row_max)
            self._boards_stale = True
        else:
            _reset_flat_masked(self._boards, *args)

    def step(self, actions: object, want_masks: bool = True, want_boards: bool = True
             ) -> StepResult:
        """Step every board once; see the class docstring. Results are reused between calls."""
        acts = _action_array(actions, self.num_boards)
        res = self._result
        common = (acts, self.config.p_four, self.config.target_exp, self.max_steps,
                  self.autoreset, self.scores, self.lengths, self.status, self.pending,
                  res.gains, res.changed, res.was_reset, res.terminated, res.truncated,
                  self.masks, want_masks)
        if self.uses_bitboard:
            _step_bits_masked(self._bits, self.rng, *common, self._boards, want_boards,
                              _TABLES.moved, _TABLES.gain, _TABLES.row_max)
            self._boards_stale = not want_boards
        else:
            _step_flat_masked(self._boards, self.rng, *common)
        return res

    def legal_masks(self) -> np.ndarray:
        """(B, 4) bool: which actions change each board (0=W 1=A 2=S 3=D)."""
        out = np.zeros((self.num_boards, 4), dtype=np.bool_)
        _masks_flat_all(np.ascontiguousarray(self.boards), out)
        return out

    def max_tiles(self) -> np.ndarray:
        """Largest tile value per board (int64)."""
        top = self.boards.reshape(self.num_boards, -1).max(axis=1).astype(np.int64)
        return np.where(top > 0, np.int64(1) << top, 0)
