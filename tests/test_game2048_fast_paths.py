"""The speed tricks of the 2048 kernels against their plain definitions.

Bitboard bit tricks (legal mask, status, spawn position, nibble unpacking) against the
generic kernels on random and adversarial 4x4 boards; the one-call Gymnasium step of the
batch against the bookkeeping step; bad actions rejected before any board moves.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from strategy_gym.envs.game2048 import BatchedBoards, new_game
from strategy_gym.envs.game2048 import bitboard as bb
from strategy_gym.envs.game2048.kernels import legal_mask_flat, spawn_flat, status_flat
from strategy_gym.envs.game2048.rng import seed_states


@njit(cache=True)
def _bit_results(boards, target_exp, rng, out_masks, out_status, out_spawned, out_unpacked):
    words = out_unpacked.reshape(-1).view(np.uint64)
    for i in range(boards.shape[0]):
        x = bb.pack(boards[i])
        bb.legal_mask_bits(x, out_masks[i])
        out_status[i] = bb.status_bits(x, target_exp)
        out_spawned[i] = bb.spawn_bits(x, rng, i, 0.3)
        bb.unpack_words(x, words, 2 * i)


def _boards(count: int, seed: int) -> np.ndarray:
    """Sparse, dense, full and checkerboard (stuck) 4x4 boards with exponents up to 15."""
    rs = np.random.default_rng(seed)
    boards = rs.integers(1, 16, (count, 4, 4))
    boards[: count // 2] = rs.integers(1, 4, (count // 2, 4, 4))  # many equal neighbours
    fill = rs.choice([0.0, 0.1, 0.5, 0.9, 1.0], (count, 1, 1))
    boards[rs.random((count, 4, 4)) >= fill] = 0
    parity = np.add.outer(np.arange(4), np.arange(4)) % 2
    low = rs.integers(1, 14, (count // 10, 1, 1))
    boards[-(count // 10):] = np.where(parity == 0, low, low + 1)
    return boards.astype(np.uint8)


@pytest.mark.parametrize("target_exp", [2, 5, 11, 15])
def test_bit_tricks_match_generic_kernels(target_exp: int) -> None:
    boards = _boards(20_000, seed=target_exp)
    n = boards.shape[0]
    masks, status = np.zeros((n, 4), np.bool_), np.zeros(n, np.int64)
    spawned, unpacked = np.zeros(n, np.uint64), np.zeros_like(boards)
    bit_rng = seed_states(np.arange(n))
    _bit_results(boards, target_exp, bit_rng, masks, status, spawned, unpacked)
    np.testing.assert_array_equal(unpacked, boards)
    flat_rng = seed_states(np.arange(n))
    mask = np.zeros(4, np.bool_)
    for i in range(n):
        flat = boards[i].reshape(-1).copy()
        legal_mask_flat(flat, 4, mask)
        assert masks[i].tolist() == mask.tolist(), boards[i]
        assert status[i] == status_flat(flat, 4, target_exp), boards[i]
        spawn_flat(flat, flat_rng, i, 0.3)
        assert bb.pack(flat.reshape(4, 4)) == spawned[i], boards[i]
    np.testing.assert_array_equal(bit_rng, flat_rng)  # same number of draws
    assert set(status.tolist()) == {0, 1, 2} or target_exp == 2


def test_spawn_on_an_empty_board_matches_generic() -> None:
    rng_bits, rng_flat = seed_states(np.arange(64)), seed_states(np.arange(64))
    for i in range(64):
        x = bb.spawn_bits(np.uint64(0), rng_bits, i, 0.5)
        flat = np.zeros(16, np.uint8)
        spawn_flat(flat, rng_flat, i, 0.5)
        assert bb.pack(flat.reshape(4, 4)) == x


@pytest.mark.parametrize(("size", "fast_path"), [(4, True), (4, False), (5, False)])
def test_gym_step_equals_bookkeeping_step(size: int, fast_path: bool) -> None:
    kwargs = {"size": size, "target": 128, "max_steps": 60, "autoreset": True,
              "fast_path": fast_path}
    gym, plain = BatchedBoards(np.arange(200), **kwargs), BatchedBoards(np.arange(200), **kwargs)
    rs = np.random.default_rng(size)
    ended = 0
    for _ in range(300):
        actions = rs.integers(0, 4, 200)
        obs, rewards, term, trunc, changed, masks, score, max_tile, status, moves = (
            gym.step_gym(actions))
        res = plain.step(actions)
        np.testing.assert_array_equal(obs, plain.boards)
        np.testing.assert_array_equal(rewards, res.gains.astype(np.float64))
        np.testing.assert_array_equal(term, res.terminated)
        np.testing.assert_array_equal(trunc, res.truncated)
        np.testing.assert_array_equal(changed, res.changed)
        np.testing.assert_array_equal(masks, plain.masks.astype(np.int8))
        np.testing.assert_array_equal(score, plain.scores)
        np.testing.assert_array_equal(max_tile, plain.max_tiles())
        np.testing.assert_array_equal(status, plain.status)
        np.testing.assert_array_equal(moves, plain.lengths)
        ended += int(term.sum() + trunc.sum())
    assert ended > 200


def test_bad_actions_are_rejected_before_any_board_moves() -> None:
    batch = BatchedBoards(np.arange(8), size=4)
    before = (batch.boards.copy(), batch.rng.copy())
    for bad in (np.array([0, 1, 2, 3, 4, 0, 1, 2]), np.array([-1] + [0] * 7)):
        with pytest.raises(ValueError, match="0..3"):
            batch.step(bad)
        with pytest.raises(ValueError, match="0..3"):
            batch.step_gym(bad)
    with pytest.raises(ValueError, match="shape"):
        batch.step(np.zeros(7, np.int64))
    with pytest.raises(ValueError, match="integers"):
        batch.step(np.zeros(8, np.float64))
    np.testing.assert_array_equal(batch.boards, before[0])
    np.testing.assert_array_equal(batch.rng, before[1])
    np.testing.assert_array_equal(batch.boards[3], new_game(4, seed=3).board)


@pytest.mark.parametrize("size", [2, 3, 4, 5, 6, 7, 8])
def test_fast_path_games_equal_generic_games_for_every_size(size: int) -> None:
    """Nibble-line tables (sizes != 4) and bitboards (4x4) against the generic kernels:
    same boards, gains, statuses, masks and RNG streams, through resets and truncation,
    on one thread and on the parallel path."""
    for count in (64, BatchedBoards.parallel_min_batch):
        kwargs = {"size": size, "target": 256, "max_steps": 400, "autoreset": True}
        fast = BatchedBoards(np.arange(count), **kwargs)
        generic = BatchedBoards(np.arange(count), **kwargs, fast_path=False)
        assert (fast.uses_bitboard or fast.uses_nibbles) and not generic.uses_nibbles
        rs = np.random.default_rng(size)
        for step in range(120 if count > 64 else 600):
            actions = rs.integers(0, 4, count)
            a, b = fast.step(actions), generic.step(actions)
            if step % 2:
                obs, rewards, *_ = fast.step_gym(actions)
                obs_g, rewards_g, *_ = generic.step_gym(actions)
                np.testing.assert_array_equal(obs, obs_g)
                np.testing.assert_array_equal(rewards, rewards_g)
            else:
                np.testing.assert_array_equal(a.gains, b.gains)
                np.testing.assert_array_equal(a.changed, b.changed)
            np.testing.assert_array_equal(fast.boards, generic.boards)
            np.testing.assert_array_equal(fast.status, generic.status)
            np.testing.assert_array_equal(fast.masks, generic.masks)
            np.testing.assert_array_equal(fast.scores, generic.scores)
        np.testing.assert_array_equal(fast.rng, generic.rng)
        assert fast.lengths.sum() > 0
