"""2048 reward functions through the real sandbox: notebook values, shaping, seeds, hostility."""

import time
from types import SimpleNamespace

import numpy as np
import pytest

from strategy_gym.agents.evaluation.tasks import BUILTIN_2048_STRATEGIES, STRATEGY_DIR
from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.play import GameRecord, StrategyEvaluation
from strategy_gym.rewards.strategy import (
    SeedPlan,
    close_rewards,
    shaped_strategy_score,
)
from strategy_gym.rewards.strategy import (
    notebook_rewards as generic_notebook_rewards,
)
from strategy_gym.rewards.strategy import (
    shaped_rewards as generic_shaped_rewards,
)
from strategy_gym.tasks.game2048 import strategy_game, tile_progress
from strategy_gym.training.recording import wrap_rewards


def shaped_rewards(size=4, target=256, p_four=0.1, **options):
    return generic_shaped_rewards(strategy_game(size, target, p_four), **options)


def notebook_rewards(size=6, target=2048, p_four=0.1, **options):
    return generic_notebook_rewards(strategy_game(size, target, p_four), **options)

F = "```"


def fenced(body: str) -> str:
    return f"Here is my strategy:\n{F}python\n{body}\n{F}\n"


# The reference corner player (the same source the sandbox plays as model code).
CORNER = (STRATEGY_DIR / BUILTIN_2048_STRATEGIES["corner"]).read_text()

# name -> (completion, (function_works, no_cheating, strategy_succeeds)) on 4x4 / 32, seed 5.
NOTEBOOK_CASES = {
    "working strategy reaching the target": (fenced(CORNER), (1.0, 1.0, 20.0)),
    "import numpy": (fenced("def strategy(board):\n    import numpy as np\n    return 'W'"), (1.0, -20.0, 0.0)),
    "no code block": ("def strategy(board):\n    return 'W'\n", (-2.0, -1.0, 0.0)),
    "syntax error": (fenced("def strategy(board):\n    return 'W' +"), (-2.0, -20.0, 0.0)),
    "always W": (fenced("def strategy(board):\n    return 'W'"), (1.0, 1.0, -1.0)),
    "raises": (fenced("def strategy(board):\n    return board[99][0]"), (1.0, 1.0, -3.0)),
    "returns an int": (fenced("def strategy(board):\n    return 2"), (1.0, 1.0, 2.0)),
    "invalid letter": (fenced("def strategy(board):\n    return 'Q'"), (1.0, 1.0, 2.0)),
    "building raises": (fenced("def strategy(board):\n    return 'W'\nLIMIT = 1 / 0"), (-0.5, 1.0, 0.0)),
}


@pytest.fixture(scope="module")
def notebook_small():
    fns = notebook_rewards(size=4, target=32, time_limit_s=1.0)
    yield fns
    close_rewards(fns)


def test_notebook_values_for_hand_written_completions(notebook_small):
    texts = [case[0] for case in NOTEBOOK_CASES.values()]
    conversational = [[{"role": "assistant", "content": t}] for t in texts]
    kwargs = {"game_seed": [5] * len(texts), "prompts": [[{"role": "user", "content": "p"}]] * len(texts)}
    got = list(zip(*(fn(conversational, **kwargs) for fn in notebook_small), strict=True))
    assert [fn.__name__ for fn in notebook_small] == ["function_works", "no_cheating", "strategy_succeeds"]
    assert dict(zip(NOTEBOOK_CASES, got, strict=True)) == {k: v[1] for k, v in NOTEBOOK_CASES.items()}


def test_game_that_ends_without_the_target_scores_two():
    fns = notebook_rewards(size=3, target=2048, time_limit_s=2.0)
    try:
        values = [fn([fenced(CORNER)], game_seed=[11]) for fn in fns]
    finally:
        close_rewards(fns)
    assert values == [[1.0], [1.0], [2.0]]


def test_plain_and_conversational_completions_score_the_same(notebook_small):
    text = fenced(CORNER)
    plain = notebook_small[2]([text], game_seed=[5])
    chat = notebook_small[2]([[{"role": "assistant", "content": text}]], game_seed=[np.int64(5)])
    assert plain == chat == [20.0]


def test_accepts_every_kwarg_trl_passes(notebook_small):
    # trl 1.16 GRPOTrainer._calculate_rewards passes these besides the dataset columns.
    trl_kwargs = {
        "prompts": [[{"role": "user", "content": "p"}]] * 2, "completion_ids": [[1, 2], [3]],
        "trainer_state": SimpleNamespace(global_step=12), "log_extra": lambda *a: None,
        "log_metric": lambda *a: None, "game_seed": [5, 5],
    }  # fmt: skip
    completions = [[{"role": "assistant", "content": fenced(CORNER)}], [{"role": "assistant", "content": "x"}]]
    assert [fn(completions, **trl_kwargs) for fn in notebook_small] == [[1.0, -2.0], [1.0, -1.0], [20.0, 0.0]]


def test_three_functions_share_one_evaluation(notebook_small):
    texts = [fenced(CORNER), "nothing"]
    first = notebook_small[0].evaluate(texts, game_seed=[7, 7])
    third = notebook_small[2].evaluate(texts, game_seed=[7, 7])
    assert all(a is b for a, b in zip(first, third, strict=True))


HOSTILE = {
    "while True": "def strategy(board):\n    while True:\n        pass",
    "10**10**8": "def strategy(board):\n    return str(10**10**8)",
    "memory bomb": "def strategy(board):\n    x = [1] * (10**10)\n    return 'W'",
    "growing list": "def strategy(board):\n    x = []\n    while True:\n        x.append([0] * 10**7)",
    "escape": "def strategy(board):\n    return open('/etc/passwd').read()",
}


def test_hostile_completions_become_values_within_the_deadline():
    limit = 1.0
    fns = shaped_rewards(time_limit_s=limit, seeds_per_group=4)
    texts = [fenced(body) for body in HOSTILE.values()] + [12345, None, [{"role": "x"}]]
    start = time.monotonic()
    try:
        values = [fn(texts) for fn in fns]
        evaluations = fns[0].evaluate(texts)
    finally:
        close_rewards(fns)
    elapsed = time.monotonic() - start
    assert all(isinstance(v, float) for column in values for v in column)
    outcomes = [ev.outcome for ev in evaluations[: len(HOSTILE)]]
    assert outcomes[:3] == ["timeout", "timeout", "memory_limit"]
    assert outcomes[3] in ("timeout", "memory_limit")  # which limit a growing list hits first varies
    assert outcomes[4] == "forbidden"
    assert [ev.stage for ev in evaluations[len(HOSTILE) :]] == ["no_function"] * 3
    # One session per completion: the first move over the limit ends every game at once,
    # so a hostile completion costs one time limit, never one per seed.
    stopped = evaluations[0].games
    assert len(stopped) > 1 and all(g.outcome == "timeout" and "longer than" in g.message
                                    for g in stopped)  # fmt: skip
    assert elapsed < 4 * limit * len(HOSTILE) + 30


def test_shaped_values_for_broken_and_working_strategies():
    fns = shaped_rewards(size=4, target=64, seeds_per_group=3, time_limit_s=1.0)
    texts = [fenced(CORNER), fenced("def strategy(board):\n    return 'W'"), "no code", fenced("import os\ndef strategy(board):\n    return 'W'")]
    try:
        columns = [fn(texts, game_seed=[3, 3, 3, 3]) for fn in fns]
        recorded = wrap_rewards(fns)
        counts = [r.new_outcome_counts() for r in recorded]
        recorded[0](completions=[fenced(CORNER)], game_seed=[4])
        again = recorded[0].new_outcome_counts()
    finally:
        close_rewards(fns)
    # One function of the preset reports; each completion is counted once, as its outcome.
    assert counts == [{"success": 1, "stalled": 1, "no_function": 1, "import_violation": 1}, {}, {}]
    assert again == {"success": 1}
    works, cheating, play = columns
    assert works == [0.5, 0.0, -1.0, -0.5]  # always "W" never reads its board: no format credit
    assert cheating == [0.0, 0.0, 0.0, -2.0]
    assert play[0] == pytest.approx(1.0 + 0.2)  # corner reaches 64 on these seeds
    assert play[1] == pytest.approx(-0.5)  # always "W" stalls on every seed
    assert play[2:] == [0.0, 0.0]


def ev_with(*games):
    return StrategyEvaluation("code", Outcome.OK, "", tuple(games))


def game(seed, outcome, max_tile, target=256):
    return GameRecord(seed, outcome, progress=tile_progress(target, {"max_tile": max_tile}))


def test_shaped_score_arithmetic():
    games = (
        game(1, Outcome.SUCCESS, 256),
        game(2, Outcome.GAME_OVER, 128),
        game(3, Outcome.RUNTIME_ERROR, 0),
        game(4, Outcome.MAX_MOVES, 16),
    )
    expected = 1 / 4 + 0.2 * (1.0 + 7 / 8 + 4 / 8) / 4 - 0.5 * 1 / 4
    assert shaped_strategy_score(ev_with(*games)) == pytest.approx(expected)
    assert shaped_strategy_score(ev_with(*games), 0.0, 0.0) == pytest.approx(0.25)
    assert shaped_strategy_score(StrategyEvaluation(None, Outcome.NO_FUNCTION)) == 0.0
    assert tile_progress(256, {"max_tile": 512}) == 1.0
    assert tile_progress(256, {"max_tile": 0}) == 0.0
    assert tile_progress(256, {"max_tile": 16}) == pytest.approx(0.5)


def test_seed_plan_same_seeds_per_group_from_the_row_column():
    plan = SeedPlan(builtin_seed_set("train"), per_completion=3, scope="group")
    train = builtin_seed_set("train")
    seeds = plan.seeds_for(["a", "b", "c", "d"], {"game_seed": [train[10]] * 2 + [train[20]] * 2})
    assert seeds[0] == seeds[1] == [train[10], train[11], train[12]]
    assert seeds[2] == seeds[3] == [train[20], train[21], train[22]]


def test_seed_plan_batch_scope_and_trainer_step():
    plan = SeedPlan(builtin_seed_set("train"), per_completion=1, scope="batch")
    assert plan.seeds_for(["a", "b"], {"game_seed": [4, 9]}) == [[4], [4]]
    step3 = plan.seeds_for(["a", "b"], {"trainer_state": SimpleNamespace(global_step=3)})
    again = plan.seeds_for(["x", "y"], {"trainer_state": SimpleNamespace(global_step=3)})
    step4 = plan.seeds_for(["a", "b"], {"trainer_state": SimpleNamespace(global_step=4)})
    assert step3 == again and step3[0] == step3[1] and step3 != step4
    assert step3[0][0] in builtin_seed_set("train")
    no_step = plan.seeds_for(["a", "b"], {})
    assert no_step == plan.seeds_for(["a", "b"], {}) != plan.seeds_for(["c", "d"], {})


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="scope"):
        SeedPlan(builtin_seed_set("train"), scope="row")
    with pytest.raises(ValueError, match="progress_weight"):
        shaped_rewards(progress_weight=-1)
    with pytest.raises(ValueError, match="power of two"):
        notebook_rewards(target=1000)
