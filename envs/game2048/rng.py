"""Per-board random numbers: a splitmix64 stream kept in one uint64 per board.

Every board owns its state, so a board's game depends only on its seed, never on its
position in a batch, the batch size or the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # the stream's increment per draw
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SEED_SALT = np.uint64(0x2048204820482048)
_S30, _S27, _S31, _S32, _S11 = (np.uint64(s) for s in (30, 27, 31, 32, 11))
_INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def advanced(state: np.uint64, k: int) -> np.uint64:
    """The stream state after k more draws."""
    return state + np.uint64(k) * _GOLDEN


@njit(cache=True, inline="always")
def bits_at(state: np.uint64, k: int) -> np.uint64:
    """The 64 random bits of the k-th draw (k >= 1) after ``state``, without advancing it.

    Lets a kernel compute a step's draws side by side in registers and store the state once.
    """
    return _mix(advanced(state, k))


@njit(cache=True, inline="always")
def below(bits: np.uint64, n: int) -> int:
    """Random bits -> an int in [0, n) for n < 2**32 (multiply-shift on the high 32 bits)."""
    # np.int64, not int(): numba's int() keeps uint64, and uint64 mixed with signed ints
    # turns into float arithmetic.
    return np.int64(((bits >> _S32) * np.uint64(n)) >> _S32)


@njit(cache=True, inline="always")
def unit(bits: np.uint64) -> float:
    """Random bits -> a float in [0, 1) with 53 random bits."""
    return float(bits >> _S11) * _INV_2_53


@njit(cache=True, inline="always")
def next_u64(rng: np.ndarray, i: int) -> np.uint64:
    """Advance board ``i``'s stream and return 64 random bits."""
    rng[i] += _GOLDEN
    return _mix(rng[i])


@njit(cache=True, inline="always")
def next_below(rng: np.ndarray, i: int, n: int) -> int:
    """A random int in [0, n) for n < 2**32."""
    return below(next_u64(rng, i), n)


@njit(cache=True, inline="always")
def next_unit(rng: np.ndarray, i: int) -> float:
    """A random float in [0, 1) with 53 random bits."""
    return unit(next_u64(rng, i))


@njit(cache=True)
def seed_state(seed: np.uint64) -> np.uint64:
    """The initial stream state for a game seed."""
    return _mix(seed ^ _SEED_SALT)


def seed_states(seeds: np.ndarray | list[int]) -> np.ndarray:
    """Initial states for many seeds (uint64 array)."""
    seeds = np.asarray(seeds, dtype=np.uint64).reshape(-1)
    out = np.empty(seeds.shape[0], dtype=np.uint64)
    for k in range(seeds.shape[0]):
        out[k] = seed_state(seeds[k])
    return out
