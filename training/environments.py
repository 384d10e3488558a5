"""Multi-turn play through TRL's ``environment_factory``: classes built from a game's TextPlay.

``environment_class(play)`` returns a class TRL instantiates once per rollout. ``reset(**row)``
seeds the game from the row's seed column, so the ``num_generations`` rollouts of a GRPO group
(the same row repeated) all start from the same position; TRL passes no group key, the seed
column is what ties a group together. Each of the game's :class:`ActionTool` s becomes one
public method (TRL's tools: name, type hints and an ``Args:`` docstring), which plays one move
on the game's own Gymnasium env through :class:`strategy_gym.envs.text_play.Episode` and returns
the new observation as text. ``get_reward()`` (when the class owns its reward) and
:func:`play_rewards` (reward functions over TRL's ``environments=`` keyword) score the outcome.

Usage with your own TRL script::

    from trl import GRPOConfig, GRPOTrainer
    from strategy_gym.envs.text_play import Game2048Play
    from strategy_gym.training.chat_templates import install_tool_template
    from strategy_gym.training.environments import environment_class, play_dataset

    play = Game2048Play(size=4, target=256)
    install_tool_template(tokenizer)  # for ChatML models without tool support (SmolLM2)
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, args=GRPOConfig(...),
                          train_dataset=play_dataset(play, seeds=range(64)),
                          environment_factory=environment_class(play, max_turns=32))
"""

from __future__ import annotations

import inspect
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.text_play import (
    DEFAULT_MAX_INVALID_IN_A_ROW,
    DEFAULT_MAX_TURNS,
    ActionTool,
    Episode,
    TextPlay,
    outcome_name,
)

SEED_COLUMN = "seed"


@dataclass(frozen=True)
class PlayWeights:
    """How ``get_reward`` adds the outcome up: success, progress made, share of invalid turns."""

    success: float = 1.0
    progress: float = 0.5
    invalid: float = 0.5


class PlayEnvironment:
    """Base of the generated classes; one instance plays one rollout's game.

    TRL turns every public function of the class into a tool except ``reset`` and
    ``get_reward``, so everything else here is private or a plain attribute.
    """

    play: TextPlay
    max_turns: int = DEFAULT_MAX_TURNS
    max_invalid_in_a_row: int = DEFAULT_MAX_INVALID_IN_A_ROW
    seed_column: str = SEED_COLUMN

    def __init__(self) -> None:
        self.episode = Episode(self.play, self.max_turns, self.max_invalid_in_a_row)

    def reset(self, **row: Any) -> str:
        """Start the row's game; the text is appended to the prompt's last message."""
        if self.seed_column not in row:
            raise KeyError(f"{type(self).__name__}.reset needs a {self.seed_column!r} column in "
                           f"the dataset row; got columns {sorted(row)}")
        return "\n\n" + self.episode.reset(int(row[self.seed_column]))


class _OwnsReward:
    weights: PlayWeights = PlayWeights()

    def get_reward(self) -> float:
        """The rollout's outcome reward (TRL calls it once the rollout is done)."""
        return outcome_reward(self.episode, self.weights)  # type: ignore[attr-defined]


def outcome_reward(episode: Episode, weights: PlayWeights = PlayWeights()) -> float:
    """Success, progress made and the invalid-turn share, weighted and summed."""
    return (weights.success * success_of(episode) + weights.progress * episode.progress
            - weights.invalid * invalid_share(episode))


def success_of(episode: Episode) -> float:
    return 1.0 if episode.outcome == Outcome.SUCCESS else 0.0


def invalid_share(episode: Episode) -> float:
    """Invalid turns over turns; a rollout that never called a tool counts as all invalid, so
    any legal move scores above not playing."""
    return episode.invalid / episode.turns if episode.turns else 1.0


def environment_class(play: TextPlay, *, max_turns: int = DEFAULT_MAX_TURNS,
                      max_invalid_in_a_row: int = DEFAULT_MAX_INVALID_IN_A_ROW,
                      seed_column: str = SEED_COLUMN, owns_reward: bool = True,
                      weights: PlayWeights = PlayWeights(), name: str | None = None) -> type:
    """A TRL ``environment_factory`` class for ``play``.

    Args:
        play: The game's declaration (text view, action codec, tools).
        max_turns: Tool calls per episode, valid or not, before it ends as ``max_moves``.
        max_invalid_in_a_row: Invalid calls in a row that end the episode (``invalid_action``).
        seed_column: The dataset column ``reset`` seeds the game from.
        owns_reward: Define ``get_reward`` (TRL then adds it as a reward of weight 1). Leave
            it off when :func:`play_rewards` are passed as ``reward_funcs`` instead.
        weights: The weights ``get_reward`` uses.
        name: The class name (TRL logs ``get_reward`` under it); derived from the env id.
    """
    if max_turns < 1 or max_invalid_in_a_row < 1:
        raise ValueError("max_turns and max_invalid_in_a_row must be >= 1")
    names = [tool.name for tool in play.tools]
    if not names or len(set(names)) != len(names) or any(n.startswith("_") for n in names):
        raise ValueError(f"{play.env_id}: tools need distinct public names, got {names}")
    if {"reset", "get_reward"} & set(names):
        raise ValueError(f"{play.env_id}: 'reset' and 'get_reward' cannot be tool names")
    namespace: dict[str, Any] = {
        "play": play, "max_turns": max_turns, "max_invalid_in_a_row": max_invalid_in_a_row,
        "seed_column": seed_column, "weights": weights,
        **{tool.name: _tool_method(tool) for tool in play.tools},
    }
    bases = (_OwnsReward, PlayEnvironment) if owns_reward else (PlayEnvironment,)
    cls = type(name or _class_name(play.env_id), bases, namespace)
    cls.__doc__ = f"{play.env_id} played move by move (tools: {', '.join(names)})."
    return cls


def _class_name(env_id: str) -> str:
    base = env_id.split("/")[-1].split("-v")[0]
    name = "".join(ch for ch in base if ch.isalnum()) or "Game"
    return name[0].upper() + name[1:] + "Environment"


def _tool_method(tool: ActionTool) -> Callable[..., str]:
    """A method ``name(self, argument: annotation) -> str`` with the docstring TRL reads."""

    def method(self: PlayEnvironment, *args: Any, **arguments: Any) -> str:
        # TRL calls tools with the model's JSON arguments as keywords; a wrong or missing
        # argument name is the model's mistake, answered in words instead of an exception.
        if args or set(arguments) != {tool.argument}:
            given = ", ".join(sorted(arguments)) or "none"
            return self.episode.refuse(f"{tool.name} takes one argument, {tool.argument}; "
                                       f"got {given}.")
        return self.episode.act(tool.name, arguments[tool.argument])

    parameter = inspect.Parameter(tool.argument, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                  annotation=tool.annotation)
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = inspect.Signature([self_parameter, parameter], return_annotation=str)
    method.__annotations__ = {tool.argument: tool.annotation, "return": str}
    method.__name__ = method.__qualname__ = tool.name
    method.__doc__ = (f"{tool.summary}\n\nArgs:\n    {tool.argument}: {tool.argument_help}\n\n"
                      "Returns:\n    The new position as text, or why the move was refused.\n")
    return method


# ---- data --------------------------------------------------------------------------------------

def play_dataset(play: TextPlay, seeds: Iterable[int], seed_column: str = SEED_COLUMN) -> Any:
    """A ``datasets.Dataset`` of play rows (see :func:`play_rows`)."""
    from datasets import Dataset

    return Dataset.from_list(play_rows(play, seeds, seed_column))


def play_rows(play: TextPlay, seeds: Iterable[int], seed_column: str = SEED_COLUMN) -> list[dict]:
    """One row per game seed: the game's instructions as the prompt, the seed as a column."""
    prompt = [{"role": "user", "content": play.instructions().rstrip()}]
    return [{"prompt": [dict(m) for m in prompt], seed_column: int(s)} for s in seeds]


def sample_seeds(seed_set: Sequence[int], n: int, seed: int) -> list[int]:
    """``n`` seeds drawn from ``seed_set`` (without repeats while it lasts), reproducibly."""
    rng = random.Random(seed)
    picks = rng.sample(range(len(seed_set)), min(n, len(seed_set)))
    return [int(seed_set[picks[i % len(picks)]]) for i in range(n)]


# ---- rewards over environments -------------------------------------------------------------------

class PlayStats:
    """Episode outcomes across calls, and the last batch's rates, for the step log."""

    def __init__(self) -> None:
        self.outcomes: Counter = Counter()
        self.last: dict[str, float] = {}

    def record(self, episodes: Sequence[Episode]) -> None:
        self.outcomes.update(outcome_name(e) for e in episodes)
        turns = sum(e.turns for e in episodes)
        self.last = {
            "play/success_rate": sum(success_of(e) for e in episodes) / len(episodes),
            "play/invalid_move_rate": sum(e.invalid for e in episodes) / turns if turns else 0.0,
            "play/turns_per_episode": turns / len(episodes),
            "play/finished_rate": sum(e.done for e in episodes) / len(episodes),
            "play/seeds": float(len({e.seed for e in episodes})),
        }


class PlayReward:
    """One outcome component as a TRL reward function over ``environments``.

    ``kind``: ``success`` (1 on success), ``progress`` (0..1 progress made) or ``invalid``
    (minus the share of invalid turns). The ``success`` one also keeps :class:`PlayStats`:
    ``outcome_counts`` and ``step_metrics`` are what the step log reads.
    """

    KINDS: dict[str, Callable[[Episode], float]] = {
        "success": success_of, "progress": lambda e: e.progress,
        "invalid": lambda e: -invalid_share(e)}

    def __init__(self, kind: str, stats: PlayStats | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown play reward {kind!r}; known: {', '.join(self.KINDS)}")
        self.kind = kind
        self.stats = stats
        self.__name__ = {"success": "play_success", "progress": "play_progress",
                         "invalid": "invalid_move_penalty"}[kind]

    def __call__(self, completions: Sequence[Any] = (), environments: Sequence[Any] | None = None,
                 **kwargs: Any) -> list[float]:
        if environments is None:
            raise ValueError(f"{self.__name__} scores played games: it needs TRL's "
                             "environments= keyword (train with environment_factory)")
        episodes = [env.episode for env in environments]
        if self.stats is not None:
            self.stats.record(episodes)
        return [self.KINDS[self.kind](e) for e in episodes]

    def outcome_counts(self) -> dict[str, int]:
        return dict(self.stats.outcomes) if self.stats else {}

    def step_metrics(self) -> dict[str, float]:
        return dict(self.stats.last) if self.stats else {}


def play_rewards(**_: Any) -> list[PlayReward]:
    """The three outcome rewards (success keeps the stats); options are accepted and ignored."""
    return [PlayReward("success", PlayStats()), PlayReward("progress"), PlayReward("invalid")]


# ---- train_env.py's play mode (env.mode=play) ----------------------------------------------------

@dataclass
class PlayMode:
    """What ``training/run.py`` needs to train a task move by move instead of as code."""

    play: TextPlay
    env_class: type
    max_turns: int
    max_invalid_in_a_row: int

    @classmethod
    def from_config(cls, env_cfg: Any, task: Any) -> PlayMode | None:
        """None for ``env.mode=code`` (the default); raises ValueError for an unplayable task."""
        from strategy_gym.envs.text_play import NoTextPlay, text_play_for_task

        mode = str(env_cfg.get("mode", "code") or "code")
        if mode == "code":
            return None
        if mode != "play":
            raise ValueError(f"env.mode must be code or play, got {mode!r}")
        try:
            play = text_play_for_task(task)
        except NoTextPlay as exc:
            raise ValueError(f"env={task.name} env.mode=play: {exc}") from None
        options = env_cfg.get("play") or {}
        turns = int(options.get("max_turns", DEFAULT_MAX_TURNS))
        invalid = int(options.get("max_invalid_in_a_row", DEFAULT_MAX_INVALID_IN_A_ROW))
        # get_reward off: the three play_rewards are logged one by one instead.
        env_class = environment_class(play, max_turns=turns, max_invalid_in_a_row=invalid,
                                      owns_reward=False)
        return cls(play, env_class, turns, invalid)

    def rows(self, task: Any, train_n: int, eval_n: int, seed: int) -> Any:
        """Play rows on the task's train and eval seed sets; no demonstrations (no priming)."""
        from strategy_gym.training.tasks import TaskRows

        sets = task.seed_sets
        if "train" not in sets or "eval" not in sets:
            raise ValueError(f"task {task.name} has no train/eval seed sets to play on")
        return TaskRows(play_rows(self.play, sample_seeds(sets["train"], train_n, seed)),
                        play_rows(self.play, sample_seeds(sets["eval"], eval_n, seed + 1)), [])

    def preflight_checks(self, tokenizer: Any) -> list:
        """Tool template in place, and the environment class TRL will probe plays a move."""
        from strategy_gym.training.preflight import Check

        try:
            note = ensure_tool_template(tokenizer)
        except ValueError as exc:
            return [Check("tools", "fail", str(exc))]
        instance = self.env_class()
        start = instance.reset(**{SEED_COLUMN: 0})
        tools = ", ".join(tool.name for tool in self.play.tools)
        detail = (f"{type(instance).__name__}: tools {tools}, up to {self.max_turns} turns, "
                  f"start position {len(start)} characters" + (f"; {note}" if note else ""))
        return [Check("tools", "ok", detail)]

    def rewards(self) -> list[PlayReward]:
        return play_rewards()

    def configure(self, config: Any) -> None:
        """One tool-calling turn per game turn at most (TRL's own loop limit)."""
        config.max_tool_calling_iterations = self.max_turns

    def trainer_kwargs(self) -> dict[str, Any]:
        import os

        # TRL flags environment_factory as experimental on every run; the version is pinned
        # and checked in preflight, so the warning only adds noise to the run's output.
        os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
        return {"environment_factory": self.env_class}

    def describe(self) -> list[str]:
        return [f"play mode: {self.play.env_id} move by move through tools "
                f"({', '.join(t.name for t in self.play.tools)}), at most {self.max_turns} turns "
                f"and {self.max_invalid_in_a_row} invalid moves in a row per game; every "
                "member of a GRPO group plays the same seed"]


# ---- tokenizer ---------------------------------------------------------------------------------

def ensure_tool_template(tokenizer: Any) -> str | None:
    """Make sure TRL accepts the tokenizer's chat template for tool calling.

    A template TRL already handles is kept; a ChatML one without tool support (SmolLM2, the
    tiny models) gets ``chatml_tools`` and its parser. Returns a note saying what changed.
    """
    from trl.chat_template_utils import supports_tool_calling

    from strategy_gym.training.chat_templates import install_tool_template

    text = getattr(tokenizer, "tokenizer", tokenizer)
    if supports_tool_calling(tokenizer) and _parses_tool_calls(tokenizer):
        return None
    if "<|im_start|>" not in text.get_vocab():
        raise ValueError("this model's chat template has no tool calling and is not ChatML, so "
                         "strategy-gym has no tool template for it; set model.chat_template to "
                         "a template with tool support")
    install_tool_template(tokenizer)
    return "chat template replaced by chatml_tools (the model's own has no tool calling)"


def _parses_tool_calls(tokenizer: Any) -> bool:
    """Whether TRL can read tool calls back: a parser on the tokenizer, or one TRL knows."""
    from trl.chat_template_utils import add_response_schema

    text = getattr(tokenizer, "tokenizer", tokenizer)
    if getattr(text, "response_template", None) or getattr(text, "response_schema", None):
        return True
    try:
        add_response_schema(tokenizer)
    except ValueError:
        return False
    return True


__all__ = ["PlayEnvironment", "PlayMode", "PlayReward", "PlayStats", "PlayWeights", "SEED_COLUMN",
           "ensure_tool_template", "environment_class", "outcome_reward", "play_dataset",
           "play_rewards", "play_rows", "sample_seeds"]
