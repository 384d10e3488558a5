"""2048 games for replays and the in-process expectimax agent, judged on the trusted side.

Only needed until ``strategy_gym.play`` records frames itself (``evaluate(..., record=True)``):
the strategy runs in the sandbox as in any evaluation; only its action letters come back, and
the boards it saw are rebuilt here by stepping a fresh seeded game.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strategy_gym.agents.evaluation.records import Trial, Unit
from strategy_gym.envs.game2048 import new_game, replay


def frames_of(actions: str, size: int, target: int, p_four: float, seed: int) -> list[list]:
    """The board before every move, then the final board."""
    game = new_game(size, target, p_four, seed)
    frames = [game.board_values()]
    for letter in actions:
        game.step(letter)
        frames.append(game.board_values())
    return frames


def record_game(code: str, seed: int, config: Any) -> tuple[list, list]:
    from strategy_gym.agents.playout import GAME_RUNNER
    from strategy_gym.sandbox import Job, SandboxPool

    job = Job(code, GAME_RUNNER, config.payload(seed), config.policy(), rng_seed=seed)
    with SandboxPool(workers=1, preload=[GAME_RUNNER], rng_key=config.rng_key) as pool:
        (result,) = pool.run_batch([job])
    actions = result.value.get("actions", "") if result.ok and isinstance(result.value, dict) else ""
    if not isinstance(actions, str):
        return [], []
    return frames_of(actions, config.size, config.target, config.p_four, seed), list(actions)


def play_expectimax(name: str, depth: int, seeds: Sequence[int], env: dict,
                    advance: Any = lambda n: None) -> Unit:  # fmt: skip
    """One unit: expectimax on every seed, each game's outcome from the trusted replay."""
    from strategy_gym.agents.expectimax import play_games

    size, target, p_four = env.get("size", 4), env.get("target", 2048), env.get("p_four", 0.1)
    cap = size * size * target // 2
    unit = Unit(name, 0, f"# expectimax, depth {depth} (in-process numba search)", "0")
    chunk = 8  # progress granularity; the numba loop runs each chunk in parallel
    for start in range(0, len(seeds), chunk):
        for game in play_games(list(seeds[start:start + chunk]), size, target, p_four, depth,
                               max_moves=cap):
            result = replay(game.actions, size, target, p_four, game.seed)
            outcome = {"success": "success", "no_moves": "game_over"}.get(result.ended_by, "max_moves")
            unit.trials.append(Trial(game.seed, outcome, outcome == "success", float(result.score),
                                     result.moves, {"max_tile": result.max_tile}))
            unit.actions[game.seed] = game.actions  # replays need no re-run
        advance(len(seeds[start:start + chunk]))
    return unit
