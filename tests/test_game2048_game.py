"""2048 game rules, input validation, trusted replay and the sandbox strategy runner."""

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
    replay,
    reset_batch,
    step_batch,
)
from strategy_gym.envs.game2048.strategy_runner import play
from strategy_gym.sandbox.errors import InvalidAction


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


def test_same_seed_same_game_different_seed_different_game() -> None:
    actions = "".join(random.Random(5).choice("WASD") for _ in range(300))
    assert replay(actions, 5, 2048, 0.1, 42) == replay(actions, 5, 2048, 0.1, 42)
    starts = {new_game(6, seed=s).board.tobytes() for s in range(50)}
    assert len(starts) > 40


def test_game_replay_and_batches_agree_whatever_the_batch() -> None:
    """Seed s plays the same game alone, in a Game, in a replay and at any batch position."""
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
        result = replay(letters[k], size, 2048, 0.1, s)
        assert (result.score, result.max_tile, result.status) == (
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


def test_replay_outcomes() -> None:
    ongoing = replay("WASD", 4, 2048, 0.1, 0)
    assert ongoing.status == "ongoing" and ongoing.ended_by == "actions_exhausted"
    assert ongoing.actions_applied == 4
    capped = replay("WASD" * 10, 4, 2048, 0.1, 0, max_moves=7)
    assert capped.actions_applied == 7 and capped.ended_by == "max_moves"
    bad = replay("WAxSD", 4, 2048, 0.1, 0)
    assert (bad.status, bad.ended_by, bad.actions_applied) == ("failed", "invalid_action", 2)
    assert replay("wasd", 4, 2048, 0.1, 0) == ongoing
    assert replay("WASDé", 4, 2048, 0.1, 0).ended_by == "invalid_action"
    with pytest.raises(TypeError, match="actions"):
        replay(["W"], 4, 2048, 0.1, 0)
    with pytest.raises(ValueError, match="max_moves"):
        replay("W", 4, 2048, 0.1, 0, max_moves=-1)
    won = replay("A", 4, 4, 1.0, 0)  # with p_four = 1 the starting tiles are 4s: won at once
    assert won.status == "success" and won.actions_applied == 0 and won.ended_by == "success"


def _corner_strategy(board):
    for letter in "ASDW":  # a stdlib-only strategy: first legal of left, down, right, up
        if letter in _legal(board):
            return letter
    return "W"


def _legal(board):
    game = new_game(len(board))
    game.board[:] = exps(board)
    return game.legal_actions()


def test_runner_actions_replay_to_the_played_game() -> None:
    payload = {"size": 4, "target": 256, "p_four": 0.1, "seed": 17, "max_moves": 3000}
    out = play(_corner_strategy, payload)
    assert set(out) == {"actions", "stalled"} and out["stalled"] is False
    result = replay(out["actions"], 4, 256, 0.1, 17, max_moves=3000)
    assert result.status in ("success", "failed") and result.actions_applied == len(out["actions"])
    game = new_game(4, 256, 0.1, 17)
    for letter in out["actions"]:
        game.step(letter)
    assert (game.score, game.status) == (result.score, result.status)


def test_runner_stops_a_stalling_strategy_and_caps_moves() -> None:
    out = play(lambda board: "W", {"size": 4, "seed": 1, "stall_limit": 5})
    assert out["stalled"] is True and out["actions"].endswith("WWWWW")
    capped = play(lambda board: "a", {"size": 6, "seed": 1, "max_moves": 30, "stall_limit": 99})
    assert len(capped["actions"]) <= 30 and set(capped["actions"]) == {"A"}


def test_runner_gives_a_fresh_board_each_turn() -> None:
    seen = []

    def vandal(board):
        seen.append([row[:] for row in board])
        board[0][0] = 2048  # mutating the input must not touch the game
        board.append([1])
        return "WASD"[len(seen) % 4]

    out = play(vandal, {"size": 4, "seed": 3, "max_moves": 20})
    result = replay(out["actions"], 4, 2048, 0.1, 3)
    assert result.max_tile < 2048 and all(len(b) == 4 for b in seen)
    game = new_game(4, seed=3)
    for k, letter in enumerate(out["actions"]):
        assert seen[k] == game.board_values()
        game.step(letter)


@pytest.mark.parametrize("bad", [None, 1, "X", "up", ["W"], ""])
def test_runner_raises_invalid_action(bad) -> None:
    with pytest.raises(InvalidAction):
        play(lambda board: bad, {"size": 4, "seed": 0})
