"""2048 game rules, input validation, determinism and batches."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from strategy_gym.envs.game2048 import (
    BatchedBoards,
    move_board,
    new_game,
    parse_action,
    reset_batch,
    step_batch,
)


def exps(values: list[list[int]]) -> np.ndarray:
    return np.array([[v.bit_length() - 1 if v else 0 for v in row] for row in values], np.uint8)


def values(board: np.ndarray) -> list[list[int]]:
    return [[1 << int(e) if e else 0 for e in row] for row in board]


@pytest.mark.parametrize(
    ("row", "expected", "gain"),
    [
        ([2, 2, 2, 2], [4, 4, 0, 0], 8),
        ([4, 4, 8, 0], [8, 8, 0, 0], 8),
        ([2, 0, 2, 4], [4, 4, 0, 0], 4),
        ([2, 4, 8, 16], [2, 4, 8, 16], 0),
        ([0, 0, 0, 2], [2, 0, 0, 0], 0),
        ([8, 8, 8, 0], [16, 8, 0, 0], 16),
    ],
)
def test_hand_written_rows_in_every_direction(row, expected, gain) -> None:
    left = exps([row, [0] * 4, [0] * 4, [0] * 4])
    new, got_gain, changed = move_board(left, 1)
    assert values(new)[0] == expected and got_gain == gain and changed == (row != expected)
    # The same row moved right (mirrored), up (transposed) and down.
    new, got_gain, _ = move_board(left[:, ::-1].copy(), 3)
    assert values(new)[0] == expected[::-1] and got_gain == gain
    new, got_gain, _ = move_board(left.T.copy(), 0)
    assert [r[0] for r in values(new)] == expected and got_gain == gain
    new, got_gain, _ = move_board(left.T[::-1].copy(), 2)
    assert [r[0] for r in values(new)] == expected[::-1] and got_gain == gain


def test_move_board_leaves_its_input_alone() -> None:
    board = exps([[2, 2], [4, 0]])
    before = board.copy()
    move_board(board, 1)
    np.testing.assert_array_equal(board, before)


def test_a_move_that_changes_nothing_spawns_nothing() -> None:
    game = new_game(4, seed=3)
    game.board[:] = exps([[2, 4, 2, 4], [0] * 4, [0] * 4, [0] * 4])
    before, rng_before = game.board.copy(), game.rng_state.copy()
    changed, gain = game.step("W")
    assert (changed, gain) == (False, 0)
    np.testing.assert_array_equal(game.board, before)
    np.testing.assert_array_equal(game.rng_state, rng_before)
    assert game.status == "ongoing" and game.steps == 1 and game.moves == 0


def test_success_as_soon_as_the_target_exists() -> None:
    game = new_game(4, target=64, seed=1)
    game.board[:] = exps([[32, 32, 0, 0], [0] * 4, [0] * 4, [0] * 4])
    assert game.step("a") == (True, 64)
    assert game.status == "success" and game.max_tile == 64
    with pytest.raises(ValueError, match="game is over"):
        game.step("A")


def test_failed_when_no_move_changes_the_board() -> None:
    chooser = random.Random(0)
    for seed in range(20):
        game = new_game(2, seed=seed)  # a 2x2 board can never reach 2048
        while game.status == "ongoing":
            game.step(chooser.choice("WASD"))
        assert game.status == "failed" and game.legal_actions() == []
        assert all(v for row in game.board_values() for v in row)


def test_actions_letters_and_integers() -> None:
    assert [parse_action(a) for a in ["W", "a", " s ", "D\n", 0, np.int64(3)]] == [0, 1, 2, 3, 0, 3]
    for bad in ["X", "WA", "", "q", 4, -1, 1.0]:
        with pytest.raises((ValueError, TypeError), match="action"):
            parse_action(bad)
    for bad in [None, True, [0]]:
        with pytest.raises(TypeError, match="action"):
            new_game().step(bad)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 1}, "size"), ({"size": 9}, "size"), ({"size": "4"}, "size"),
        ({"target": 1000}, "power of two"), ({"target": 2}, "power of two"),
        ({"target": 0}, "power of two"), ({"target": 2.0}, "target"), ({"target": 2**70}, "target"),
        ({"p_four": -0.1}, "p_four"), ({"p_four": 1.5}, "p_four"),
        ({"p_four": math.nan}, "p_four"), ({"p_four": "0.1"}, "p_four"),
        ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
    ],
)
def test_invalid_configuration_is_a_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        new_game(**kwargs)


def test_batched_api_rejects_bad_arrays() -> None:
    boards, rng = reset_batch([1, 2, 3], size=5)
    with pytest.raises(ValueError, match="actions"):
        step_batch(boards, rng, [0, 1])
    with pytest.raises(ValueError, match="actions"):
        step_batch(boards, rng, [0, 1, 7])
    with pytest.raises(ValueError, match="rng_states"):
        step_batch(boards, rng[:2], [0, 1, 2])
    with pytest.raises(ValueError, match="boards"):
        step_batch(boards.astype(np.int64), rng, [0, 1, 2])
    with pytest.raises(ValueError, match="target"):
        step_batch(boards, rng, [0, 1, 2], target=100)
    with pytest.raises(ValueError, match="seeds"):
        reset_batch([])


def _played(actions: str, size: int, seed: int) -> tuple:
    game = new_game(size, 2048, 0.1, seed)
    for letter in actions:
        if game.status == "ongoing":
            game.step(letter)
    return game.score, game.max_tile, game.status, game.board.tobytes()


def test_same_seed_same_game_different_seed_different_game() -> None:
    actions = "".join(random.Random(5).choice("WASD") for _ in range(300))
    assert _played(actions, 5, 42) == _played(actions, 5, 42) != _played(actions, 5, 43)
    starts = {new_game(6, seed=s).board.tobytes() for s in range(50)}
    assert len(starts) > 40


def test_game_replay_and_batches_agree_whatever_the_batch() -> None:
    """Seed s plays the same game in a Game, in a fresh Game and at any batch position."""
    size, seeds = 5, [11, 12, 13]
    chooser = random.Random(9)
    actions = [[chooser.randrange(4) for _ in seeds] for _ in range(120)]
    games = [new_game(size, seed=s) for s in seeds]
    letters = ["" for _ in seeds]
    # The same seeds at other positions of a bigger batch, with filler boards around them.
    big_seeds = [99, 13, 98, 12, 97, 11, 96]
    where = {s: big_seeds.index(s) for s in seeds}
    boards, rng = reset_batch(seeds, size)
    big_boards, big_rng = reset_batch(big_seeds, size)
    for step in actions:
        big_actions = [0] * len(big_seeds)
        for k, s in enumerate(seeds):
            big_actions[where[s]] = step[k]
        step_batch(boards, rng, step)
        step_batch(big_boards, big_rng, big_actions)
        for k, s in enumerate(seeds):
            if games[k].status == "ongoing":
                games[k].step(step[k])
                letters[k] += "WASD"[step[k]]
                np.testing.assert_array_equal(boards[k], games[k].board)
                np.testing.assert_array_equal(big_boards[where[s]], games[k].board)
    for k, s in enumerate(seeds):
        assert _played(letters[k], size, s)[:3] == (
            games[k].score, games[k].max_tile, games[k].status)


def test_thread_count_does_not_change_games() -> None:
    import numba

    def run() -> np.ndarray:
        batch = BatchedBoards(np.arange(500), 6, autoreset=True)
        batch.parallel_min_batch = 1  # force the prange kernel
        acts = np.random.default_rng(0).integers(0, 4, (200, 500))
        for a in acts:
            batch.step(a)
        return np.concatenate([batch.boards.reshape(-1), batch.scores])

    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = run()
    finally:
        numba.set_num_threads(default)
    np.testing.assert_array_equal(single, run())
