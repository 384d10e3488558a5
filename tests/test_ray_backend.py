"""The Ray backend: sandbox pools in Ray actors give the local pool's records, and losing an
actor mid-batch loses no game and scores none twice.

Needs the optional ``ray`` extra (``pip install 'strategy-gym[ray]'``, about 240 MB installed,
so CI's default install leaves it out): without it every test but the import check skips.
The clusters are kept small (2 CPUs, 1 sandbox worker per actor).
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from strategy_gym.core.outcomes import Outcome
from strategy_gym.play import PlaySettings, StrategyEvaluator
from strategy_gym.tasks.game2048 import strategy_game

try:
    import ray
except ImportError:  # the optional extra is not installed
    ray = None

needs_ray = pytest.mark.skipif(ray is None, reason="ray is not installed (optional extra 'ray')")

CORNER = (Path(__file__).parent.parent / "agents" / "strategies" / "corner.py").read_text()
GAME = strategy_game(4, 256)
SETTINGS = PlaySettings(seeds_per_session=2)
TEXTS = [
    CORNER,
    "def strategy(board):\n    import random\n    return random.choice('WASD')\n",  # keyed rng
    "def strategy(board):\n    return 1 / 0\n",  # runtime_error in every game
    "x = 1 / 0\ndef strategy(board):\n    return 'W'\n",  # build_error
    "def strategy(board):\n    return 'Q'\n",  # invalid_action
]
SEEDS = [list(range(100, 106))] * len(TEXTS)


@pytest.fixture(scope="module")
def local_records():
    with StrategyEvaluator(GAME, SETTINGS, workers=1) as evaluator:
        return evaluator.evaluate(TEXTS, SEEDS, raw_code=True)


def test_the_default_install_never_imports_ray():
    code = ("import sys, strategy_gym.play, strategy_gym.play.evaluator, strategy_gym.rewards.strategy;"
            "sys.exit('ray' in sys.modules)")  # fmt: skip
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        StrategyEvaluator(GAME, SETTINGS, backend="spark")


@pytest.fixture(scope="class")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@needs_ray
@pytest.mark.usefixtures("local_ray")
class TestLocalRay:
    def test_the_same_evaluation_gives_the_same_numbers_as_the_local_pool(self, local_records):
        with StrategyEvaluator(GAME, SETTINGS, backend="ray") as evaluator:
            remote = evaluator.evaluate(TEXTS, SEEDS, raw_code=True)
        assert remote == local_records  # every record: outcome, score, moves, actions
        assert [e.stage for e in remote] == [Outcome.OK] * 3 + [Outcome.BUILD_ERROR, Outcome.OK]
        assert remote[0].success_rate > 0 and remote[1].games[0].moves > 0

    def test_recorded_frames_cross_as_well(self):
        with StrategyEvaluator(GAME, SETTINGS, workers=1) as local:
            here = local.evaluate(TEXTS[:1], [[7]], raw_code=True, record=True)
        from strategy_gym.play.ray_backend import RayBackend

        with StrategyEvaluator(GAME, SETTINGS, backend=RayBackend(GAME, SETTINGS, actors=1)) as ev:
            there = ev.evaluate(TEXTS[:1], [[7]], raw_code=True, record=True)
        assert there == here and there[0].games[0].frames

    def test_an_actor_killed_mid_batch_loses_nothing_and_scores_nothing_twice(self, local_records):
        from strategy_gym.play.ray_backend import RayBackend

        class Killing(RayBackend):
            killed = False

            def _on_submit(self, slot, job):
                if not self.killed and slot == 0 and job >= 2:  # it holds jobs in flight
                    self.killed = True
                    os.kill(self.pids[0], signal.SIGKILL)

        backend = Killing(GAME, SETTINGS, actors=2, max_in_flight=2)
        with StrategyEvaluator(GAME, SETTINGS, backend=backend) as evaluator:
            backend.pids = [w["pid"] for w in backend.where()]
            remote = evaluator.evaluate(TEXTS, SEEDS, raw_code=True)
        assert backend.killed and backend.stats["actors_lost"] == 1
        assert backend.stats["resubmitted"] >= 1
        assert backend.stats["max_in_flight"] <= 2  # back-pressure held
        for evaluation, seeds in zip(remote, SEEDS, strict=True):
            if evaluation.built:
                assert [g.seed for g in evaluation.games] == seeds  # each game exactly once
        assert remote == local_records

    def test_no_actor_left_ends_as_infra_errors_without_hanging(self):
        from strategy_gym.play.ray_backend import RayBackend

        class Killing(RayBackend):
            def _on_submit(self, slot, job):
                if job == 0:
                    ray.kill(self._handles[slot], no_restart=True)

        backend = Killing(GAME, SETTINGS, actors=1, replacements=0)
        with StrategyEvaluator(GAME, SETTINGS, backend=backend) as evaluator:
            (evaluation,) = evaluator.evaluate(TEXTS[:1], SEEDS[:1], raw_code=True)
        # Not the model's fault: the code counts as built, every game is an infra_error.
        assert evaluation.stage is Outcome.OK and evaluation.games
        assert all(g.outcome is Outcome.INFRA_ERROR for g in evaluation.games)
        assert "no Ray actor left" in evaluation.games[0].message


@needs_ray
def test_two_nodes_one_actor_each_and_a_node_lost_mid_batch(local_records):
    from ray.cluster_utils import Cluster

    from strategy_gym.play.ray_backend import RayBackend

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        cluster.wait_for_nodes()

        class NodeLoss(RayBackend):
            removed = False

            def _on_submit(self, slot, job):
                if not self.removed and job >= 3 and self.nodes[slot] == worker.node_id:
                    self.removed = True
                    cluster.remove_node(worker)

        backend = NodeLoss(GAME, SETTINGS, actors=2)
        with StrategyEvaluator(GAME, SETTINGS, backend=backend) as evaluator:
            backend.nodes = [w["node"] for w in backend.where()]
            assert len(set(backend.nodes)) == 2  # spread: one actor per node
            remote = evaluator.evaluate(TEXTS, SEEDS, raw_code=True)
        assert backend.removed and backend.stats["actors_lost"] == 1
        assert remote == local_records  # the replacement has no room; the head node played on
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_the_evaluator_cli_plays_on_ray_with_the_same_numbers(tmp_path):
    pytest.importorskip("ray")
    import json

    from strategy_gym.agents.evaluate import main

    common = ["corner", "--task", "2048", "--seeds", "eval:6", "--no-progress", "--no-html"]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--ray", "--workers", "1", "--out", str(tmp_path / "ray")]) == 0
    local, remote = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("local", "ray"))
    assert local["strategies"] == remote["strategies"]
