"""Strategy play for the evaluator: the game master plays texts on seeds and records replays.

``strategy_gym.play`` (the generic trusted game master) is used for every task that declares a
``strategy_game``. Until that package and field exist, 2048 tasks are played through
``agents.playout`` (same evaluation shape) and recorded by a trusted re-run of the actions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from strategy_gym.agents.evaluation.records import Trial, Unit
from strategy_gym.agents.evaluation.tasks import is_2048
from strategy_gym.tasks.registry import Task

Progress = Callable[[int], None]
SEED_CHUNK = 256  # progress granularity when the game master takes no progress callback


class GamePlayer:
    """Plays strategies of one task; ``with`` it (or call :meth:`close`) to stop the workers."""

    def __init__(self, task: Task, workers: int = 2, time_limit_s: float | None = None) -> None:
        self.task = task
        self.workers = workers
        self.time_limit_s = time_limit_s
        self._evaluator: Any = None
        self.legacy = _play_module() is None or getattr(task, "strategy_game", None) is None
        if self.legacy and not is_2048(task):
            raise ValueError(f"task {task.name!r} declares no strategy_game, and the game master "
                             "(strategy_gym.play) is needed to play its strategies")

    def __enter__(self) -> GamePlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._evaluator is not None:
            self._evaluator.close()
            self._evaluator = None

    def play(self, name: str, texts: Sequence[str], groups: Sequence[str], seeds: Sequence[int],
             raw_code: bool, progress: Progress | None = None) -> list[Unit]:
        """One unit per text, each played on every seed; never raises for the texts' content."""
        advance = progress or (lambda n: None)
        evaluations = self._evaluate(list(texts), list(seeds), raw_code, advance)
        return [_unit(name, i, text, group, ev, seeds)
                for i, (text, group, ev) in enumerate(zip(texts, groups, evaluations, strict=True))]

    def record(self, code: str, seed: int) -> tuple[list, list]:
        """The views the strategy saw and the actions it chose in one game (for replays)."""
        if self.legacy:
            from strategy_gym.agents.evaluation.replay2048 import record_game

            return record_game(code, seed, self._config())
        (ev,) = self._ensure().evaluate([code], [[seed]], raw_code=True, record=True)
        game = ev.games[0] if ev.games else None
        return (list(game.frames), list(game.actions)) if game else ([], [])

    # ------------------------------------------------------------------------------------
    def _evaluate(self, texts: list[str], seeds: list[int], raw: bool, advance: Progress) -> list:
        evaluator = self._ensure()
        if "progress" in inspect.signature(evaluator.evaluate).parameters:
            return evaluator.evaluate(texts, [seeds] * len(texts), raw_code=raw, progress=advance)
        merged: list[list] = [[] for _ in texts]  # chunks of seeds, so the bar moves
        first: list = []
        for start in range(0, len(seeds), SEED_CHUNK):
            chunk = seeds[start:start + SEED_CHUNK]
            evs = evaluator.evaluate(texts, [chunk] * len(texts), raw_code=raw)
            first = first or evs
            for games, ev in zip(merged, evs, strict=True):
                games.extend(ev.games)
            advance(len(chunk) * len(texts))
        return [_Merged(ev, tuple(games)) for ev, games in zip(first, merged, strict=True)]

    def _ensure(self) -> Any:
        if self._evaluator is None:
            if self.legacy:
                from strategy_gym.agents.playout import StrategyEvaluator

                self._evaluator = StrategyEvaluator(self._config(), workers=self.workers)
            else:
                play = _play_module()
                settings = play.PlaySettings(**({"time_limit_s": self.time_limit_s}
                                                if self.time_limit_s else {}))
                self._evaluator = play.StrategyEvaluator(self.task.strategy_game, settings,
                                                         workers=self.workers)
        return self._evaluator

    def _config(self) -> Any:
        from strategy_gym.agents.playout import PlayConfig

        env = self.task.env_kwargs
        limit = {"time_limit_s": self.time_limit_s} if self.time_limit_s else {}
        return PlayConfig(size=env.get("size", 4), target=env.get("target", 2048),
                          p_four=env.get("p_four", 0.1), **limit)


class _Merged:
    """A chunked evaluation seen as one: the first chunk's stage, every chunk's games."""

    def __init__(self, ev: Any, games: tuple) -> None:
        self.code, self.stage, self.message, self.format_ok = ev.code, ev.stage, ev.message, ev.format_ok
        self.games = games


def _play_module() -> Any:
    try:
        import strategy_gym.play as play
    except ImportError:
        return None
    return play


def _unit(name: str, index: int, text: str, group: str, ev: Any, seeds: Sequence[int]) -> Unit:
    stage = str(ev.stage)
    unit = Unit(name, index, text, group, ev.code, stage, ev.message[:300], bool(ev.format_ok))
    played = {g.seed: g for g in ev.games}
    for seed in seeds:
        game = played.get(seed)
        # A strategy that never played counts as a failed game, named by its stage, on every seed.
        unit.trials.append(_trial(game) if game is not None else
                           Trial(int(seed), stage, False, message=ev.message[:300]))
    return unit


def _trial(game: Any) -> Trial:
    detail = dict(getattr(game, "detail", None) or {})
    if not detail and hasattr(game, "max_tile"):  # agents.playout's record
        detail = {"max_tile": game.max_tile}
    return Trial(int(game.seed), str(game.outcome), bool(game.success), float(game.score),
                 int(game.moves), detail, str(getattr(game, "message", ""))[:300])
