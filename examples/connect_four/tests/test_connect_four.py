"""Tests of the Connect Four plug-in; run from this folder with `python -m pytest tests -q`."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from strategy_gym.sandbox import Outcome, SandboxPool, SandboxResult

from connect_four import ENV_ID
from connect_four.game import OPPONENT, PLAYER, ConnectFour, new_board, replay, winning_column
from connect_four.rewards import StrategyWins, function_works, no_cheating
from connect_four.scoring import judge, play_games
from connect_four.task import build_dataset, demonstrations, make_task, reference_strategy

CENTRE = "```python\ndef strategy(board):\n    return 3\n```"  # loses column 3, then illegal


def play(seed: int, strategy) -> ConnectFour:
    game = ConnectFour(seed)
    while game.status == "playing":
        game.play(strategy([row[:] for row in game.board]))
    return game


def first_legal(board):
    return next(c for c in range(7) if board[0][c] == 0)


@pytest.mark.parametrize("cells", [
    [(5, 0), (5, 1), (5, 2), (5, 3)],  # row
    [(5, 0), (4, 0), (3, 0), (2, 0)],  # column
    [(5, 0), (4, 1), (3, 2), (2, 3)],  # diagonal
    [(2, 0), (3, 1), (4, 2), (5, 3)],  # anti-diagonal
])
def test_four_in_a_row_is_found_in_every_direction(cells):
    board = new_board()
    for row, column in cells[:3]:
        board[row][column] = PLAYER
    for row in range(cells[3][0] + 1, 6):  # support under the fourth cell
        if board[row][cells[3][1]] == 0:
            board[row][cells[3][1]] = OPPONENT
    assert winning_column(board, PLAYER) == cells[3][1]
    board[cells[1][0]][cells[1][1]] = OPPONENT  # break the line: three is not four
    assert winning_column(board, PLAYER) is None


def test_replay_reproduces_live_games_and_rejects_illegal_columns():
    for seed in range(20):
        game = play(seed, first_legal)
        columns = []
        probe = ConnectFour(seed)
        while probe.status == "playing":
            columns.append(first_legal(probe.board))
            probe.play(columns[-1])
        assert replay(columns, seed).status == game.status
    assert replay([3] * 7, 0).status in ("illegal", "loss")
    assert replay([], 0).status == "incomplete"
    with pytest.raises(ValueError, match="seed"):
        ConnectFour(-1)


def test_env_passes_gymnasium_check_and_matches_the_rules():
    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=7)
    assert obs.sum() == 0 and info["seed"] == 7
    _, reward, terminated, _, info = env.step(9)  # no such column
    assert (reward, terminated, info["status"]) == (-1.0, True, "illegal")


def test_trusted_replay_ignores_a_forged_verdict():
    forged = SandboxResult(Outcome.OK, value={"columns": [0], "status": "win"})
    assert judge(5, forged).status == "incomplete"
    assert judge(5, SandboxResult(Outcome.OK, value={"status": "win"})).status == "crashed"


def test_reference_strategy_beats_a_naive_one_through_the_sandbox():
    seeds = list(range(100, 112))
    naive = "def strategy(board):\n    return [c for c in range(7) if board[0][c] == 0][0]\n"
    with SandboxPool(workers=2) as pool:
        reference, weak, centre = play_games(
            pool, [reference_strategy(), naive, CENTRE.strip("`").removeprefix("python\n")],
            [seeds] * 3)
    assert sum(g.status == "win" for g in reference) >= 10
    assert sum(g.status == "win" for g in weak) <= 3
    statuses = {g.status for g in centre}  # column 3 fills up unless the opponent wins first
    assert "invalid_action" in statuses and statuses <= {"invalid_action", "loss"}


def test_rewards_order_completions_format_then_play_then_safety():
    completions = [f"```python\n{reference_strategy()}```", CENTRE, "no code here",
                   "```python\nimport os\ndef strategy(board):\n    return 0\n```",
                   "```python\ndef strategy(board):\n    return (3"]  # cut off mid-function
    seeds = [[100, 101, 102, 103]] * len(completions)
    wins = StrategyWins(workers=2)
    try:
        play = wins(completions, seeds=seeds)
    finally:
        wins.close()
    assert function_works(completions) == [1.0, 1.0, -2.0, 1.0, -2.0]
    assert no_cheating(completions) == [1.0, 1.0, -1.0, -10.0, -1.0]
    assert play[0] > 5.0 and play[1] == -3.0 and play[2:] == [0.0, 0.0, 0.0]


def test_task_rows_are_deterministic_and_carry_their_games():
    task = make_task()
    rows = build_dataset("train", 5, seed=1)
    assert rows == build_dataset("train", 5, seed=1) and rows != build_dataset("train", 5, 2)
    assert all(len(r["seeds"]) == 4 and all(s in task.seed_sets["train"] for s in r["seeds"])
               for r in rows)
    assert all(s in task.seed_sets["eval"] for r in build_dataset("eval", 3, 0) for s in r["seeds"])
    with pytest.raises(ValueError, match="unknown split"):
        build_dataset("validation", 2, 0)
    demos = demonstrations(4, seed=0)
    assert all(task.contract.parse(d["completion"]).ok for d in demos)
    assessed = task.assess([demos[0]["completion"], "nothing"], demos[:2])
    assert assessed[0].format_ok and assessed[0].outcome == "ok"
    assert (assessed[1].format_ok, assessed[1].outcome) == (False, "no_function")
