"""The evaluation itself: candidates x seed set -> units with trials, summary and replays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from strategy_gym.agents.evaluation.answers import assess_units
from strategy_gym.agents.evaluation.games import GamePlayer
from strategy_gym.agents.evaluation.metrics import summarize_candidate
from strategy_gym.agents.evaluation.records import Candidate, Replay, Unit
from strategy_gym.agents.evaluation.replay2048 import frames_of, play_expectimax
from strategy_gym.agents.evaluation.targets import MisfitError
from strategy_gym.agents.evaluation.tasks import is_2048, is_strategy_task, rows_for_seeds, split_of
from strategy_gym.envs.seeds import SeedSet
from strategy_gym.tasks.registry import Task

Advance = Callable[[int], None]
MOVE_LETTERS = "WASD"  # 2048's env action codes 0..3


@dataclass(frozen=True)
class EvalSettings:
    threshold: float = 0.5  # a strategy passes (pass@k) when its success rate is at least this
    workers: int = 2
    time_limit_s: float | None = None  # per game; None: the task's own limit
    replays: bool = True  # record best / median / worst strategy games for the HTML page
    show_progress: bool = True
    ray_address: str | None = None  # play on Ray: "auto", "ray://host:port", or "" (start one)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"pass threshold must be in (0, 1], got {self.threshold}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")


@dataclass
class EvaluationRun:
    task: Task
    seed_set: SeedSet
    spec: str
    settings: EvalSettings
    candidates: list[Candidate]
    units: dict[str, list[Unit]] = field(default_factory=dict)
    replays: list[Replay] = field(default_factory=list)

    @property
    def strategy_task(self) -> bool:
        return is_strategy_task(self.task)

    def summary(self) -> dict:
        """Everything summary.json holds: a pure function of the units (no clock, no paths)."""
        return {
            "task": {"name": self.task.name, "kind": "strategy" if self.strategy_task else "answer",
                     "env": _plain(self.task.env_kwargs)},
            "seeds": {"spec": self.spec, "name": self.seed_set.name, "count": len(self.seed_set)},
            "config": {**_plain(self.task.env_kwargs), "pass_threshold": self.settings.threshold},
            "strategies": {name: {**summarize_candidate(units, self.settings.threshold,
                                                        self.strategy_task),
                                  "meta": _plain(self._candidate(name).meta)}
                           for name, units in self.units.items()},
        }

    def _candidate(self, name: str) -> Candidate:
        return next(c for c in self.candidates if c.name == name)


def run_evaluation(task: Task, candidates: Sequence[Candidate], seed_set: SeedSet,
                   spec: str = "", settings: EvalSettings | None = None) -> EvaluationRun:
    """Evaluate every candidate on ``seed_set``; raises MisfitError for a source that does not
    play the task (its first game is an invalid action)."""
    settings = settings or EvalSettings()
    run = EvaluationRun(task, seed_set, spec or seed_set.name, settings, list(candidates))
    seeds = list(seed_set)
    with _progress(settings.show_progress) as (bar, advance_for):
        if run.strategy_task:
            with GamePlayer(task, settings.workers, settings.time_limit_s,
                            settings.ray_address) as player:  # fmt: skip
                _refuse_misfits(player, run.candidates, seeds)
                total = sum(len(seeds) * max(1, len(c.texts)) for c in run.candidates)
                bar(total)
                for c in run.candidates:
                    run.units[c.name] = _play(player, task, c, seeds, advance_for(c.name))
                if settings.replays:
                    run.replays = pick_replays(run, player)
        else:
            _answer_candidates(run, seeds, bar, advance_for)
    return run


def _play(player: GamePlayer, task: Task, c: Candidate, seeds: list[int], advance: Advance) -> list[Unit]:
    if c.kind == "native":
        return [play_expectimax(c.name, int(c.meta["depth"]), seeds, task.env_kwargs, advance)]
    return player.play(c.name, c.texts, c.groups, seeds, c.kind == "source", advance)


def _refuse_misfits(player: GamePlayer, candidates: Sequence[Candidate], seeds: list[int]) -> None:
    """A strategy file's first game must be legal play: an invalid action means it was written
    for another game (a Connect Four column given to 2048), refused before the long run."""
    for c in candidates:
        if c.kind != "source" or not seeds:
            continue
        for unit in player.play(c.name, c.texts, c.groups, seeds[:1], raw_code=True):
            first = unit.trials[0]
            if first.outcome == "invalid_action":
                raise MisfitError(f"{c.name}: does not play task {player.task.name!r}: its first "
                                  f"game (seed {first.seed}) ended with an invalid action: "
                                  f"{first.message or unit.message}")


def _answer_candidates(run: EvaluationRun, seeds: list[int], bar: Callable[[int], None],
                       advance_for: Callable[[str], Advance]) -> None:  # fmt: skip
    for c in run.candidates:
        if c.seeds is None:
            raise MisfitError(f"{c.name}: task {run.task.name!r} checks answers; give completions "
                              "with the seed of their problem, or a model")
    bar(sum(len(c.texts) for c in run.candidates))
    split = split_of(run.seed_set.name)
    wanted = sorted({s for c in run.candidates for s in c.seeds or ()})
    rows = dict(zip(wanted, rows_for_seeds(run.task, wanted, split), strict=True))
    for c in run.candidates:
        picked = [rows[s] for s in c.seeds or ()]
        run.units[c.name] = assess_units(run.task, c.name, c.texts, picked, c.seeds or [], c.groups,
                                         advance_for(c.name))


def rank_units(units: Sequence[Unit]) -> list[Unit]:
    """Best first: success rate, then mean score, then the earlier candidate / unit."""
    return sorted(units, key=lambda u: (-u.success_rate, -u.mean_score))


def pick_replays(run: EvaluationRun, player: GamePlayer) -> list[Replay]:
    """Best, median and worst strategy (among those that played), each on its best game."""
    everyone = [u for units in run.units.values() for u in units]
    played = [u for u in everyone if u.stage == "ok" and u.trials] or everyone
    ranked = rank_units(played)
    if not ranked:
        return []
    picks = {"best": ranked[0], "median": ranked[len(ranked) // 2], "worst": ranked[-1]}
    return [_replay(label, unit, run, player) for label, unit in picks.items()]


def _replay(label: str, unit: Unit, run: EvaluationRun, player: GamePlayer) -> Replay:
    game = max(unit.trials, key=lambda t: (t.score, t.success))  # its highest-scoring game
    frames, actions, note = [], [], ""
    if unit.actions:  # an in-process agent: its actions are known, rebuild the boards
        env = run.task.env_kwargs
        actions = list(unit.actions[game.seed])
        frames = frames_of("".join(actions), env.get("size", 4), env.get("target", 2048),
                           env.get("p_four", 0.1), game.seed)
    elif unit.code and unit.stage == "ok":
        frames, actions = player.record(unit.code, game.seed)
    else:
        note = f"never played: {unit.stage} {unit.message}".strip()
    if is_2048(run.task):  # the env's action codes, shown as the letters the strategy returned
        actions = [MOVE_LETTERS[a] if isinstance(a, int) and 0 <= a < 4 else a for a in actions]
    return Replay(label, unit.candidate, unit.index, game.seed, game.outcome, game.score,
                  _plain(frames), _plain(actions), unit.code or unit.text, unit.success_rate, note)


class _progress:
    """A rich bar over all trials; ``bar(total)`` sets its size, ``advance_for(name)`` moves it."""

    def __init__(self, show: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self.progress = Progress(*columns, disable=not show, transient=False)
        self.bar_id: Any = None

    def __enter__(self) -> tuple[Callable[[int], None], Callable[[str], Advance]]:
        self.progress.__enter__()
        self.bar_id = self.progress.add_task("evaluating", total=None)
        return self._total, self._advance_for

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def _total(self, total: int) -> None:
        self.progress.update(self.bar_id, total=total)

    def _advance_for(self, name: str) -> Advance:
        self.progress.update(self.bar_id, description=name)
        return lambda n: self.progress.advance(self.bar_id, n)


def _plain(value: Any) -> Any:
    """JSON-ready: tuples to lists, non-plain leaves (a function in task.settings) to repr."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return repr(value)
