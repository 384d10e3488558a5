"""Expectimax on the raw kernels: legal, deterministic, replayable, strong."""

import numpy as np
import pytest

from strategy_gym.agents.expectimax import _new_stack_jit as new_stack
from strategy_gym.agents.expectimax import (
    best_action,
    board_heuristic,
    heuristic_tables,
    play_games,
)
from strategy_gym.envs.game2048 import new_game

SEEDS = [10_000_000 + k for k in range(4)]


def test_games_step_the_same_on_a_fresh_game():
    games = play_games(SEEDS, size=4, target=512, depth=1)
    for game in games:
        fresh = new_game(4, 512, 0.1, game.seed)
        for letter in game.actions:
            fresh.step(letter)
        assert (fresh.status, fresh.score, fresh.max_tile, fresh.moves) == (
            game.status, game.score, game.max_tile, game.moves,
        )  # fmt: skip
    assert [g.status for g in games] == ["success"] * 4


def test_same_seeds_same_games():
    first = play_games(SEEDS[:2], size=5, target=256, depth=1)
    again = play_games(SEEDS[:2], size=5, target=256, depth=1)
    assert first == again
    assert play_games(SEEDS[:1], size=5, target=256, depth=1) == first[:1]


def test_search_takes_the_only_legal_move_and_reports_none():
    tables = heuristic_tables(4)
    # Rows packed to the right with no equal neighbours, columns full below an empty first
    # column: only "A" (left) changes this board.
    only_left = np.array([0, 1, 2, 3, 0, 2, 3, 1, 0, 3, 1, 2, 0, 1, 2, 3], dtype=np.uint8)
    stuck = np.array([1, 2, 1, 2, 2, 1, 2, 1, 1, 2, 1, 2, 2, 1, 2, 1], dtype=np.uint8)
    for board, expected in ((only_left, 1), (stuck, -1)):
        scratch = np.zeros(16, np.uint8)
        assert best_action(board, 4, 2, 0.1, 1e-4, new_stack(2, 16), scratch, tables) == expected


def test_table_and_direct_heuristics_agree():
    rng = np.random.default_rng(0)
    with_table = heuristic_tables(4)
    without = (with_table[0], with_table[1], np.zeros(0))
    for _ in range(20):
        board = rng.integers(0, 12, 16).astype(np.uint8)
        assert board_heuristic(board, 4, with_table) == pytest.approx(board_heuristic(board, 4, without))


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        play_games([1], depth=0)
    with pytest.raises(ValueError, match="power of two"):
        play_games([1], target=100)
