"""Tests of the Connect Four plug-in; run from this folder with `python -m pytest tests -q`."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from strategy_gym.play import InvalidMove, StrategyEvaluator

from connect_four import ENV_ID
from connect_four.game import OPPONENT, PLAYER, new_board, winning_column
from connect_four.task import GAME, build_dataset, decode_column, make_task, reference_strategy

NAIVE = "def strategy(board):\n    return [c for c in range(7) if board[0][c] == 0][0]\n"
CENTRE = "```python\ndef strategy(board):\n    return 3\n```"  # column 3 fills up, then invalid


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


def test_env_passes_gymnasium_check_and_is_seeded():
    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=7)
    assert obs.sum() == 0 and info["legal"] == list(range(7)) and info["moves"] == 0
    replies = [env.step(0)[0].tolist() for _ in range(2)]
    env.reset(seed=7)
    assert [env.step(0)[0].tolist() for _ in range(2)] == replies  # same seed, same opponent
    _, reward, terminated, _, info = env.step(9)  # no such column
    assert (reward, terminated, info["status"]) == (-1.0, True, "illegal")


def test_codec_accepts_legal_int_columns_only():
    info = {"legal": [0, 1, 2, 4, 5, 6]}
    assert decode_column(4, info) == 4
    for value, why in [(3, "full"), (7, "out of range"), (-1, "out of range"), (True, "bool"),
                       (3.0, "float"), ("3", "str"), (None, "NoneType")]:
        with pytest.raises(InvalidMove, match=why):
            decode_column(value, info)


def test_reference_strategy_beats_a_naive_one_through_the_game_master():
    seeds = list(range(100, 112))
    with StrategyEvaluator(GAME, workers=2) as evaluator:
        reference, naive, centre = evaluator.evaluate(
            [reference_strategy(), NAIVE, CENTRE], [seeds] * 3)
    assert sum(g.success for g in reference.games) >= 10
    assert sum(g.success for g in naive.games) <= 3
    outcomes = {str(g.outcome) for g in centre.games}  # column 3 fills unless the opponent wins
    assert "invalid_action" in outcomes and outcomes <= {"invalid_action", "game_over"}


def test_shaped_rewards_order_play_then_format_then_safety():
    completions = [f"```python\n{reference_strategy()}```", CENTRE, "no code here",
                   "```python\nimport os\ndef strategy(board):\n    return 0\n```"]
    task = make_task()
    functions = task.rewards()
    try:
        scores = {f.__name__: f(completions, game_seed=[100] * len(completions))
                  for f in functions}
    finally:
        for f in functions:
            f.close()
    totals = [sum(s[i] for s in scores.values()) for i in range(len(completions))]
    assert totals[0] > totals[1] > totals[2] and totals[3] < totals[1]
    assert scores["no_cheating"][3] < 0 == scores["no_cheating"][0]


def test_task_rows_are_deterministic_and_demonstrations_well_formed():
    task = make_task()
    rows = build_dataset("train", 5, seed=1)
    assert rows == build_dataset("train", 5, seed=1) and rows != build_dataset("train", 5, 2)
    assert all(r["game_seed"] in task.seed_sets["train"] for r in rows)
    assert all(r["game_seed"] in task.seed_sets["eval"] for r in build_dataset("eval", 3, 0))
    demos = task.demonstrations(4, seed=0)
    assert all(task.contract.parse(d["completion"]).ok for d in demos)
    assessed = task.assess([demos[0]["completion"], "nothing"])
    assert assessed[0].format_ok and assessed[0].outcome in ("success", "game_over")
    assert (assessed[1].format_ok, assessed[1].outcome) == (False, "no_function")
