"""Strategy play for the evaluator: the game master plays texts on seeds and records replays.

Every task that declares a ``strategy_game`` is played by :mod:`strategy_gym.play`, the same
path as the rewards; replays are the views the strategy saw, recorded by the game master.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from strategy_gym.agents.evaluation.records import Trial, Unit
from strategy_gym.play import GameRecord, PlaySettings, StrategyEvaluation, StrategyEvaluator
from strategy_gym.tasks.registry import Task

Progress = Callable[[int], None]


class GamePlayer:
    """Plays strategies of one task; ``with`` it (or call :meth:`close`) to stop the workers."""

    def __init__(self, task: Task, workers: int = 2, time_limit_s: float | None = None,
                 ray_address: str | None = None) -> None:  # fmt: skip
        if task.strategy_game is None:
            raise ValueError(f"task {task.name!r} declares no strategy_game, so it has no "
                             "strategies to play")  # fmt: skip
        self.task = task
        settings = PlaySettings(time_limit_s=time_limit_s) if time_limit_s else PlaySettings()
        remote = {} if ray_address is None else {"backend": "ray", "ray_address": ray_address or None}
        self._evaluator = StrategyEvaluator(task.strategy_game, settings, workers=workers, **remote)

    def __enter__(self) -> GamePlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._evaluator.close()

    def play(self, name: str, texts: Sequence[str], groups: Sequence[str], seeds: Sequence[int],
             raw_code: bool, progress: Progress | None = None) -> list[Unit]:
        """One unit per text, each played on every seed; never raises for the texts' content."""
        evaluations = self._evaluator.evaluate(list(texts), [list(seeds)] * len(texts),
                                               raw_code=raw_code, progress=progress)  # fmt: skip
        return [_unit(name, i, text, group, ev, seeds)
                for i, (text, group, ev) in enumerate(zip(texts, groups, evaluations, strict=True))]

    def record(self, code: str, seed: int) -> tuple[list, list]:
        """The views the strategy saw and the actions it chose in one game (for replays)."""
        (ev,) = self._evaluator.evaluate([code], [[seed]], raw_code=True, record=True)
        game = ev.games[0] if ev.games else None
        return (list(game.frames), list(game.actions)) if game else ([], [])


def _unit(name: str, index: int, text: str, group: str, ev: StrategyEvaluation,
          seeds: Sequence[int]) -> Unit:  # fmt: skip
    stage = str(ev.stage)
    unit = Unit(name, index, text, group, ev.code, stage, ev.message[:300], bool(ev.format_ok))
    played = {g.seed: g for g in ev.games}
    for seed in seeds:
        game = played.get(seed)
        # A strategy that never played counts as a failed game, named by its stage, on every seed.
        unit.trials.append(_trial(game) if game is not None else
                           Trial(int(seed), stage, False, message=ev.message[:300]))
    return unit


def _trial(game: GameRecord) -> Trial:
    return Trial(int(game.seed), str(game.outcome), game.success, float(game.score),
                 int(game.moves), dict(game.detail), game.message[:300])

