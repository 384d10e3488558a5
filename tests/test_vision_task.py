"""The vision Task, its rewards, the VisionQA env and the chat formatting a Gemma-3 processor eats."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

import strategy_gym.tasks  # noqa: F401  (registers the Gymnasium ids)
from strategy_gym.tasks.registry import TaskRegistry
from strategy_gym.tasks.vision import assess, build_dataset, make_task, vision_messages
from strategy_gym.training.tiny_models import GEMMA3_IMAGE_TOKENS, build_tiny_model

GOOD = "<REASONING>I count them.</REASONING><SOLUTION>{}</SOLUTION>"


def test_task_is_registered_as_vision():
    task = TaskRegistry().get("vision")
    assert task.modality == "vision" and task.env_id == "strategy_gym/VisionQA-v0"
    assert set(task.reward_presets) == {"notebook", "numeric"}


def test_dataset_rows_are_seeded_and_split_disjoint():
    a, b = build_dataset("train", 6, seed=1), build_dataset("train", 6, seed=1)
    assert [r["seed"] for r in a] == [r["seed"] for r in b]
    assert [r["answer"] for r in a] == [r["answer"] for r in b]
    evals = build_dataset("eval", 6, seed=1)
    assert not {r["seed"] for r in a} & {r["seed"] for r in evals}
    row = a[0]
    assert isinstance(row["image"], Image.Image) and row["image"].size == (512, 512)
    (message,) = row["prompt"]
    assert message["role"] == "user" and message["content"][0] == {"type": "image"}
    text = message["content"][1]["text"]
    assert row["question"].rstrip("?") in text
    assert "between <SOLUTION> and (put a float here) </SOLUTION>" in text
    with pytest.raises(ValueError, match="row count must be an int >= 0"):
        build_dataset("train", -1, 0)
    with pytest.raises(ValueError, match="unknown seed set 'dev'"):
        build_dataset("dev", 1, 0)


def test_rewards_follow_the_notebook_scores():
    task = make_task()
    fmt, correct = task.rewards("notebook")
    completions = [GOOD.format("7"), GOOD.format("7.0"), "<SOLUTION>7</SOLUTION>",
                   GOOD.format("7") + GOOD.format("7"), "7", None]
    answers = ["7"] * len(completions)
    assert fmt(completions) == [2.0, 2.0, 1.0, 0.0, 0.0, 0.0]
    assert correct(completions, answer=answers) == [2.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    layered_format, numeric = task.rewards("numeric")
    assert numeric(completions, answer=answers)[:2] == [2.0, 2.0]  # 7.0 == 7 numerically
    assert layered_format(completions)[:3] == [1.0, 1.0, 0.25]  # partial: 1 of 2 pairs
    chat = [[{"role": "assistant", "content": [{"type": "text", "text": GOOD.format("7")}]}]]
    assert fmt(chat) == [2.0] and numeric(chat, answer=["7"]) == [2.0]


def test_assess_reports_format_and_correctness():
    rows = [{"answer": "3"}, {"answer": "3"}, {"answer": "3"}]
    result = assess([GOOD.format("3"), GOOD.format("4"), "three"], rows)
    assert [(r.format_ok, r.score, r.outcome) for r in result] == [
        (True, 1.0, "ok"), (True, 0.0, "wrong_answer"), (False, 0.0, "no_tags")]
    with pytest.raises(ValueError, match="2 completions but 3 rows"):
        assess(["a", "b"], rows)


def test_env_single_step_reward_matches_task_rewards():
    env = gym.make("strategy_gym/VisionQA-v0", levels=(1,), image_size=256)
    observation, info = env.reset(seed=11)
    assert env.observation_space.contains(observation)
    assert observation["image"].dtype == np.uint8 and observation["image"].shape == (256, 256, 3)
    again, _ = env.reset(seed=11)
    assert np.array_equal(again["image"], observation["image"])
    answer = env.unwrapped._problem.answer
    _, reward, terminated, truncated, info = env.step(GOOD.format(answer))
    assert (reward, terminated, truncated, info["correct"]) == (3.0, True, False, True)
    env.reset(seed=11)
    _, reward, *_, info = env.step(GOOD.format(int(answer) + 1))
    assert reward == 1.0 and info["outcome"] == "ok" and not info["correct"]
    env.reset(seed=11)
    _, reward, *_, info = env.step("no tags at all")
    assert reward == 0.0 and info["outcome"] == "no_tags"
    with pytest.raises(RuntimeError, match="call reset"):
        env.unwrapped.step("x")
    env.reset(seed=1)
    with pytest.raises(TypeError, match="action must be the completion text"):
        env.unwrapped.step(3)


def test_gemma3_processor_accepts_the_rows():
    model, processor = build_tiny_model("gemma3_vlm")
    rows = build_dataset("eval", 2, seed=0)
    prompts = [row["prompt"] for row in rows]
    texts = processor.apply_chat_template(prompts, add_generation_prompt=True)
    assert all(t.count("<start_of_image>") == 1 for t in texts)
    batch = processor(text=texts, images=[[row["image"]] for row in rows], return_tensors="pt",
                      padding=True)
    image_id = model.config.image_token_index
    assert (batch["input_ids"] == image_id).sum(dim=1).tolist() == [GEMMA3_IMAGE_TOKENS] * 2
    output = model.generate(**batch, max_new_tokens=3, do_sample=False)
    completions = processor.batch_decode(output[:, batch["input_ids"].shape[1]:])
    assert len(completions) == 2
    assert [r.format_ok for r in assess(completions, rows)] == [False, False]


def test_vision_messages_rejects_empty_question():
    with pytest.raises(ValueError, match="non-empty text"):
        vision_messages("  ")
