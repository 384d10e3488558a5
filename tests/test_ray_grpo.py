"""``train_env.py ... trainer.sandbox.backend=ray``: the strategy rewards of a GRPO run play
their games in sandbox pools on Ray actors (a local Ray of 2 CPUs that the run starts and
stops), with the same numbers as the local pool.

A random tiny model never writes a function, so nothing would be played: the run's model is
the tiny qwen3 stand-in first fitted (in about 100 small steps here) to answer every 2048
prompt with one short strategy, so most completions build and play, and a few sampled ones
do not. Needs the optional ``ray`` extra; skipped without it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from strategy_gym.training.tasks import build_rows, load_task
from strategy_gym.training.tiny_models import build_tiny_model, save_tiny_model

try:
    import ray
except ImportError:  # the optional extra is not installed
    ray = None

ROOT = Path(__file__).resolve().parent.parent
STRATEGY = "def strategy(board):\n    return 'W' if board[0][0] else 'A'\n"
SMALL = ["trainer=smoke", "env.train_rows=4", "env.eval_prompts=2", "env.demonstrations=4",
         "trainer.eval.after_priming=false", "trainer.preflight.samples=1"]  # fmt: skip
RAY = ["trainer.sandbox.backend=ray", "trainer.sandbox.ray_num_cpus=2"]
pytestmark = [pytest.mark.skipif(ray is None, reason="ray is not installed (optional extra 'ray')"),
              pytest.mark.timeout(1200)]  # fmt: skip


def _train_env(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "train_env.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=1100,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip


@pytest.fixture(scope="module")
def strategy_model(tmp_path_factory) -> Path:
    """The tiny qwen3 model fitted to answer 2048 prompts with ``STRATEGY`` (saved)."""
    import torch

    model, tokenizer = build_tiny_model("qwen3", seed=0)
    rows = build_rows(load_task("2048", {}), 8, 1, 0, seed=11)
    answer = tokenizer(STRATEGY + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    examples = []
    for row in rows.train:
        prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False,
                                               add_generation_prompt=True)  # fmt: skip
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        examples.append((torch.tensor([ids + answer]), torch.tensor([[-100] * len(ids) + answer])))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for step in range(100):
            ids, labels = examples[step % len(examples)]
            model(input_ids=ids, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    path = tmp_path_factory.mktemp("strategy-model")
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow  # ~90 s: fitting the model (~40 s on a busy 2-core machine), then the run
def test_two_grpo_steps_with_the_rewards_played_on_ray(strategy_model, tmp_path):
    run = tmp_path / "run"
    done = _train_env(["env=2048", "model=hub", f"model.path={strategy_model}", *SMALL, *RAY,
                       f"run.dir={run}"], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert row["reward"] is not None
        for name in ("function_works", "no_cheating", "strategy_succeeds"):
            assert row[f"reward/{name}/mean"] is not None
        assert sum(row["outcomes"].values()) in (1, 2)  # 2 completions (equal ones count once)
    assert sum(r["outcomes"].get("no_function", 0) for r in rows) < 4  # most of them played
    report = (run / "report.md").read_text()
    (line,) = [x for x in report.splitlines() if "sandbox: ray" in x]
    assert "a local Ray started here (2 CPUs, 2 actors)" in line
    played = re.search(r": (\d+) sessions in (\d+) jobs, 0 resubmitted, 0 actors lost$", line)
    assert played and int(played[1]) > 0 and int(played[2]) > 0, line
    assert "sandbox: ray" in done.stdout  # also printed when GRPO ends
    assert not ray.is_initialized()  # the run's own Ray, in its own process


def test_the_ray_rewards_give_the_local_numbers():
    task = load_task("2048", {})
    texts = [STRATEGY, "def strategy(board):\n    return 1 / 0\n", "no code here"]
    kwargs = {"game_seed": [100] * len(texts)}
    local = task.rewards("shaped")
    remote = task.rewards("shaped", backend="ray", ray_num_cpus=2)
    try:
        for here, there in zip(local, remote, strict=True):
            assert there(texts, **kwargs) == here(texts, **kwargs)
        summary = remote[0].backend_summary()
        assert local[0].backend_summary() == {"backend": "local", "workers": 2}
    finally:
        for fn in (*local, *remote):
            fn.close()
    assert summary["backend"] == "ray" and summary["where"] == "a local Ray started here"
    assert summary["cluster_cpus"] == 2 and summary["actors"] == 2
    assert summary["chunks"] >= 2 and summary["actors_lost"] == 0  # two texts built and played
    assert remote[1].backend_summary() is None  # one function of the preset reports
    assert not ray.is_initialized()  # started for the rewards, shut down with them


def test_a_ray_sandbox_for_a_task_without_games_is_refused_before_anything_loads(tmp_path):
    model = save_tiny_model("qwen3", tmp_path / "tiny")
    done = _train_env(["env=math", "model=hub", f"model.path={model}", *SMALL[:1], *RAY,
                       "run.preflight_only=true", f"run.dir={tmp_path / 'run'}"], tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "trainer.sandbox.backend=ray" in done.stdout and "Nothing was written" in done.stdout
    assert not (tmp_path / "run").exists()
