"""The 2048 Task through the registry: dataset rows, contract, demonstrations, assess, presets."""

from collections import Counter

import pytest

from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.play import reads_argument as reads_board
from strategy_gym.rewards.strategy import close_rewards
from strategy_gym.tasks.game2048 import (
    BOARD_PRESETS,
    make_classic_task,
    make_notebook_task,
    make_task,
)
from strategy_gym.tasks.registry import Task, TaskRegistry

F = "```"


@pytest.fixture(scope="module")
def task() -> Task:
    return TaskRegistry().get("2048")


def test_registry_builds_the_task_with_small_defaults(task):
    assert task.name == "2048" and task.sandbox_entry == "strategy"
    assert task.strategy_game.env_id == task.env_id and task.strategy_game.entry_point == "strategy"
    assert task.env_kwargs == {"size": 4, "target": 256, "p_four": 0.1}
    assert set(task.reward_presets) == {"shaped", "notebook"} and task.default_preset == "shaped"
    assert set(task.seed_sets) == {"train", "eval", "test"}


def test_dataset_rows_are_conversational_with_seeds_from_the_split(task):
    rows = task.build_dataset("train", 20, seed=1)
    assert rows == task.build_dataset("train", 20, seed=1)
    assert rows != task.build_dataset("train", 20, seed=2)
    for row in rows:
        assert [m["role"] for m in row["prompt"]] == ["user"]
        assert "4x4" in row["prompt"][0]["content"] and "256" in row["prompt"][0]["content"]
        assert row["game_seed"] in builtin_seed_set("train")
    assert all(r["game_seed"] in builtin_seed_set("eval") for r in task.build_dataset("eval", 5, 0))
    with pytest.raises(ValueError, match="unknown split"):
        task.build_dataset("valid", 3, 0)


def test_contract_parses_strategies_and_says_why_not(task):
    good = task.contract.parse(f"{F}python\ndef strategy(board):\n    return 'W' if board[0][0] else 'A'\n{F}")
    assert good.ok and good.value.startswith("def strategy(board)")
    placeholder = task.contract.parse(f"{F}python\ndef strategy(board):\n    return \"W\" # Example\n{F}")
    assert not placeholder.ok and placeholder.reason.startswith("placeholder")
    missing = task.contract.parse("I would move left.")
    assert not missing.ok and "strategy" in missing.reason
    imports = task.contract.parse(f"{F}python\nimport numpy\ndef strategy(board):\n    return 'W'\n{F}")
    assert not imports.ok and imports.reason.startswith("import_violation")


def test_demonstrations_are_short_valid_and_play_legal_games(task):
    demos = task.demonstrations(12, seed=3)
    assert demos == task.demonstrations(12, seed=3)
    texts = [d["completion"][0]["content"] for d in demos]
    assert len(set(texts)) > 6
    assert all(len(t) < 1100 for t in texts)  # about 250 tokens of code at most
    assert all(task.contract.parse(d["completion"]).ok for d in demos)
    assessments = task.assess([d["completion"] for d in demos[:4]], demos[:4])
    outcomes = Counter(g for a in assessments for g in a.detail["outcomes"])
    assert set(outcomes) <= {"success", "game_over"}
    assert all(a.format_ok for a in assessments)


def test_assess_scores_success_rate_and_outcome_classes(task):
    always_w = f"{F}python\ndef strategy(board):\n    return 'W'\n{F}"
    assessments = task.assess(["no code at all", always_w], [{}, {}])
    # Always "W" ignores its board: it plays (and stalls) but is not the strategy format.
    assert [a.format_ok for a in assessments] == [False, False]
    assert [a.outcome for a in assessments] == ["no_function", "stalled"]
    assert [a.score for a in assessments] == [0.0, 0.0]
    assert assessments[1].detail["games"] == 8


def test_notebook_board_preset_and_overrides():
    notebook = make_task(board="notebook")
    assert notebook.env_kwargs["size"] == 6 and notebook.env_kwargs["target"] == 2048
    fns = notebook.rewards("notebook")
    try:
        evaluator = fns[2].evaluator
        assert evaluator.game.env_kwargs["size"] == 6 and evaluator.settings.extraction == "notebook"
    finally:
        close_rewards(fns)
    assert make_notebook_task().default_preset == "notebook"
    assert make_notebook_task().env_kwargs == notebook.env_kwargs
    assert make_classic_task().env_kwargs == {"size": 4, "target": 2048, "p_four": 0.1}
    custom = make_task(size=3, target=64)
    assert custom.env_kwargs == {"size": 3, "target": 64, "p_four": 0.1}
    assert set(BOARD_PRESETS) == {"small", "classic", "notebook"}


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"board": "huge"}, "unknown board preset"),
        ({"target": 100}, "power of two"),
        ({"prompt_style": "chatty"}, "unknown prompt style"),
        ({"assess_seeds": 0}, "assess_seeds"),
    ],
)
def test_bad_task_options(kwargs, words):
    with pytest.raises(ValueError, match=words):
        make_task(**kwargs)


def test_reads_board_tells_placeholders_from_strategies():
    assert not reads_board('def strategy(board):\n    return "W" # Example\n')
    assert not reads_board("import random\ndef strategy(board):\n    return random.choice('WASD')\n")
    assert not reads_board("def strategy():\n    return 'W'\n")
    assert not reads_board("def strategy(board):\n    board = [[0]]\n    return 'W'\n")  # only stores
    assert not reads_board("def other(board):\n    return board\n")
    assert not reads_board("def strategy(board) return")
    assert reads_board("def strategy(b):\n    def best():\n        return max(b[0])\n    return 'W'\n")
    assert reads_board("def strategy(board):\n    return 'AW'[len(board) % 2]\n")


def test_demonstrations_mix_three_strategy_families_with_a_short_one(task):
    texts = [d["completion"][0]["content"] for d in task.demonstrations(30, seed=0)]
    family = {"compact": "zip(*board)", "greedy": "best, choice", "corner": "for line in"}
    kinds = Counter(next(name for name, mark in family.items() if mark in t) for t in texts)
    assert set(kinds) == set(family) and min(kinds.values()) >= 5
    compact = [t for t in texts if family["compact"] in t]
    assert max(len(t) for t in compact) < 520  # ~145 tokens: quick to learn in priming
    assessed = task.assess(compact[:2])
    assert all(a.format_ok and set(a.detail["outcomes"]) <= {"success", "game_over"} for a in assessed)
