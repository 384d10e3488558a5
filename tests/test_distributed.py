"""Several processes of one host: the rank helpers, the step-log merge, TRL's split of a GRPO
group across ranks, the accelerate configs, and a real 2-process run (torchrun, gloo on CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strategy_gym.training import distributed
from strategy_gym.training.steplog import merge_rank_rows

ROOT = Path(__file__).resolve().parent.parent


def test_single_process_helpers_are_no_ops(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    distributed.init()
    distributed.barrier()
    assert distributed.is_main() and distributed.world_size() == 1
    assert distributed.broadcast_from_main("x") == "x"
    assert distributed.gather_to_main(3) == [3]
    assert distributed.all_ok(False) is False
    assert distributed.describe() is None


def test_each_rank_gets_its_share_of_the_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert distributed.cores_per_rank() == 4
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "32")
    assert distributed.cores_per_rank() == 1  # at least one


def test_rank_rows_merge_counts_and_keep_global_metrics():
    rows = [{"step": 3, "reward": 0.5, "step_seconds": 1.0, "reward_seconds": 0.2,
             "outcomes": {"ok": 2}, "format_outcomes": {"ok": 1, "no_function": 1},
             "completions": 2, "success_rate": 1.0},
            {"step": 3, "reward": 0.5, "step_seconds": 1.5, "reward_seconds": 0.1,
             "outcomes": {"ok": 1, "timeout": 1}, "format_outcomes": {"ok": 2},
             "completions": 2, "success_rate": 0.0}]
    merged = merge_rank_rows(rows)
    assert merged["completions"] == 4 and merged["ranks"] == 2
    assert merged["outcomes"] == {"ok": 3, "timeout": 1}
    assert merged["format_outcomes"] == {"ok": 3, "no_function": 1}
    assert merged["reward"] == 0.5 and merged["success_rate"] == 0.5
    assert merged["step_seconds"] == 1.5 and merged["reward_seconds"] == 0.2
    assert merge_rank_rows(rows[:1]) == rows[0]


@pytest.mark.parametrize(("world", "num_generations", "prompts"), [(2, 4, 1), (2, 3, 2), (4, 8, 1)])
def test_a_group_split_across_ranks_plays_the_same_seeds(world, num_generations, prompts):
    """TRL's sampler repeats each prompt ``num_generations`` times over the global batch and
    every rank takes a contiguous slice; the row (with its ``game_seed``) travels with each
    completion, so the completions of one group play the same seeds on whichever rank."""
    from trl.trainer.utils import RepeatSampler

    from strategy_gym.envs.seeds import SeedSet
    from strategy_gym.rewards.strategy import SeedPlan

    rows = [{"prompt": f"p{i}", "game_seed": 1000 + 7 * i} for i in range(8)]
    per_device = prompts * num_generations
    generation_batch = per_device * world
    sampler = RepeatSampler(rows, mini_repeat_count=num_generations,
                            batch_size=generation_batch // num_generations, shuffle=True, seed=1)
    indexes = list(sampler)[:generation_batch]
    plan = SeedPlan(SeedSet("t", range(1000, 1100)), per_completion=3)
    seeds_of_group: dict[int, set] = {}
    for r in range(world):
        mine = indexes[r * per_device:(r + 1) * per_device]
        seeds = plan.seeds_for(["x"] * len(mine), {"game_seed": [rows[i]["game_seed"] for i in mine]})
        for i, window in zip(mine, seeds, strict=True):
            seeds_of_group.setdefault(i, set()).add(tuple(window))
    assert all(len(windows) == 1 for windows in seeds_of_group.values())
    assert len({next(iter(w)) for w in seeds_of_group.values()}) == len(seeds_of_group)


@pytest.mark.parametrize("name", ["ddp-2gpu", "fsdp-2gpu"])
def test_accelerate_configs_parse(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(ROOT / "conf" / "accelerate" / f"{name}.yaml"))
    assert config.num_processes == 2 and config.num_machines == 1
    assert config.distributed_type.value == ("FSDP" if name.startswith("fsdp") else "MULTI_GPU")


# ---- a real 2-process run ---------------------------------------------------------------
# accelerate launch --cpu starts several processes only through mpirun; torchrun is what
# accelerate runs for several GPUs, and the same code path here on CPU (gloo).
SMALL = ["env=2048", "model=hub", "trainer=smoke", "env.train_rows=8", "env.eval_prompts=2",
         "env.demonstrations=4", "trainer.preflight.samples=1", "trainer.priming.enabled=true",
         "trainer.eval.after_priming=false", "trainer.smoke_steps=0"]


def _torchrun(tiny: Path, run: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--standalone", str(ROOT / "train_env.py"), *SMALL,
               f"model.path={tiny}", f"run.dir={run}", *extra]
    return subprocess.run(command, cwd=run.parent, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300"})


def _workers() -> set[str]:
    found = subprocess.run(["pgrep", "-f", "sandbox.worker import main"], capture_output=True,
                           text=True)
    return set(found.stdout.split())


@pytest.mark.timeout(1800)
def test_two_ranks_write_one_run_directory_and_resume(tmp_path):
    from strategy_gym.training.tiny_models import save_tiny_model

    tiny = save_tiny_model("qwen3", tmp_path / "qwen3", seed=0)
    run = tmp_path / "runs" / "run"
    run.parent.mkdir()
    before = _workers()
    done = _torchrun(tiny, run)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert [p.name for p in run.parent.iterdir()] == ["run"]  # one directory, rank 0's
    assert sum(line.startswith("report: ") for line in done.stdout.splitlines()) == 1 and (run / "report.md").is_file()
    assert "2 processes (data parallel" in (run / "report.md").read_text()
    rows = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    per_rank = 2  # trainer=smoke: prompts_per_step 1 x num_generations 2 on each rank
    for row in rows:
        assert row["ranks"] == 2 and row["completions"] == 2 * per_rank
        assert sum(row["format_outcomes"].values()) == 2 * per_rank
        assert sum(row["outcomes"].values()) == 2 * per_rank
    samples = (run / "samples.jsonl").read_text().splitlines()
    assert len(samples) == 2 * 2 * per_rank
    assert (run / "checkpoints" / "checkpoint-2" / "rng_state_1.pth").is_file()

    resumed = _torchrun(tiny, run, "run.resume=true", "trainer.max_steps=3", "trainer.save_steps=3")
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "resuming from" in resumed.stdout
    rows = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3] and rows[-1]["completions"] == 2 * per_rank
    give_up = time.monotonic() + 20
    while not _workers() <= before and time.monotonic() < give_up:
        time.sleep(0.2)
    assert _workers() <= before  # no sandbox worker outlives the ranks
