"""The task-generic evaluator: pass@k estimators, reproducible numbers, misfit refusals,
answer tasks, plug-in tasks. Real sandbox runs, no mocks."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from strategy_gym.agents.evaluation.cli import main
from strategy_gym.core.stats import k_ladder, pass_at_k, pass_hat_k

ROOT = Path(__file__).resolve().parents[1]
C4_STRATEGY = ROOT / "examples" / "connect_four" / "connect_four" / "reference_strategy.py"


def _brute(n: int, c: int, k: int) -> tuple[float, float]:
    """pass@k and pass^k by enumerating every k-subset of n samples (c of them passing)."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(samples, k))
    return (sum(any(s) for s in subsets) / len(subsets), sum(all(s) for s in subsets) / len(subsets))


def test_pass_at_k_matches_enumeration():
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                at, hat = _brute(n, c, k)
                assert pass_at_k(n, c, k) == pytest.approx(at)
                assert pass_hat_k(n, c, k) == pytest.approx(hat)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 is the plain success fraction
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)
    assert k_ladder(1) == [1] and k_ladder(8) == [1, 2, 4, 8] and k_ladder(6) == [1, 2, 4, 6]


def _evaluate(out: Path, *args: str) -> int:
    return main([*args, "--out", str(out), "--no-progress", "--workers", "2"])


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evaluator")
    completions = tmp / "samples.jsonl"
    fence = "```"
    completions.write_text("\n".join(json.dumps(x) for x in [
        {"prompt": 0, "completion": f"{fence}python\n" + (ROOT / "agents/strategies/corner.py").read_text() + fence},
        {"prompt": 0, "completion": "I would rather not write code."},
        {"prompt": 0, "completion": f"{fence}python\ndef strategy(board):\n    return 'S' if board else 'A'\n{fence}"},
    ]) + "\n")
    args = ("corner", "random", str(completions), "--task", "2048", "--seeds", "eval:6")
    return [(_evaluate(tmp / name, *args), tmp / name) for name in ("a", "b")]


def test_same_seeds_same_strategies_same_files(twice):
    (rc_a, a), (rc_b, b) = twice
    assert rc_a == rc_b == 0
    for name in ("summary.json", "games.jsonl", "report.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_summary_numbers(twice):
    (_, out), _ = twice
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"]["name"] == "2048" and summary["task"]["kind"] == "strategy"
    assert summary["seeds"]["count"] == 6
    samples = summary["strategies"]["samples"]
    assert samples["units"] == 3 and samples["games"] == 18
    assert samples["stages"] == {"no_function": 1, "ok": 2}
    per = samples["per_strategy"]
    assert [p["trials"] for p in per] == [6, 6, 6]
    # pass@k over the 3 samples from the per-strategy verdicts, by the unbiased estimator
    c = sum(p["passed"] for p in per)
    table = samples["pass"]
    assert table["threshold"] == 0.5 and table["samples_per_group"] == 3
    assert set(table["pass_at_k"]) == {"1", "2", "3"}
    for k, value in table["pass_at_k"].items():
        assert value == pytest.approx(pass_at_k(3, c, int(k)))
        assert table["pass_hat_k"][k] == pytest.approx(pass_hat_k(3, c, int(k)))
    corner = summary["strategies"]["corner"]
    assert corner["successes"] == per[0]["successes"]  # the same code, the same games
    for s in summary["strategies"].values():
        low, high = s["wilson95"]
        assert low <= s["success_rate"] <= high
        assert sum(s["distributions"]["max_tile"].values()) == s["games"]
    games = [json.loads(line) for line in (out / "games.jsonl").read_text().splitlines()]
    assert len(games) == 6 + 6 + 18
    assert {g["outcome"] for g in games if g["strategy"] == "samples" and g["unit"] == 1} == {"no_function"}


def test_refuses_targets_that_do_not_fit(tmp_path, capsys):
    # A Connect Four strategy on 2048: it returns a column, and its first game says so.
    assert _evaluate(tmp_path / "x", str(C4_STRATEGY), "--task", "2048", "--seeds", "eval:3") == 2
    assert "invalid action" in capsys.readouterr().out
    solver = tmp_path / "solver.py"
    solver.write_text("def solve():\n    return 42\n")
    assert _evaluate(tmp_path / "x", str(solver), "--task", "2048", "--seeds", "eval:3") == 2
    assert "defines solve()" in capsys.readouterr().out
    assert _evaluate(tmp_path / "x", "agents/strategies/corner.py", "--task", "math") == 2
    assert "answer task" in capsys.readouterr().out
    assert _evaluate(tmp_path / "x", "corner", "--task", "no_such_task") == 2
    assert "unknown task" in capsys.readouterr().out
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_math_answers_by_seed(tmp_path):
    from strategy_gym.agents.evaluation.tasks import load_task, rows_for_seeds

    seeds = [10_000_000, 10_000_001]
    rows = rows_for_seeds(load_task("math"), seeds, "eval")
    right = [f"<answer>{r['answer']}</answer>" for r in rows]
    lines = [{"seed": seeds[0], "completion": right[0]}, {"seed": seeds[0], "completion": "<answer>-1</answer>"},
             {"seed": seeds[1], "completion": "no tags"}, {"seed": seeds[1], "completion": "<answer>-1</answer>"}]
    file = tmp_path / "math.jsonl"
    file.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert _evaluate(tmp_path / "out", str(file), "--task", "math", "--seeds", "eval:2") == 0
    s = json.loads((tmp_path / "out" / "summary.json").read_text())["strategies"]["math"]
    assert s["games"] == 4 and s["successes"] == 1
    assert s["outcomes"] == {"format_error": 1, "ok": 1, "wrong_answer": 2}
    assert s["pass"]["groups"] == 2 and s["pass"]["pass_at_k"] == {"1": 0.25, "2": 0.5}
    assert s["pass"]["pass_hat_k"] == {"1": 0.25, "2": 0.0}
    bad = tmp_path / "noseed.jsonl"
    bad.write_text(json.dumps({"completion": right[0]}) + "\n")
    assert _evaluate(tmp_path / "out2", str(bad), "--task", "math") == 2


@pytest.fixture(scope="module")
def connect_four_site(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("c4")
    source = shutil.copytree(ROOT / "examples" / "connect_four", base / "src",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--no-index", "--target", str(base / "site"),
                           str(source)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return base / "site"


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "strategy_gym.agents.evaluate", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_plugin_task_by_name(connect_four_site, tmp_path):
    done = _cli(connect_four_site, "agents/strategies/corner.py", "--task", "connect_four",
                "--out", str(tmp_path / "x"), "--no-progress")
    assert done.returncode == 2 and "expects int actions" in done.stdout
    done = _cli(connect_four_site, "reference", "--task", "connect_four", "--seeds", "eval:4",
                "--out", str(tmp_path / "c4"), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "c4" / "summary.json").read_text())
    reference = summary["strategies"]["reference"]
    assert reference["games"] == 4 and reference["stages"] == {"ok": 1}
