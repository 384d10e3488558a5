"""2048 boards for replays of the in-process expectimax agent (a trusted search, not model
code: its games are stepped again here on a fresh seeded game to draw and judge them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strategy_gym.agents.evaluation.records import Trial, Unit
from strategy_gym.envs.game2048 import new_game


def frames_of(actions: str, size: int, target: int, p_four: float, seed: int) -> list[list]:
    """The board before every move, then the final board."""
    game = new_game(size, target, p_four, seed)
    frames = [game.board_values()]
    for letter in actions:
        game.step(letter)
        frames.append(game.board_values())
    return frames


def play_expectimax(name: str, depth: int, seeds: Sequence[int], env: dict,
                    advance: Any = lambda n: None) -> Unit:  # fmt: skip
    """One unit: expectimax on every seed, each game stepped again on a fresh seeded board."""
    from strategy_gym.agents.expectimax import play_games

    size, target, p_four = env.get("size", 4), env.get("target", 2048), env.get("p_four", 0.1)
    cap = size * size * target // 2
    unit = Unit(name, 0, f"# expectimax, depth {depth} (in-process numba search)", "0")
    chunk = 8  # progress granularity; the numba loop runs each chunk in parallel
    for start in range(0, len(seeds), chunk):
        for game in play_games(list(seeds[start:start + chunk]), size, target, p_four, depth,
                               max_moves=cap):
            board = new_game(size, target, p_four, game.seed)
            for letter in game.actions:
                board.step(letter)
            outcome = {"success": "success", "failed": "game_over"}.get(board.status, "max_moves")
            unit.trials.append(Trial(game.seed, outcome, outcome == "success", float(board.score),
                                     board.moves, {"max_tile": board.max_tile}))
            unit.actions[game.seed] = game.actions  # replays need no re-run
        advance(len(seeds[start:start + chunk]))
    return unit
