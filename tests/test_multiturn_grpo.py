"""GRPO in play mode: TRL's GRPOTrainer builds its tools from our environment class, plays
real steps with a tiny random model, and ``train_env.py env=2048 env.mode=play`` runs end to
end (tiny model here; the embedded SmolLM2 in the slow test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from transformers.utils import get_json_schema

from strategy_gym.envs.text_play import Game2048Play
from strategy_gym.training.environments import (
    ensure_tool_template,
    environment_class,
    play_dataset,
    play_rewards,
)
from strategy_gym.training.grpo import build_trainer
from strategy_gym.training.tiny_models import build_tiny_model, save_tiny_model

ROOT = Path(__file__).resolve().parent.parent
GROUP = 2
SMALL = ["trainer=smoke", "env.train_rows=4", "env.eval_prompts=2", "trainer.preflight.samples=1",
         "env.play.max_turns=4"]
pytestmark = pytest.mark.timeout(1800)


def _config(tmp_path: Path):
    from trl import GRPOConfig

    return GRPOConfig(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2 * GROUP,
                      num_generations=GROUP, max_completion_length=64, use_cpu=True, bf16=False,
                      report_to="none", logging_steps=1, save_strategy="no", disable_tqdm=True,
                      max_tool_calling_iterations=4, seed=0)


def test_trl_builds_the_tools_and_plays_two_grpo_steps_with_shared_group_starts(tmp_path):
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    model, tokenizer = build_tiny_model("qwen3", seed=0)
    ensure_tool_template(tokenizer)
    play = Game2048Play(size=4, target=256)
    cls = environment_class(play, max_turns=4, owns_reward=False)
    rewards = play_rewards()
    trainer = build_trainer(model, tokenizer, rewards, play_dataset(play, range(100, 108)),
                            _config(tmp_path), environment_factory=cls)
    # TRL's own probe of the class: exactly one tool, with the schema the prompt renders.
    tools = trainer._env_tools[None]
    assert [t.__name__ for t in tools] == ["move"]
    assert get_json_schema(tools[0])["function"]["parameters"]["required"] == ["direction"]
    assert trainer.reward_func_names == ["play_success", "play_progress", "invalid_move_penalty"]

    trainer.train()
    steps = [h for h in trainer.state.log_history if "reward" in h]
    assert len(steps) == 2
    assert all("rewards/play_success/mean" in h and "tools/call_frequency" in h for h in steps)
    episodes = [env.episode for env in trainer.environments]
    assert len(episodes) == 2 * GROUP
    for start in range(0, len(episodes), GROUP):  # a GRPO group: one row, one seed, one start
        group = episodes[start:start + GROUP]
        assert len({e.seed for e in group}) == 1 and len({e.start_text for e in group}) == 1
        assert group[0].seed in range(100, 108)
    assert sum(rewards[0].outcome_counts().values()) == 2 * 2 * GROUP  # every rollout counted


def _train_env(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "train_env.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=1700,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _check_run(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert {"play/success_rate", "play/invalid_move_rate", "play/turns_per_episode"} <= set(row)
        assert sum(row["outcomes"].values()) == 2  # one game per rollout: num_generations=2
        assert row["reward/play_success/mean"] is not None
    report = (run / "report.md").read_text()
    assert "play mode: strategy_gym/Game2048-v0 move by move" in report
    assert "- play: " in report and "- invalid moves: " in report and "- turns per episode" in report
    assert (run / "adapter" / "adapter_model.safetensors").stat().st_size > 0
    return rows


def test_train_env_play_mode_with_a_tiny_model(tmp_path):
    checkpoint = save_tiny_model("qwen3", tmp_path / "tiny", seed=0)
    run = tmp_path / "run"
    done = _train_env(["env=2048", "env.mode=play", "model=hub", f"model.path={checkpoint}",
                       *SMALL, f"run.dir={run}"], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "tools" in done.stdout and "chatml_tools" in done.stdout
    _check_run(run)


def test_play_mode_refuses_a_task_without_a_text_view(tmp_path):
    done = _train_env(["env=math", "+env.mode=play", *SMALL[:1], "run.preflight_only=true",
                       f"run.dir={tmp_path / 'run'}"], tmp_path)
    assert done.returncode == 2
    assert "cannot be played move by move" in done.stdout and "Nothing was written" in done.stdout
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_train_env_play_mode_with_the_embedded_model(tmp_path):
    run = tmp_path / "run"
    # 96 tokens leave room for one or two tool calls: enough to run the loop, short on 2 cores.
    done = _train_env(["env=2048", "env.mode=play", *SMALL, "trainer.max_completion_length=96",
                       "env.play.max_turns=2", f"run.dir={run}"], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = _check_run(run)
    assert all(r["completion_length_max"] <= 96 for r in rows)
