"""`python train_env.py` end to end on the embedded model, on CPU: 2 real GRPO steps, then a
resume from the saved checkpoint. Same code path as the README's main command, smaller sizes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["trainer=smoke", "env.train_rows=4", "env.eval_prompts=2", "env.demonstrations=4",
         "trainer.eval.after_priming=false", "trainer.preflight.samples=1"]
# ~1-2 minutes on an idle 2-core machine; generous limits for a busy one.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _train_env(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "train_env.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=1700,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("e2e")
    done = _train_env(["env=math", *SMALL, f"run.dir={work / 'run'}"], work)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return work / "run"


def test_two_grpo_steps_leave_every_artefact(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"adapter", "steps.jsonl", "steps.csv", "training_curves.png", "eval_before.jsonl",
            "eval_after.jsonl", "eval_summary.json", "eval.png", "report.md", "config.yaml",
            "seed_sets.json", "eval_prompts.jsonl", "samples.jsonl"} <= names
    assert (run_dir / "adapter" / "adapter_model.safetensors").stat().st_size > 0
    rows = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert row["reward"] is not None and row["step_seconds"] > 0
        assert any(k.startswith("reward/") and k.endswith("/mean") for k in row)
        assert row["completion_length_max"] <= 64
    summary = json.loads((run_dir / "eval_summary.json").read_text())
    assert set(summary) == {"before", "after"}
    assert summary["after"]["n"] == 2
    report = (run_dir / "report.md").read_text()
    assert "## Results" in report and "| before |" in report and "| after |" in report
    assert "smoke phase: passed" in report or "smoke phase: STOPPED" in report
    assert re.search(r"tokenizer \(\w+\): ok", report)  # the contract's tokenizer check ran
    assert (run_dir / "checkpoints" / "checkpoint-2").is_dir()


def test_resume_continues_from_last_checkpoint(run_dir):
    done = _train_env(["env=math", *SMALL, f"run.dir={run_dir}", "run.resume=true",
                       "trainer.max_steps=3", "trainer.save_steps=3"], run_dir.parent)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "resuming from" in done.stdout
    rows = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]


def test_ctrl_c_during_grpo_saves_the_adapter_and_writes_the_report(tmp_path):
    """SIGINT while GRPO runs on env=2048 (sandbox workers live): exit 0, adapter and report
    written, the interruption named in the report, no sandbox process left behind."""
    run = tmp_path / "run"
    workers_before = _sandbox_workers()
    args = ["env=2048", *SMALL, f"run.dir={run}", "trainer.max_steps=40", "trainer.save_steps=40"]
    proc = subprocess.Popen([sys.executable, str(ROOT / "train_env.py"), *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    steps = run / "steps.jsonl"
    deadline = time.monotonic() + 1500
    while not (steps.exists() and steps.read_text().strip()) and proc.poll() is None:
        assert time.monotonic() < deadline, "no GRPO step was logged in time"
        time.sleep(0.5)
    assert proc.poll() is None, proc.stdout.read()[-3000:]
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, output[-3000:]
    assert "interrupted" in output
    assert (run / "adapter" / "adapter_model.safetensors").stat().st_size > 0
    report = (run / "report.md").read_text()
    assert "interrupted" in report.lower()
    rows = steps.read_text().splitlines()
    assert 0 < len(rows) < 40  # stopped early, after at least one logged step
    give_up = time.monotonic() + 20
    while not _sandbox_workers() <= workers_before and time.monotonic() < give_up:
        time.sleep(0.2)
    assert _sandbox_workers() <= workers_before  # the run's workers went with it


def _sandbox_workers() -> set[str]:
    found = subprocess.run(["pgrep", "-f", "sandbox.worker import main"], capture_output=True, text=True)
    return set(found.stdout.split())
