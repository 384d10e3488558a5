"""The registered math Task and the strategy_gym/MathAnswer-v0 Gymnasium env (both modes)."""

import gymnasium as gym
import pytest

import strategy_gym.tasks  # noqa: F401  (registers the env ids)
from strategy_gym.tasks.math import make_program_task, make_task
from strategy_gym.tasks.math_env import MathAnswerEnv
from strategy_gym.tasks.registry import TaskRegistry


def test_math_task_from_the_registry_builds_rows_rewards_and_assessments():
    task = TaskRegistry().get("math")
    assert task.env_id == "strategy_gym/MathAnswer-v0" and task.contract.name == "answer_tag"
    rows = task.build_dataset("train", 8, 0)
    assert rows == task.build_dataset("train", 8, 0) != task.build_dataset("test", 8, 0)
    assert all(r["prompt"][1]["role"] == "user" and r["answer"] for r in rows)
    gold = rows[0]["answer"]
    completions = [f"ok\n<answer>{gold}</answer>", f"<answer>{int(gold) + 1}</answer>", gold]
    verdicts = task.assess(completions, [rows[0]] * 3)
    assert [(v.format_ok, v.score, v.outcome) for v in verdicts] == [
        (True, 1.0, "ok"),
        (True, 0.0, "wrong_answer"),
        (False, 0.0, "format_error"),
    ]
    assert verdicts[2].detail["miss"] == "no_tags" and verdicts[1].detail["parsed"] == str(
        int(gold) + 1
    )
    fmt, correct = task.rewards()
    assert fmt(completions) == [1.0, 1.0, 0.0]
    assert correct(completions, answer=[gold] * 3) == [2.0, 0.0, 0.0]
    assert [f.__name__ for f in task.rewards("qwen3")][0] == "match_format_exactly"
    assert len(task.rewards("llama31")) == 5


def test_demonstrations_are_short_and_satisfy_the_contract():
    from strategy_gym.training.models import load_tokenizer

    tokenizer = load_tokenizer("smollm2-135m")
    for name in ("answer_tag", "llama31", "qwen3"):
        task = make_task(contract=name, difficulty=3)
        demos = task.demonstrations(20, 1)
        for row in demos:
            text = row["completion"][0]["content"]
            assert task.contract.parse(text).value == row["answer"]
            assert len(tokenizer(text)["input_ids"]) < 150


def test_unknown_source_and_bad_n_are_clear_errors():
    with pytest.raises(ValueError, match="unknown math source 'mnist'"):
        make_task(source="mnist").build_dataset("train", 2, 0)
    with pytest.raises(ValueError, match="n must be a positive int"):
        make_task().build_dataset("train", 0, 0)


def test_env_answer_mode_through_gym_make():
    env = gym.make("strategy_gym/MathAnswer-v0", contract="llama31")
    observation, info = env.reset(seed=11)
    assert env.observation_space.contains(observation)
    assert (
        observation.startswith("Respond in the following format")
        and info["question"] in observation
    )
    gold = env.unwrapped._row["answer"]
    completion = f"<reasoning>\nsteps\nmore steps\n</reasoning>\n<answer>\n{gold}\n</answer>"
    _, reward, terminated, truncated, info = env.step(completion)
    assert (terminated, truncated) == (True, False)
    assert info["rewards"] == {"format_reward": 1.0, "correctness_reward": 2.0} and reward == 3.0
    assert info["parsed_answer"] == gold and info["format_ok"] and info["correct"]
    _, reward, *_, info = env.step("<reasoning>x</reasoning> no answer tags")
    assert reward == 0.25 and info["miss_kind"] == "answer_outside_tag"
    again, _ = env.reset(seed=11)
    assert again == observation
    env.close()


def test_env_notebook_preset_and_given_rows():
    rows = make_task(contract="qwen3").build_dataset("train", 3, 4)
    env = MathAnswerEnv(rows=rows, contract="qwen3", reward_preset="qwen3")
    observation, _ = env.reset(seed=0, options={"index": 2})
    assert rows[2]["question"] in observation
    _, reward, *_, info = env.step(f"w<end_working_out><SOLUTION>{rows[2]['answer']}</SOLUTION>")
    assert info["rewards"] == {
        "match_format_exactly": 3.0,
        "match_format_approximately": 1.5,
        "check_answer": 5.0,
        "check_numbers": 3.5,
    }
    assert reward == 13.0
    with pytest.raises(ValueError, match="row 0: missing answer"):
        MathAnswerEnv(rows=[{"prompt": rows[0]["prompt"]}])
    with pytest.raises(ValueError, match="rows is empty"):
        MathAnswerEnv(rows=[])
    with pytest.raises(RuntimeError, match="reset"):
        MathAnswerEnv().step("x")


def test_env_program_mode_runs_solve_in_the_sandbox():
    env = gym.make("strategy_gym/MathAnswer-v0", mode="program")
    try:
        env.reset(seed=5)
        gold = env.unwrapped._row["answer"]
        good = f"```python\ndef solve():\n    total = {gold} * 2\n    return total / 2\n```"
        _, reward, *_, info = env.step(good)
        assert info["program_outcome"] == "ok" and info["parsed_answer"] == gold
        assert info["correct"] and reward == 3.0
        _, reward, *_, info = env.step("def solve():\n    return 1 / 0")
        assert info["program_outcome"] == "runtime_error" and reward == 0.25
        _, reward, *_, info = env.step("def solve():\n    import os\n    return 1")
        assert info["program_outcome"] == "import_violation" and reward == 0.0
        _, reward, *_, info = env.step("the answer is 4")
        assert info["program_outcome"] == "no_function" and not info["format_ok"]
    finally:
        env.close()


def test_program_task_assess():
    task = make_program_task()
    rows = task.build_dataset("test", 2, 0)
    completions = [f"def solve():\n    return {rows[0]['answer']}", "def solve():\n    return [1]"]
    verdicts = task.assess(completions, rows)
    assert [(v.score, v.outcome) for v in verdicts] == [(1.0, "ok"), (0.0, "not_a_number")]
