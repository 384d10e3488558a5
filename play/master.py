"""The game master: k seeded games stepped on the trusted side, in lockstep.

It is the :class:`~strategy_gym.sandbox.session.Driver` of one sandbox session. Each round trip
carries the views of every game still going and brings back one answer per game; the master
validates each answer, decodes it into an action, steps that game's env and decides the
outcome. The child only ever receives views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strategy_gym.core.outcomes import Outcome
from strategy_gym.play.game import Info, InvalidMove, StrategyGame
from strategy_gym.sandbox import SandboxResult
from strategy_gym.sandbox.runners import ANSWER_ERRORS

MESSAGE_CHARS = 300  # of a model-controlled error message kept in a record


@dataclass(frozen=True)
class GameRecord:
    """One seed's game. ``outcome``: success, game_over, max_moves, stalled, or what ended it
    early (runtime_error, invalid_action, timeout, memory_limit, crashed, task_error ...).
    ``actions`` are the env actions applied; ``frames`` the views the strategy saw (recorded
    only when asked, for replays)."""

    seed: int
    outcome: Outcome
    score: float = 0.0
    moves: int = 0
    progress: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    actions: tuple[Any, ...] = ()
    frames: tuple[Any, ...] = ()

    @property
    def success(self) -> bool:
        return self.outcome is Outcome.SUCCESS

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "outcome": str(self.outcome), "success": self.success,
                "score": self.score, "moves": self.moves, "progress": self.progress,
                **self.detail, "message": self.message}  # fmt: skip


@dataclass(eq=False)
class _Game:
    seed: int
    env: Any
    info: Info = field(default_factory=dict)
    view: Any = None
    reward: float = 0.0
    steps: int = 0
    idle: int = 0
    outcome: Outcome | None = None
    message: str = ""
    actions: list[Any] = field(default_factory=list)
    frames: list[Any] = field(default_factory=list)


class GameMaster:
    """Plays ``game`` on ``seeds`` for one session; :meth:`records` once it is over."""

    def __init__(self, game: StrategyGame, seeds: Sequence[int], record: bool = False) -> None:
        self.game = game
        self.record = record
        self._games = [_Game(int(seed), _task_call(game.make_env)) for seed in seeds]
        self.built = False

    # Driver -------------------------------------------------------------------------------
    def restart(self) -> None:
        self.built = False
        for g in self._games:
            obs, g.info = g.env.reset(seed=g.seed)
            g.view = _task_call(self.game.view, obs, g.info)
            g.reward, g.steps, g.idle, g.outcome, g.message = 0.0, 0, 0, None, ""
            g.actions, g.frames = [], []

    def advance(self, answers: list[tuple[int, dict[str, Any]]]) -> list[list[Any]] | None:
        if not self.built:
            self.built = True  # the empty first step: the code is defined
        else:
            self._apply(answers)
        live = [[slot, g.view] for slot, g in enumerate(self._games) if g.outcome is None]
        if self.record:
            for slot, view in live:
                self._games[slot].frames.append(view)
        return live or None

    # after the session --------------------------------------------------------------------
    def records(self, result: SandboxResult) -> list[GameRecord]:
        """Every game's record; games the session did not finish get what stopped it."""
        for g in self._games:
            if g.outcome is None:
                g.outcome = result.outcome if not result.ok else Outcome.CRASHED
                g.message = result.message[:MESSAGE_CHARS] or "the session ended early"
        return [self._record(g) for g in self._games]

    # one step ----------------------------------------------------------------------------
    def _apply(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        expected = {slot for slot, g in enumerate(self._games) if g.outcome is None}
        seen: set[int] = set()
        for slot, answer in answers:
            if slot not in expected or slot in seen:
                continue  # an answer for no live game: ignored, the game gets none
            seen.add(slot)
            self._play(self._games[slot], answer)
        for slot in expected - seen:
            self._end(self._games[slot], Outcome.CRASHED, "no answer for this game")

    def _play(self, g: _Game, answer: dict[str, Any]) -> None:
        if "value" not in answer:
            kind = answer.get("error")
            outcome = Outcome(kind) if kind in ANSWER_ERRORS else Outcome.CRASHED
            self._end(g, outcome, _text(answer.get("message")))
            return
        game = self.game
        step = game.decode  # the task function running, named if it raises
        try:
            action = step(answer["value"], g.info)
            step = g.env.step
            obs, reward, terminated, truncated, g.info = step(action)
            step = game.view
            g.view = step(obs, g.info)
            step = game.stalled
            stalled = step is not None and step(g.info)
            g.idle = g.idle + 1 if stalled else 0
            step = game.judge
            ended = step(bool(terminated), bool(truncated), g.info) if terminated or truncated else None
        except InvalidMove as exc:
            if step is not game.decode:
                raise
            self._end(g, Outcome.INVALID_ACTION, _text(str(exc)))
            return
        except Exception as exc:  # one try per move, not one per call: this is the hot loop
            raise _task_error(step, exc) from exc
        g.steps += 1
        g.reward += float(reward)
        g.actions.append(action)
        if ended is not None:
            self._end(g, ended)
        elif g.idle >= game.stall_limit:
            self._end(g, Outcome.STALLED, f"{g.idle} moves in a row changed nothing")
        elif g.steps >= game.max_moves:
            self._end(g, Outcome.MAX_MOVES, f"move cap of {game.max_moves} reached")

    @staticmethod
    def _end(g: _Game, outcome: Outcome, message: str = "") -> None:
        g.outcome, g.message = outcome, message

    def _record(self, g: _Game) -> GameRecord:
        score = self.game.score(g.info) if self.game.score is not None else g.reward
        moves = int(g.info.get("moves", g.steps)) if isinstance(g.info, dict) else g.steps
        return GameRecord(
            g.seed, g.outcome, float(score), moves, float(self.game.progress(g.info)),
            dict(self.game.detail(g.info)), g.message, tuple(g.actions), tuple(g.frames),
        )  # fmt: skip


class TaskCodeError(RuntimeError):
    """The task's own game code (view, codec, judge, env) raised: the plug-in's bug, reported
    as ``task_error`` with the function and file that raised."""


def _task_error(fn: Any, exc: Exception) -> TaskCodeError:
    target = getattr(fn, "func", fn)  # a functools.partial names its function
    target = getattr(target, "__func__", target)  # a bound method: its function
    code = getattr(target, "__code__", None)
    where = f" in {code.co_filename}:{code.co_firstlineno}" if code else ""
    name = getattr(target, "__qualname__", repr(target))
    return TaskCodeError(f"{name}{where} raised {type(exc).__name__}: {exc}")


def _task_call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except InvalidMove:
        raise
    except Exception as exc:
        raise _task_error(fn, exc) from exc


def _text(value: object) -> str:
    """A model-controlled message, as a short plain str whatever arrived."""
    return value[:MESSAGE_CHARS] if isinstance(value, str) else ""
