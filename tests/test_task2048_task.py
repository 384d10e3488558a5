"""The 2048 Task through the registry: dataset rows, contract, demonstrations, assess, presets."""

from collections import Counter

import pytest

from envs.registry import Task, TaskRegistry
from envs.seeds import builtin_seed_set
from rewards.game2048 import close_rewards
from text_tasks.game2048_task import BOARD_PRESETS, make_classic_task, make_notebook_task, make_task

F = "```"


@pytest.fixture(scope="module")
def task() -> Task:
    return TaskRegistry().get("2048")


def test_registry_builds_the_task_with_small_defaults(task):
    assert task.name == "2048" and task.sandbox_entry == "strategy"
    assert task.runner == "envs.game2048.strategy_runner:play"
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
    good = task.contract.parse(f"{F}python\ndef strategy(board):\n    return 'W'\n{F}")
    assert good.ok and good.value.startswith("def strategy(board)")
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
    assert [a.format_ok for a in assessments] == [False, True]
    assert [a.outcome for a in assessments] == ["no_function", "stalled"]
    assert [a.score for a in assessments] == [0.0, 0.0]
    assert assessments[1].detail["games"] == 8


def test_notebook_board_preset_and_overrides():
    notebook = make_task(board="notebook")
    assert notebook.env_kwargs["size"] == 6 and notebook.env_kwargs["target"] == 2048
    fns = notebook.rewards("notebook")
    try:
        assert fns[2].evaluator.config.size == 6 and fns[2].evaluator.config.extraction == "notebook"
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
