"""Reference strategies are plain source run through the sandbox exactly like model code."""

from pathlib import Path

import pytest

from strategy_gym.agents.evaluation.tasks import BUILTIN_2048_STRATEGIES as REFERENCE_STRATEGIES
from strategy_gym.agents.evaluation.tasks import STRATEGY_DIR
from strategy_gym.envs.game2048 import new_game
from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.play import StrategyEvaluator
from strategy_gym.play.source import notebook_extract
from strategy_gym.sandbox import SandboxPolicy, check_source
from strategy_gym.tasks.game2048 import strategy_game

SOURCES = {name: (STRATEGY_DIR / file).read_text() for name, file in REFERENCE_STRATEGIES.items()}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_sources_pass_the_static_checks_and_the_notebook_extraction(name):
    source = SOURCES[name]
    assert check_source(source, SandboxPolicy()).ok
    assert notebook_extract(f"```python\n{source}```")[0] == source.strip()


@pytest.fixture(scope="module")
def played():
    seeds = list(builtin_seed_set("eval").first(16))
    with StrategyEvaluator(strategy_game(4, 256)) as evaluator:
        evaluations = evaluator.evaluate(list(SOURCES.values()), [seeds] * len(SOURCES), raw_code=True)
    return dict(zip(SOURCES, evaluations, strict=True))


def test_every_game_is_legal_and_replays_to_the_recorded_result(played):
    for ev in played.values():
        assert ev.built and len(ev.games) == 16
        assert {str(g.outcome) for g in ev.games} <= {"success", "game_over"}


def test_heuristics_beat_random_play(played):
    rates = {name: ev.success_rate for name, ev in played.items()}
    assert rates["corner"] > rates["random"] + 0.25
    assert rates["greedy"] > rates["random"] + 0.25


def test_recorded_actions_replay_to_the_recorded_result(played):
    # The trusted side stepped the game: the same actions on a fresh game give the same end.
    for ev in played.values():
        record = ev.games[0]
        game = new_game(4, 256, 0.1, record.seed)
        for action in record.actions:
            game.step(action)
        assert (game.score, game.max_tile) == (record.score, record.detail["max_tile"])


def test_strategy_dir_holds_only_the_reference_sources():
    assert sorted(p.name for p in Path(STRATEGY_DIR).glob("*.py") if p.name != "__init__.py") == sorted(
        REFERENCE_STRATEGIES.values()
    )
