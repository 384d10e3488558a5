"""Faults injected into real training runs (`train_env.py` on a tiny random Qwen3, CPU).

- SIGKILL mid-run, then ``run.resume=true``: training continues from the last complete
  checkpoint, at most ``save_steps`` steps are trained again, and ``steps.jsonl`` ends with
  every step exactly once.
- Disk full while a checkpoint is written (a real small tmpfs in a private mount namespace, and
  RLIMIT_FSIZE where namespaces are unavailable): one clear paragraph, the partial checkpoint
  removed, the previous checkpoint byte-for-byte intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# No smoke watch (a random model's rewards are flat and would stop it after two steps); LoRA
# r=256 makes a checkpoint's files (~MBs) clearly larger than any log or plot the run writes.
SMALL = ["env=math", "trainer=smoke", "env.train_rows=8", "env.eval_prompts=2",
         "env.demonstrations=4", "trainer.eval.after_priming=false", "trainer.preflight.samples=1",
         "trainer.priming.enabled=false", "trainer.save_steps=2", "trainer.smoke_steps=0",
         "model=hub", "model.lora.r=256", "model.lora.alpha=512"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "400"}


TINY = Path()  # set by the tiny_model fixture


def _command(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "train_env.py"), *SMALL, f"model.path={TINY}",
            f"run.dir={run_dir}", *extra]


@pytest.fixture(scope="module", autouse=True)
def tiny_model(tmp_path_factory) -> Path:
    global TINY
    from strategy_gym.training.tiny_models import save_tiny_model

    TINY = save_tiny_model("qwen3", tmp_path_factory.mktemp("tiny") / "qwen3", seed=0)
    return TINY


def _steps(run_dir: Path, name: str = "steps.jsonl") -> list[int]:
    path = run_dir / name
    if not path.exists():
        return []
    steps = []
    for line in path.read_text().splitlines():
        try:
            steps.append(json.loads(line)["step"])
        except (ValueError, KeyError):
            steps.append(None)  # a line cut short
    return steps


def _complete(run_dir: Path, step: int) -> bool:
    return (run_dir / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").is_file()


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory, tiny_model) -> dict:
    """A 6-step run SIGKILLed after step 3 is logged (checkpoint-2 saved), then resumed."""
    run = tmp_path_factory.mktemp("faults") / "run"
    proc = subprocess.Popen(_command(run, "trainer.max_steps=6"), cwd=run.parent, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 1500
    while not (_complete(run, 2) and max(filter(None, _steps(run)), default=0) >= 3):
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "step 3 was not logged in time"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the trainer and anything it started
    proc.communicate(timeout=60)
    killed_at = max(filter(None, _steps(run)))
    logged_before = _steps(run)
    resumed = subprocess.run(_command(run, "trainer.max_steps=6", "run.resume=true"),
                             cwd=run.parent, env=ENV, capture_output=True, text=True, timeout=1500)
    return {"run": run, "killed_at": killed_at, "logged_before": logged_before,
            "resumed": resumed}


def test_sigkill_then_resume_continues_from_the_last_checkpoint(killed_and_resumed):
    run, resumed = killed_and_resumed["run"], killed_and_resumed["resumed"]
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    marker = "resuming from "
    assert marker in resumed.stdout, resumed.stdout[-2000:]
    from_step = int(resumed.stdout.split(marker)[1].split("checkpoint-")[1].split(")")[0])
    assert str(run / "checkpoints") in resumed.stdout  # (rotated away since: save_total_limit)
    lost = killed_and_resumed["killed_at"] - from_step
    assert 0 <= lost <= 2, (killed_and_resumed["killed_at"], from_step)  # <= save_steps


def test_step_log_has_every_step_exactly_once_after_resume(killed_and_resumed):
    run = killed_and_resumed["run"]
    assert _steps(run) == [1, 2, 3, 4, 5, 6]
    with open(run / "steps.csv") as handle:
        assert [line.split(",")[0] for line in handle.read().splitlines()[1:]] == \
            ["1", "2", "3", "4", "5", "6"]
    samples = _steps(run, "samples.jsonl")
    assert sorted(set(samples)) == [1, 2, 3, 4, 5, 6]
    per_step = {s: samples.count(s) for s in set(samples)}
    assert len(set(per_step.values())) == 1, per_step  # no step's samples written twice


def _tmpfs_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=1m tmpfs /mnt && echo ok"],
                           capture_output=True, text=True, timeout=30)
    return probe.stdout.strip() == "ok"


def _resume_into_full_disk(method: str, source: Path, work: Path) -> subprocess.CompletedProcess:
    """Resume ``source`` for two more steps where the next checkpoint cannot fit."""
    largest = max(p.stat().st_size for p in (source / "checkpoints").rglob("*") if p.is_file())
    out = work / "after"
    if method == "tmpfs":  # a real ENOSPC: a tmpfs that holds the run plus half a checkpoint
        used = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
        size_kib = (used + largest // 2) // 1024 + 512
        mount = work / "mnt"
        mount.mkdir()
        script = (f'mount -t tmpfs -o size={size_kib}k tmpfs "{mount}" && cp -a "{source}" '
                  f'"{mount}/run" && cd "{mount}" && '
                  f'{" ".join(map(_quote, _command(mount / "run", "trainer.max_steps=8", "run.resume=true")))}'
                  f'; rc=$?; cp -a "{mount}/run" "{out}"; exit $rc')
        return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                               script], env=ENV, capture_output=True, text=True, timeout=1500)
    shutil.copytree(source, out, symlinks=True)
    limit = largest // 2  # a real EFBIG: no file may grow past half the largest checkpoint file

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get the error, not the signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(_command(out, "trainer.max_steps=8", "run.resume=true"), cwd=work,
                          env=ENV, capture_output=True, text=True, timeout=1500,
                          preexec_fn=limit_file_size)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


@pytest.mark.parametrize("method", ["tmpfs", "fsize"])
def test_disk_full_while_checkpointing_is_one_paragraph_and_keeps_the_previous(
        method, killed_and_resumed, tmp_path):
    if method == "tmpfs" and not _tmpfs_available():
        pytest.skip("no unprivileged mount namespaces here; the fsize case covers the path")
    source = killed_and_resumed["run"]
    assert _complete(source, 6)
    before = _digests(source / "checkpoints" / "checkpoint-6")
    done = _resume_into_full_disk(method, source, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 3, output[-4000:]
    assert "Traceback" not in output
    paragraph = next(line for line in output.splitlines() if "Disk full" in line)
    assert "writing checkpoint-8" in paragraph and "checkpoint-6 is intact" in paragraph
    assert "run.resume=true" in paragraph
    after = tmp_path / "after"
    assert not (after / "checkpoints" / "checkpoint-8").exists()  # the partial one removed
    assert _digests(after / "checkpoints" / "checkpoint-6") == before
    assert _steps(after)[:6] == [1, 2, 3, 4, 5, 6]
