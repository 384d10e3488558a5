"""The trusted game master: lockstep play through real sandbox workers, and what crosses the pipe."""

import json
import os
import signal
import time
from pathlib import Path

import pytest
from sandbox_fixtures.host import children

from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.play import GameMaster, PlaySettings, StrategyEvaluator
from strategy_gym.rewards.strategy import close_rewards, notebook_rewards, shaped_rewards
from strategy_gym.sandbox import Job, SandboxPolicy, SandboxPool
from strategy_gym.sandbox.session import Session
from strategy_gym.tasks.game2048 import strategy_game

GOLDEN = Path(__file__).parent / "fixtures" / "rewards_2048_golden.json"
CORNER = (Path(__file__).parent.parent / "agents" / "strategies" / "corner.py").read_text()
GAME = strategy_game(4, 256)


def strategy(body: str) -> str:
    return "def strategy(board):\n" + "".join(f"    {line}\n" for line in body.splitlines())


def test_rewards_equal_those_of_the_replay_design_on_the_same_completions():
    # Values recorded from the previous design (game in the child, trusted replay) on the
    # same completions and seeds; random strategies included (per-game keyed streams).
    golden = json.loads(GOLDEN.read_text())
    texts = golden["texts"]
    for preset, factory, game in (("shaped", shaped_rewards, GAME),
                                  ("notebook", notebook_rewards, strategy_game(6, 2048))):
        fns = factory(game, workers=2)
        try:
            for fn in fns:
                assert fn(texts, game_seed=[11] * len(texts)) == golden["presets"][preset][fn.__name__]
        finally:
            close_rewards(fns)


def test_an_escaped_strategy_finds_no_seed_rng_or_game_in_its_process():
    seeds = list(builtin_seed_set("test").first(8))
    master = GameMaster(GAME, seeds)
    session = Session(CORNER, SandboxPolicy(), master, 30.0, tuple(seeds),
                      runner="play_fixtures.spy:spy")
    with SandboxPool(workers=1) as pool:
        (result,) = pool.run_sessions([session])
    assert result.ok, result.message
    found_ints, found_types = set(result.value["ints"]), set(result.value["types"])
    assert not found_ints & set(seeds)
    assert not found_types & {"Game", "Game2048Env", "GameMaster", "Generator", "ndarray",
                              "TimeLimit", "OrderEnforcing", "SandboxPool"}
    records = master.records(result)
    assert all(r.outcome in (Outcome.SUCCESS, Outcome.GAME_OVER) for r in records)


class _SlowTrustedSide:
    """A driver that takes 0.4 s per step: the trusted side, not the child, is slow."""

    def __init__(self, steps: int) -> None:
        self.steps, self.done = steps, 0

    def restart(self) -> None:
        self.done = 0

    def advance(self, answers):
        if self.done:
            time.sleep(0.4)
        self.done += 1
        return [[0, [[2, 0, 0, 0]] * 4]] if self.done <= self.steps else None


def test_the_trusted_sides_own_time_is_not_charged_to_the_childs_budget():
    # 8 steps of 0.4 s on the trusted side, a 1 s budget: the child itself takes ~ms.
    driver = _SlowTrustedSide(steps=8)
    session = Session(CORNER, SandboxPolicy(time_limit_s=0.5), driver, 1.0)
    with SandboxPool(workers=1) as pool:
        (result,) = pool.run_sessions([session])
    assert result.ok, result.message
    assert driver.done == 9


@pytest.mark.parametrize(("body", "budget", "message"), [
    ("while True:\n    pass", 30.0, "one move took longer than 0.5 s"),
    ("for i in range(1_500_000):\n    pass", 1.0, "the session exceeded its budget of 1.0 s"),
])
def test_the_childs_own_time_ends_the_session(body, budget, message):
    driver = _SlowTrustedSide(steps=100)
    session = Session(strategy(body + "\nreturn 'W'"), SandboxPolicy(time_limit_s=0.5), driver, budget)
    with SandboxPool(workers=1) as pool:
        (result,) = pool.run_sessions([session])
    assert result.outcome is Outcome.TIMEOUT and result.message == message
    assert driver.done < 100


@pytest.mark.parametrize(("body", "outcome"), [
    ("return 'é'", Outcome.INVALID_ACTION),
    ("return 'W' * 2_000_000", Outcome.OUTPUT_TOO_LARGE),
    ("return 7", Outcome.INVALID_ACTION),
    ("return None", Outcome.INVALID_ACTION),
    ("return ['W']", Outcome.INVALID_ACTION),
    ("return 'W ' * 3", Outcome.INVALID_ACTION),
    ("return {'W': board}", Outcome.INVALID_ACTION),
    ("return 'W\\x00'", Outcome.INVALID_ACTION),
    ("raise SystemExit(0)", Outcome.RUNTIME_ERROR),
])
def test_whatever_crosses_the_pipe_becomes_an_outcome(body, outcome):
    code = strategy(f"if board[0][0] >= 0:\n    pass\n{body}")
    with StrategyEvaluator(GAME, PlaySettings(time_limit_s=2.0), workers=1) as evaluator:
        (ev,) = evaluator.evaluate([code], [[1, 2, 3]], raw_code=True)
    assert ev.built and [g.outcome for g in ev.games] == [outcome] * 3
    assert all(len(g.message) <= 300 for g in ev.games)


def test_lockstep_games_step_the_env_exactly_as_a_direct_loop_does():
    seeds = [5, 6, 7, 8]
    with StrategyEvaluator(GAME, workers=1) as evaluator:
        (ev,) = evaluator.evaluate([CORNER], [seeds], raw_code=True, record=True)
    for record in ev.games:
        env = GAME.make_env()
        obs, info = env.reset(seed=record.seed)
        for view, action in zip(record.frames, record.actions, strict=True):
            assert view == GAME.view(obs, info)
            obs, _, terminated, _, info = env.step(action)
        assert terminated and record.score == info["score"]
        assert record.outcome is GAME.judge(True, False, info)


def test_a_runner_that_fails_to_load_costs_later_batches_no_wait():
    policy = SandboxPolicy()
    job = Job("def strategy(board):\n    return 'W'\n", "play_fixtures.broken_runner:play", {}, policy)
    with SandboxPool(workers=1) as pool:
        (first,) = pool.run_batch([job])
        started = time.monotonic()
        (again,) = pool.run_batch([job])
        later = time.monotonic() - started
        ok = pool.run(Job("def f():\n    return 1\n", "strategy_gym.sandbox.runners:call",
                          {"args": []}, SandboxPolicy(entry_point="f")))
    assert first.outcome is Outcome.TASK_ERROR and "cannot be imported" in first.message
    assert again.outcome is Outcome.TASK_ERROR and later < 1.0
    assert ok.ok and ok.value == 1


def wait_for(condition, timeout_s: float = 5.0):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
    return value


def _running(pids: list[int]) -> list[int]:
    """The pids that are neither gone nor zombies."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive


def test_a_killed_spare_is_replaced_before_a_job_is_sent_to_it():
    job = Job("def f():\n    return 2\n", "strategy_gym.sandbox.runners:call", {"args": []},
              SandboxPolicy(entry_point="f"))
    with SandboxPool(workers=1) as pool:
        assert pool.run(job).ok
        (worker,) = pool.worker_pids()
        # The child that ran the job may still be exiting: wait for the spare alone.
        (spare,) = wait_for(lambda: live if len(live := _running(children(worker))) == 1 else None,
                            timeout_s=30.0)
        os.kill(spare, signal.SIGKILL)  # a spare waits for its job: it cannot exit by itself
        results = pool.run_batch([job] * 4)
    assert [r.outcome for r in results] == [Outcome.OK] * 4


def test_a_worker_killed_mid_batch_loses_no_game():
    slow = strategy("total = 0\nfor i in range(20000):\n    total += i\nreturn 'WASD'[total % 4 if board[0][0] else 0]")
    with StrategyEvaluator(GAME, PlaySettings(time_limit_s=5.0), workers=2) as evaluator:
        evaluator.evaluate([CORNER], [[1]], raw_code=True)  # start the workers
        victim = evaluator._pool.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        evs = evaluator.evaluate([slow, CORNER], [[1, 2], [3, 4]], raw_code=True)
    for ev in evs:
        assert ev.built and all(g.outcome not in (Outcome.CRASHED, Outcome.INFRA_ERROR) for g in ev.games)


def _broken_view(obs, info):
    raise KeyError("the plug-in forgot a key")


def test_a_task_whose_game_code_raises_gets_task_errors_naming_its_function_and_file():
    from dataclasses import replace

    broken = replace(GAME, view=_broken_view)
    with StrategyEvaluator(broken, workers=1) as evaluator:
        (ev,) = evaluator.evaluate([CORNER], [[1, 2]], raw_code=True)
    assert [g.outcome for g in ev.games] == [Outcome.TASK_ERROR] * 2
    assert "_broken_view" in ev.games[0].message and "test_play.py" in ev.games[0].message


def test_a_runner_returning_non_plain_data_is_the_task_authors_error():
    job = Job("def f():\n    return 1\n", "play_fixtures.bad_runner:returns_a_set", {},
              SandboxPolicy(entry_point="f"))
    with SandboxPool(workers=1) as pool:
        result = pool.run(job)
    assert result.outcome is Outcome.TASK_ERROR and "returns_a_set" in result.message


def test_a_view_that_is_not_plain_data_is_the_task_authors_error():
    from dataclasses import replace

    for bad in ({1, 2}, b"board", 2 + 3j):
        game = replace(GAME, view=lambda obs, info, bad=bad: [bad])
        with StrategyEvaluator(game, workers=1) as evaluator:
            (ev,) = evaluator.evaluate([CORNER], [[1, 2]], raw_code=True)
        assert [g.outcome for g in ev.games] == [Outcome.TASK_ERROR] * 2, ev.games
        assert "a view must be plain data" in ev.games[0].message
