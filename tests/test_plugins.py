"""Plug-in tasks: the example package installed for real, and broken plug-ins reported by name.

The example (examples/connect_four) is built and installed with pip into a temporary target
folder, which goes on ``sys.path`` (this process) and ``PYTHONPATH`` (subprocesses): the same
entry-point discovery an installed plug-in gets, without changing the project's venv. Broken
plug-ins are tiny packages written into ``tmp_path`` with a ``*.dist-info/entry_points.txt``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from strategy_gym.envs.seeds import parse_seed_spec
from strategy_gym.tasks.check import FAIL, PASS, check_task
from strategy_gym.tasks.registry import TaskRegistry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "connect_four"


def _run(args: list[str], paths: list[Path], cwd: Path = ROOT, timeout: int = 300):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, [*paths, ROOT])), COLUMNS="200")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    """The example package, pip-installed (not editable) into a temporary site folder."""
    base = tmp_path_factory.mktemp("connect_four")
    source = shutil.copytree(EXAMPLE, base / "src", ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))  # build from a copy: the checkout stays clean
    site = base / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory) -> Path:
    """Four broken plug-ins and one healthy one in a fake distribution ``sg-broken``."""
    site = tmp_path_factory.mktemp("broken_site")
    (site / "sg_broken_import.py").write_text(
        'raise ImportError("this plug-in needs the pygame package")\n')
    (site / "sg_broken_tasks.py").write_text(BROKEN_TASKS)
    dist = site / "sg_broken-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sg-broken\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [strategy_gym.tasks]
        broken_import = sg_broken_import:make_task
        no_rewards = sg_broken_tasks:no_rewards
        factory_raises = sg_broken_tasks:factory_raises
        bad_env = sg_broken_tasks:bad_env
        bad_reward = sg_broken_tasks:bad_reward
        """))
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))


BROKEN_TASKS = '''
import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry

from strategy_gym.tasks.registry import Assessment, Task


class OutOfSpaceEnv(gym.Env):
    """Promises observations in [0, 1] and returns 5: check_env must catch it."""

    observation_space = gym.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.full(2, 5.0, dtype=np.float32), {}

    def step(self, action):
        return np.full(2, 5.0, dtype=np.float32), 0.0, True, False, {}


class FineEnv(OutOfSpaceEnv):
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), 0.0, True, False, {}


for env_id, cls in (("sg_broken/OutOfSpace-v0", OutOfSpaceEnv), ("sg_broken/Fine-v0", FineEnv)):
    if env_id not in registry:
        register(id=env_id, entry_point=cls)


class YesContract:
    name = "yes"

    def parse(self, completion):
        return type("Parsed", (), {"ok": "yes" in completion, "value": None, "reason": ""})()


def says_yes(completions, **kwargs):
    return [1.0 if "yes" in str(c) else 0.0 for c in completions]


def divides_by_zero(completions, **kwargs):
    return [1 / 0 for _ in completions]


def _task(name, env_id, rewards):
    return Task(
        name=name, env_id=env_id, description="a test double of a plug-in",
        build_dataset=lambda split, n, seed: [
            {"prompt": [{"role": "user", "content": "say yes"}], "k": i} for i in range(n)],
        contract=YesContract(), reward_presets=rewards, default_preset="default",
        assess=lambda cs, rows: [Assessment("yes" in c, float("yes" in c), "ok") for c in cs],
        demonstrations=lambda n, seed: [
            {"prompt": [{"role": "user", "content": "say yes"}], "completion": "yes", "k": 0}] * n,
    )


def no_rewards():
    return _task("no_rewards", "sg_broken/Fine-v0", {})


def factory_raises():
    raise RuntimeError("config file tasks.yaml not found")


def bad_env():
    return _task("bad_env", "sg_broken/OutOfSpace-v0", {"default": lambda: [says_yes]})


def bad_reward():
    return _task("bad_reward", "sg_broken/Fine-v0", {"default": lambda: [divides_by_zero]})
'''


def test_example_is_discovered_through_its_entry_point_and_passes_the_checker(example_site):
    registry = TaskRegistry()
    assert "connect_four" in registry.names()
    task = registry.get("connect_four")
    assert task.env_id == "connect_four/ConnectFour-v0" and task.runner == "connect_four.runner:play"
    report = check_task("connect_four", registry)
    statuses = {r.step: r.status for r in report.results}
    assert report.ok, [r for r in report.results if r.status == FAIL]
    assert statuses["check_env"] == statuses["sandbox"] == statuses["assess"] == PASS
    scores = report.scores["default"]
    assert set(scores) == {"function_works", "strategy_wins", "no_cheating"}
    labels = report.labels
    crash = scores["strategy_wins"][labels.index("crashes (bad)")]
    assert crash == -3.0  # the crashing function was really run in the sandbox


def test_reference_strategy_over_a_seed_set_through_the_sandbox(example_site):
    from connect_four.evaluate import evaluate
    from connect_four.task import reference_strategy

    seeds = parse_seed_spec("eval:48")
    reference = evaluate(reference_strategy(), seeds)
    naive = evaluate("def strategy(board):\n    return [c for c in range(7) if board[0][c] == 0][0]",
                     seeds)
    assert reference.games == naive.games == 48
    assert reference.win_rate >= 0.8, reference.statuses
    assert naive.interval[1] < reference.interval[0], (naive, reference)  # clearly separated


def test_cli_lists_and_checks_the_installed_example(example_site):
    listing = _run(["-m", "strategy_gym.tasks", "list"], [example_site])
    assert listing.returncode == 0, listing.stderr
    assert "connect_four" in listing.stdout and "connect_four/ConnectFour-v0" in listing.stdout
    check = _run(["-m", "strategy_gym.tasks", "check", "connect_four"], [example_site])
    assert check.returncode == 0, check.stdout + check.stderr
    assert "connect_four: all checks passed" in check.stdout


def test_the_example_packages_own_tests_pass_when_installed(example_site, tmp_path):
    tests = shutil.copytree(EXAMPLE / "tests", tmp_path / "tests")
    done = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)], [example_site],
                cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_broken_plugins_are_reported_by_name_and_the_others_keep_working(broken_site, example_site):
    registry = TaskRegistry()
    names = registry.names()
    assert {"broken_import", "no_rewards", "factory_raises", "connect_four"} <= set(names)
    assert registry.get("connect_four").env_id == "connect_four/ConnectFour-v0"
    assert "pygame" in registry.errors["broken_import"].reason
    with pytest.raises(LookupError, match="no_rewards.*declares no reward functions"):
        registry.get("no_rewards")
    with pytest.raises(LookupError, match="tasks.yaml not found"):
        registry.get("factory_raises")

    listing = _run(["-m", "strategy_gym.tasks", "list"], [broken_site, example_site])
    assert listing.returncode == 0, listing.stderr
    out = listing.stdout
    assert "plug-in 'broken_import' failed to load (sg_broken_import:make_task): ImportError: " \
           "this plug-in needs the pygame package" in out
    assert "plug-in 'no_rewards' failed to load" in out and "declares no reward functions" in out
    assert "plug-in 'factory_raises' failed to load" in out and "RuntimeError" in out
    assert "connect_four/ConnectFour-v0" in out and "sg_broken/OutOfSpace-v0" in out


@pytest.mark.parametrize(("name", "step", "reason"), [
    ("bad_env", "check_env", "observation"),
    ("bad_reward", "rewards[default]", "ZeroDivisionError"),
    ("no_rewards", "load", "declares no reward functions"),
    ("broken_import", "load", "pygame"),
])
def test_checker_fails_a_broken_plugin_with_the_reason(broken_site, name, step, reason):
    report = check_task(name, TaskRegistry())
    failed = {r.step: r.detail for r in report.results if r.status == FAIL}
    assert not report.ok and step in failed and reason in failed[step], report.results


def test_cli_check_exits_nonzero_on_a_broken_plugin(broken_site):
    done = _run(["-m", "strategy_gym.tasks", "check", "bad_env"], [broken_site])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL bad_env check_env:" in done.stdout and "some checks failed" in done.stdout
    healthy = _run(["-m", "strategy_gym.tasks", "check", "bad_env_typo"], [broken_site])
    assert healthy.returncode == 1 and "unknown task 'bad_env_typo'" in healthy.stdout


@pytest.mark.slow
@pytest.mark.timeout(1500)  # ~5 min on an idle 2-core machine; preflight, priming, 2 steps, evals
def test_two_grpo_steps_of_train_env_on_the_example(example_site, tmp_path):
    run_dir = tmp_path / "run"
    small = ["env.train_rows=4", "env.eval_prompts=2", "env.demonstrations=4"]  # CPU-sized
    done = _run(["train_env.py", "env=connect_four", "model=smollm2-135m",
                 "trainer=smoke", "trainer.max_steps=2", *small, f"run.dir={run_dir}"],
                [example_site], timeout=1400)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert [row["step"] for row in steps] == [1, 2]
    for row in steps:  # the plug-in's three reward functions were called by the trainer
        for name in ("function_works", "strategy_wins", "no_cheating"):
            assert isinstance(row[f"reward/{name}/mean"], float), sorted(row)


def test_the_example_ships_a_hydra_env_config_found_through_its_search_path(example_site):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base=None):
        cfg = compose(config_name="config", overrides=["env=connect_four"])
    assert cfg.env.name == "connect_four" and cfg.env.train_rows > 0
