"""Model targets on CPU: seeded sampling reproduces exactly, and a 2-step training run's adapter
(the CI run of tests/test_train_env_e2e.py, smaller) is evaluated later on its test seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from strategy_gym.agents.evaluation.tasks import load_task
from strategy_gym.envs.seeds import parse_seed_spec
from strategy_gym.training.generation import Sampling

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["trainer=smoke", "env.train_rows=4", "env.eval_prompts=2", "env.demonstrations=4",
         "trainer.eval.after_priming=false", "trainer.preflight.samples=1"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def _python(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=2000, env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})


def test_same_model_same_seed_same_completions():
    from strategy_gym.training.sampling import model_candidate, resolve_model_target

    target = resolve_model_target("embedded")
    task = load_task("math")
    seeds = parse_seed_spec("eval:2")
    sampling = Sampling(max_new_tokens=24, temperature=0.9, top_p=0.95, seed=7, batch_size=4)
    first = model_candidate("m", target.loaded, task, seeds, 3, sampling)
    second = model_candidate("m", target.loaded, task, seeds, 3, sampling)
    assert first.texts == second.texts and len(first.texts) == 6
    assert first.groups == [str(s) for s in seeds for _ in range(3)] and first.seeds == [s for s in seeds for _ in range(3)]
    assert len(set(first.texts[:3])) > 1  # k samples of one prompt differ (temperature 0.9)
    other = model_candidate("m", target.loaded, task, seeds, 3, Sampling(24, 0.9, 0.95, 8, 4))
    assert other.texts != first.texts


def test_two_step_run_adapter_evaluated_on_test_seeds(tmp_path):
    trained = _python([str(ROOT / "train_env.py"), "env=math", *SMALL, f"run.dir={tmp_path / 'run'}"], tmp_path)
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    out = tmp_path / "eval"
    done = _python(["-m", "strategy_gym.training.evaluate_cli", "--model", str(tmp_path / "run"),
                    "--seeds", "test:3", "--samples", "2", "--max-new-tokens", "24",
                    "--out", str(out), "--no-progress"], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"]["name"] == "math"  # from the run's config
    # the run's own test set (seed_sets.json; math records none, so the built-in test set)
    assert summary["seeds"]["name"].startswith("test@") and summary["seeds"]["count"] == 3
    s = summary["strategies"]["run"]
    assert s["games"] == 6 and s["pass"]["groups"] == 3 and set(s["pass"]["pass_at_k"]) == {"1", "2"}
    assert "LoRA adapter" in " ".join(s["meta"]["notes"])
    lines = [json.loads(x) for x in (out / "completions.jsonl").read_text().splitlines()]
    assert [x["seed"] for x in lines] == [s for s in range(20_000_000, 20_000_003) for _ in range(2)]
    assert (out / "report.html").stat().st_size > 10_000
