"""Playing a registered Gymnasium env move by move as text (multi-turn tool play).

A game opts in with a small declaration, :class:`TextPlay`: which tools the model gets (one per
kind of action), a *text view* (observation -> text) and an *action codec* (tool argument ->
env action, or an :class:`Invalid` with a message the model can read), plus how an env step ends
in :class:`~strategy_gym.core.outcomes.Outcome` terms and how far the player got. :class:`Episode`
is the one generic loop over the *registered* env (``gymnasium.make(env_id)``): the game's rules
live only in the env. ``training/environments.py`` turns an Episode into a TRL
``environment_factory`` class; nothing here imports TRL.

Where a declaration is found (:func:`text_play_for`): ``Task.text_play`` (a factory
taking the task's ``env_kwargs``), else a ``text_play`` module next to the env's own module
(``connect_four.env:ConnectFourEnv`` -> ``connect_four.text_play:text_play``), else the built-in
table below (2048).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from strategy_gym.core.outcomes import Outcome

DEFAULT_MAX_TURNS = 64
DEFAULT_MAX_INVALID_IN_A_ROW = 3  # a model stuck repeating a bad move stops early, not at the budget


@dataclass(frozen=True)
class Invalid:
    """A tool argument the game cannot play; ``message`` tells the model why and what it can do."""

    message: str


@dataclass(frozen=True)
class ActionTool:
    """One kind of action, exposed to the model as a tool ``name(argument: annotation)``.

    ``summary`` and ``argument_help`` become the tool's docstring (its description and its
    ``Args:`` line), which is what the model reads in the tool schema.
    """

    name: str
    argument: str
    annotation: type
    summary: str
    argument_help: str


@runtime_checkable
class TextPlay(Protocol):
    """What a game declares to be played as text. ``env_kwargs`` go to ``gymnasium.make``."""

    env_id: str
    env_kwargs: dict
    tools: tuple[ActionTool, ...]

    def instructions(self) -> str:
        """The user message that explains the game and the tools (the observation follows)."""

    def view(self, observation: Any, info: dict) -> str:
        """The observation as the text the model reads."""

    def decode(self, tool: str, argument: Any, observation: Any, info: dict) -> Any:
        """The env action for a tool call, or an :class:`Invalid` explaining the refusal."""

    def outcome(self, terminated: bool, truncated: bool, info: dict) -> Outcome | None:
        """How the game ended after a step (SUCCESS, GAME_OVER, ...), or None while it goes on."""

    def progress(self, observation: Any, info: dict) -> float:
        """How far the player got towards the goal, 0..1 (1 at success)."""


@dataclass
class Episode:
    """One game of ``play`` on its registered env, driven one tool call at a time.

    Every tool call is a turn, valid or not; the episode ends when the game ends
    (``play.outcome``), when ``max_turns`` calls were made (MAX_MOVES), or after
    ``max_invalid_in_a_row`` invalid calls in a row (INVALID_ACTION). ``outcome`` stays None
    while the game is on, including when the model stopped calling tools mid-game.
    """

    play: TextPlay
    max_turns: int = DEFAULT_MAX_TURNS
    max_invalid_in_a_row: int = DEFAULT_MAX_INVALID_IN_A_ROW
    seed: int | None = None
    turns: int = 0
    invalid: int = 0
    invalid_in_a_row: int = 0
    env_return: float = 0.0  # sum of the env's own step rewards
    actions: list = field(default_factory=list)  # the env actions played, in order
    outcome: Outcome | None = None
    start_text: str = ""
    _env: gym.Env | None = None
    _observation: Any = None
    _info: dict = field(default_factory=dict)
    _start_progress: float = 0.0

    def reset(self, seed: int) -> str:
        """Start the game the env plays for ``seed``; returns the first observation as text."""
        if self._env is None:
            # The registered env, without the passive checker (it only warns, once per make).
            self._env = gym.make(self.play.env_id, disable_env_checker=True, **self.play.env_kwargs)
        self.seed = int(seed)
        self._observation, self._info = self._env.reset(seed=self.seed)
        self.turns = self.invalid = self.invalid_in_a_row = 0
        self.env_return = 0.0
        self.actions = []
        self.outcome = None
        self._start_progress = self.play.progress(self._observation, self._info)
        self.start_text = self.play.view(self._observation, self._info)
        return self.start_text

    def act(self, tool: str, argument: Any) -> str:
        """Play one tool call; returns what the model reads next (new observation or refusal)."""
        if self._env is None:
            raise RuntimeError("call reset(seed) before act()")
        if self.outcome is not None:
            return f"The game is over ({self.outcome}). Do not call any more tools."
        self.turns += 1
        action = self.play.decode(tool, argument, self._observation, self._info)
        if isinstance(action, Invalid):
            return self._refuse(action.message)
        return self._step(action)

    def refuse(self, message: str) -> str:
        """Count a malformed call (e.g. wrong argument names) as an invalid turn."""
        if self.outcome is not None:
            return f"The game is over ({self.outcome}). Do not call any more tools."
        self.turns += 1
        return self._refuse(message)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    @property
    def progress(self) -> float:
        """Progress made during this episode (the starting position's own progress removed)."""
        now = self.play.progress(self._observation, self._info)
        gained = (now - self._start_progress) / max(1e-9, 1.0 - self._start_progress)
        return float(min(1.0, max(0.0, gained)))

    @property
    def info(self) -> dict:
        return dict(self._info)

    def _refuse(self, message: str) -> str:
        self.invalid += 1
        self.invalid_in_a_row += 1
        if self.invalid_in_a_row >= self.max_invalid_in_a_row:
            self.outcome = Outcome.INVALID_ACTION
            return f"Invalid move: {message}\nToo many invalid moves in a row: the game is over."
        return self._out_of_turns(f"Invalid move: {message}")

    def _step(self, action: Any) -> str:
        self.invalid_in_a_row = 0
        self.actions.append(action)
        observation, reward, terminated, truncated, info = self._env.step(action)
        self._observation, self._info = observation, info
        self.env_return += float(reward)
        text = self.play.view(observation, info)
        self.outcome = self.play.outcome(bool(terminated), bool(truncated), info)
        if self.outcome is not None:
            return f"{text}\nThe game is over: {self.outcome}."
        return self._out_of_turns(text)

    def _out_of_turns(self, text: str) -> str:
        if self.outcome is None and self.turns >= self.max_turns:
            self.outcome = Outcome.MAX_MOVES
            return f"{text}\nThe turn budget ({self.max_turns}) is spent: the game is over."
        return text


def outcome_name(episode: Episode) -> str:
    """The episode's outcome for logs; ``unfinished`` when the model stopped mid-game."""
    return str(episode.outcome if episode.outcome is not None else Outcome.UNFINISHED)


# ---- 2048 ------------------------------------------------------------------------------------

_DIRECTIONS = {"up": 0, "left": 1, "down": 2, "right": 3}
_LETTERS = {"w": 0, "a": 1, "s": 2, "d": 3}
_NAMES = ("up", "left", "down", "right")


@dataclass(frozen=True)
class Game2048Play:
    """2048 as text: the board as rows of tile values, one ``move(direction)`` tool.

    A move that would not change the board is refused (the env would play it as a no-op),
    so the model learns which moves are legal; the legal ones are listed after every board.
    """

    size: int = 4
    target: int = 2048
    p_four: float = 0.1
    env_id: str = "strategy_gym/Game2048-v0"
    tools: tuple[ActionTool, ...] = (ActionTool(
        "move", "direction", str, "Slide every tile on the board in one direction.",
        "One of up, down, left or right."),)

    @property
    def env_kwargs(self) -> dict:
        return {"size": self.size, "target": self.target, "p_four": self.p_four}

    def instructions(self) -> str:
        return (f"You are playing 2048 on a {self.size}x{self.size} board. Each turn, call the "
                "move tool with direction up, down, left or right: all tiles slide that way and "
                "equal tiles that meet merge into their sum. After each move a new tile appears "
                f"and you see the new board. Reach a {self.target} tile before no move is left. "
                "Make one move per tool call.")

    def view(self, observation: Any, info: dict) -> str:
        board = np.asarray(observation)
        width = len(str(1 << int(board.max()))) if board.max() else 1
        rows = [" ".join((str(1 << int(e)) if e else ".").rjust(width) for e in row)
                for row in board]
        legal = [name for name, ok in zip(_NAMES, info["action_mask"], strict=True) if ok]
        return ("Board (score {}):\n{}\nLegal moves: {}".format(
            info["score"], "\n".join(rows), ", ".join(legal) or "none"))

    def decode(self, tool: str, argument: Any, observation: Any, info: dict) -> Any:
        text = str(argument).strip().lower() if isinstance(argument, str) else None
        code = _DIRECTIONS.get(text, _LETTERS.get(text)) if text is not None else None
        legal = [name for name, ok in zip(_NAMES, info["action_mask"], strict=True) if ok]
        if code is None:
            return Invalid(f"{argument!r} is not a direction. Use one of: {', '.join(legal)}.")
        if not info["action_mask"][code]:
            return Invalid(f"moving {_NAMES[code]} changes nothing on this board. "
                           f"Legal moves: {', '.join(legal)}.")
        return code

    def outcome(self, terminated: bool, truncated: bool, info: dict) -> Outcome | None:
        if info["status"] == "success":
            return Outcome.SUCCESS
        if info["status"] == "failed":
            return Outcome.GAME_OVER
        return Outcome.MAX_MOVES if truncated else None

    def progress(self, observation: Any, info: dict) -> float:
        """log2 of the largest tile over log2 of the target: 1 at the target tile."""
        top = int(info["max_tile"])
        return min(1.0, math.log2(top) / math.log2(self.target)) if top else 0.0


# ---- lookup ----------------------------------------------------------------------------------

BUILTIN: dict[str, Callable[..., TextPlay]] = {"strategy_gym/Game2048-v0": Game2048Play}


class NoTextPlay(LookupError):
    """The env declares no text view / action codec; ``str()`` says how to add one."""


def text_play_for(env_id: str, env_kwargs: dict | None = None,
                  factory: Callable[..., TextPlay] | None = None) -> TextPlay:
    """The declaration for ``env_id``, built with ``env_kwargs``.

    Args:
        env_id: A Gymnasium id registered with the library or a plug-in.
        env_kwargs: The env's keyword arguments (a task's ``env_kwargs``).
        factory: An explicit declaration factory (a task's ``text_play``).
    """
    kwargs = dict(env_kwargs or {})
    factory = factory or BUILTIN.get(env_id) or _plugin_factory(env_id)
    if factory is None:
        raise NoTextPlay(
            f"{env_id} has no text view / action codec, so it cannot be played move by move. "
            "Declare one (see envs/text_play.py: TextPlay) in a text_play module next to the "
            "env's module, or as Task.text_play.")
    play = factory(**kwargs)
    if not isinstance(play, TextPlay):
        raise NoTextPlay(f"the text_play factory for {env_id} returned {type(play).__name__}, "
                         "which lacks part of the TextPlay declaration")
    return play


def _plugin_factory(env_id: str) -> Callable[..., TextPlay] | None:
    """``<env package>.text_play:text_play`` for a registered env, if that module exists."""
    try:
        spec = gym.spec(env_id)
    except gym.error.Error:
        return None
    entry = spec.entry_point if isinstance(spec.entry_point, str) else None
    if not entry:
        return None
    package = entry.split(":")[0].rpartition(".")[0]
    if not package:
        return None
    try:
        module = importlib.import_module(f"{package}.text_play")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package}.text_play":
            raise  # the module exists but its own import failed: say so
        return None
    return getattr(module, "text_play", None)


def text_play_for_task(task: Any) -> TextPlay:
    """The declaration for a registered Task (its env id, env kwargs and optional hook)."""
    import strategy_gym.envs  # noqa: F401 - registers the built-in envs with Gymnasium

    _import_env_package(task.env_id)
    factory = task.text_play
    return text_play_for(task.env_id, task.env_kwargs, factory)


def _import_env_package(env_id: str) -> None:
    """A plug-in's env is registered when its package is imported (``ns/Name-v0`` -> ``ns``)."""
    namespace = env_id.split("/")[0] if "/" in env_id else None
    if namespace and env_id not in gym.registry:
        try:
            importlib.import_module(namespace)
        except ModuleNotFoundError:
            pass


__all__ = ["ActionTool", "BUILTIN", "DEFAULT_MAX_INVALID_IN_A_ROW", "DEFAULT_MAX_TURNS",
           "Episode", "Game2048Play", "Invalid", "NoTextPlay", "TextPlay", "outcome_name",
           "text_play_for", "text_play_for_task"]
