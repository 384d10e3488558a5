"""Reference strategies are plain source run through the sandbox exactly like model code."""

from pathlib import Path

import pytest

from strategy_gym.agents.evaluate import REFERENCE_STRATEGIES, STRATEGY_DIR
from strategy_gym.agents.playout import PlayConfig, StrategyEvaluator, notebook_extract
from strategy_gym.envs.game2048 import replay
from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.sandbox import SandboxPolicy, check_source

SOURCES = {name: (STRATEGY_DIR / file).read_text() for name, file in REFERENCE_STRATEGIES.items()}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_sources_pass_the_static_checks_and_the_notebook_extraction(name):
    source = SOURCES[name]
    assert check_source(source, SandboxPolicy()).ok
    assert notebook_extract(f"```python\n{source}```")[0] == source.strip()


@pytest.fixture(scope="module")
def played():
    seeds = list(builtin_seed_set("eval").first(16))
    with StrategyEvaluator(PlayConfig(size=4, target=256)) as evaluator:
        evaluations = evaluator.evaluate(list(SOURCES.values()), [seeds] * len(SOURCES), raw_code=True)
    return dict(zip(SOURCES, evaluations, strict=True))


def test_every_game_is_legal_and_replays_to_the_recorded_result(played):
    for ev in played.values():
        assert ev.built and len(ev.games) == 16
        assert {g.outcome for g in ev.games} <= {"success", "game_over"}


def test_heuristics_beat_random_play(played):
    rates = {name: ev.success_rate for name, ev in played.items()}
    assert rates["corner"] > rates["random"] + 0.25
    assert rates["greedy"] > rates["random"] + 0.25


def test_replay_matches_a_direct_game(played):
    # The recorded max tile must be reachable: replaying no actions gives the start board only.
    start = replay("", 4, 256, 0.1, played["corner"].games[0].seed)
    assert start.moves == 0 and start.max_tile in (2, 4)
    assert played["corner"].games[0].max_tile > start.max_tile


def test_strategy_dir_holds_only_the_reference_sources():
    assert sorted(p.name for p in Path(STRATEGY_DIR).glob("*.py") if p.name != "__init__.py") == sorted(
        REFERENCE_STRATEGIES.values()
    )
