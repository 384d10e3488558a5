"""Plug-in tasks: the example packages installed for real, and broken plug-ins reported by name.

The examples (examples/connect_four, examples/nim) are built and installed with pip into a
temporary target folder, which goes on ``sys.path`` (this process) and ``PYTHONPATH``
(subprocesses): the same entry-point discovery an installed plug-in gets, without changing the
project's venv. Broken plug-ins are tiny packages written into ``tmp_path`` with a
``*.dist-info/entry_points.txt``.
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

from strategy_gym.core.stats import wilson_interval
from strategy_gym.envs.seeds import parse_seed_spec
from strategy_gym.tasks.check import FAIL, PASS, check_task
from strategy_gym.tasks.registry import TaskRegistry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "connect_four"
EXAMPLES = [EXAMPLE, ROOT / "examples" / "nim"]


def _run(args: list[str], paths: list[Path], cwd: Path = ROOT, timeout: int = 300):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, [*paths, ROOT])), COLUMNS="200")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    """Both example packages, pip-installed (not editable) into one temporary site folder."""
    base = tmp_path_factory.mktemp("examples")
    sources = [shutil.copytree(example, base / example.name, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__")) for example in EXAMPLES]  # the checkout stays clean
    site = base / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(site), *map(str, sources)],
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
        no_kwargs_reward = sg_broken_tasks:no_kwargs_reward
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


def scores_without_kwargs(completions):
    return [0.0 for _ in completions]


def no_kwargs_reward():
    return _task("no_kwargs_reward", "sg_broken/Fine-v0",
                 {"default": lambda: [says_yes, scores_without_kwargs]})
'''


@pytest.mark.parametrize("name", ["connect_four", "nim"])
def test_examples_are_discovered_through_their_entry_points_and_pass_the_checker(
        example_site, name):
    registry = TaskRegistry()
    task = registry.get(name)
    assert task.strategy_game is not None and task.runner is None
    assert task.strategy_game.env_id == task.env_id
    report = check_task(name, registry)
    statuses = {r.step: r.status for r in report.results}
    assert report.ok, [r for r in report.results if r.status == FAIL]
    assert statuses["check_env"] == statuses["sandbox"] == statuses["assess"] == PASS
    scores = report.scores["shaped"]
    assert set(scores) == {"function_works", "no_cheating", "strategy_succeeds"}
    crash = scores["strategy_succeeds"][report.labels.index("crashes (bad)")]
    assert crash == -0.5  # the crashing function was really played: every game broken


def test_reference_strategy_over_a_seed_set_through_the_game_master(example_site):
    from connect_four.task import reference_strategy

    from strategy_gym.play import StrategyEvaluator

    seeds = parse_seed_spec("eval:48")
    naive = "def strategy(board):\n    return [c for c in range(7) if board[0][c] == 0][0]"
    game = TaskRegistry().get("connect_four").strategy_game
    with StrategyEvaluator(game, workers=2) as evaluator:
        reference, weak = evaluator.evaluate([reference_strategy(), naive], [seeds] * 2)
    wins = [sum(g.success for g in ev.games) for ev in (reference, weak)]
    assert len(reference.games) == len(weak.games) == 48
    assert wins[0] >= 0.8 * 48, wins
    assert wilson_interval(wins[1], 48)[1] < wilson_interval(wins[0], 48)[0], wins


def test_nim_demonstrations_span_weak_to_perfect_play(example_site):
    task = TaskRegistry().get("nim")
    demos = [row["completion"] for row in task.demonstrations(3, 0)]
    scores = [a.score for a in task.assess(demos)]
    assert scores[2] == 1.0 and min(scores) < 1.0, scores  # the nim-sum rule wins every game


@pytest.mark.parametrize("name", ["connect_four", "nim"])
def test_cli_lists_and_checks_the_installed_examples(example_site, name):
    listing = _run(["-m", "strategy_gym.tasks", "list"], [example_site])
    assert listing.returncode == 0, listing.stderr
    assert name in listing.stdout and TaskRegistry().get(name).env_id in listing.stdout
    check = _run(["-m", "strategy_gym.tasks", "check", name], [example_site])
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"{name}: all checks passed" in check.stdout


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
    with pytest.raises(LookupError, match="pygame"):  # imported when used, not when listed
        registry.get("broken_import")
    assert "pygame" in registry.errors["broken_import"].reason
    with pytest.raises(LookupError, match="no_rewards.*declares no reward functions"):
        registry.get("no_rewards")
    with pytest.raises(LookupError, match="tasks.yaml not found"):
        registry.get("factory_raises")

    listing = _run(["-m", "strategy_gym.tasks", "list"], [broken_site, example_site])
    assert listing.returncode == 0, listing.stderr
    out = listing.stdout
    assert "plug-in 'broken_import' failed to load (sg_broken_import:make_task in " in out
    assert "sg_broken_import.py): ImportError: this plug-in needs the pygame package" in out
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


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from strategy_gym.training.tiny_models import save_tiny_model

    return save_tiny_model("qwen3", tmp_path_factory.mktemp("tiny") / "qwen3", seed=0)


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~80 s each on a 2-core machine: priming, 2 GRPO steps, eval
@pytest.mark.parametrize("env", [["env=connect_four"], ["env=task", "env.name=nim"]])
def test_two_grpo_steps_of_train_env_on_each_example(example_site, tiny_model, tmp_path, env):
    run_dir = tmp_path / "run"
    small = ["env.train_rows=4", "env.eval_prompts=2", "env.demonstrations=4",
             "trainer.eval.after_priming=false", "trainer.preflight.samples=1"]
    done = _run(["train_env.py", *env, "model=hub", f"model.path={tiny_model}", "trainer=smoke",
                 "trainer.max_steps=2", *small, f"run.dir={run_dir}"], [example_site], timeout=800)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert [row["step"] for row in steps] == [1, 2]
    for row in steps:  # the library's three reward functions were called by the trainer
        for name in ("function_works", "no_cheating", "strategy_succeeds"):
            assert isinstance(row[f"reward/{name}/mean"], float), sorted(row)


def test_the_example_ships_a_hydra_env_config_found_through_its_search_path(example_site):
    # In a fresh process: Hydra scans hydra_plugins once per process, before this site existed.
    probe = ("from hydra import compose, initialize_config_dir\n"
             f"with initialize_config_dir(config_dir={str(ROOT / 'conf')!r}, version_base=None):\n"
             "    cfg = compose(config_name='config', overrides=['env=connect_four'])\n"
             "print(cfg.env.name, cfg.env.train_rows)\n")
    done = _run(["-c", probe], [example_site])
    assert done.returncode == 0, done.stderr[-2000:]
    name, rows = done.stdout.split()
    assert name == "connect_four" and int(rows) > 0


def test_plugin_faults_are_task_errors_naming_the_plugins_function_and_file(broken_site):
    from strategy_gym.core.outcomes import Outcome

    registry = TaskRegistry()
    with pytest.raises(LookupError) as caught:
        registry.get("factory_raises")
    message = str(caught.value)
    assert "sg_broken_tasks:factory_raises in " in message and "sg_broken_tasks.py" in message
    assert message.endswith("[task_error]")
    assert registry.errors["factory_raises"].outcome is Outcome.TASK_ERROR


def test_a_reward_function_without_kwargs_is_named_with_its_file(broken_site):
    from strategy_gym.tasks.registry import RewardSignatureError

    task = TaskRegistry().get("no_kwargs_reward")
    with pytest.raises(RewardSignatureError) as caught:
        task.rewards()
    message = str(caught.value)
    where = str(broken_site / "sg_broken_tasks.py")
    assert "sg_broken_tasks.scores_without_kwargs (" + where + ":" in message
    assert "must accept **kwargs" in message and "[task_error]" in message
    report = check_task("no_kwargs_reward", TaskRegistry())
    failed = {r.step: r.detail for r in report.results if r.status == FAIL}
    assert "scores_without_kwargs" in failed["rewards[default]"]
    assert where in failed["rewards[default]"]  # the author's file, not the checker's
