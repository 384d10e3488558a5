"""Multi-turn play without a model: the TRL environment classes built from the registered envs.

A scripted policy reads only the text the tools return and plays through the tool methods;
the same actions stepped on the Gymnasium env directly must give the same game.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from transformers.utils import get_json_schema

import strategy_gym.envs  # noqa: F401 - registers strategy_gym/Game2048-v0
from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.text_play import (
    Game2048Play,
    NoTextPlay,
    text_play_for,
    text_play_for_task,
)
from strategy_gym.tasks.registry import TaskRegistry
from strategy_gym.training.environments import (
    PlayMode,
    environment_class,
    outcome_reward,
    play_rewards,
    play_rows,
)

ROOT = Path(__file__).resolve().parent.parent
PREFERENCE = ("down", "left", "right", "up")  # a corner strategy, read off the legal-move line


def trl_tools(instance: object) -> list:
    """The methods GRPOTrainer turns into tools (its own selection rule, on the class)."""
    return [getattr(instance, name) for name, _ in
            inspect.getmembers(type(instance), predicate=inspect.isfunction)
            if name not in ("reset", "get_reward") and not name.startswith("_")]


def legal_moves(text: str) -> list[str]:
    found = re.search(r"Legal moves: (.*)", text)
    return [] if found is None or found.group(1) == "none" else found.group(1).split(", ")


def scripted_2048(env, first_text: str) -> list[str]:
    """Play to the end through ``env.move``: the first preferred legal move each turn."""
    text, played = first_text, []
    while not env.episode.done:
        direction = next(d for d in PREFERENCE if d in legal_moves(text))
        played.append(direction)
        text = env.move(direction=direction)
    return played


@pytest.fixture(scope="module")
def connect_four_on_path():
    sys.path.insert(0, str(ROOT / "examples" / "connect_four"))
    import connect_four  # noqa: F401 - registers connect_four/ConnectFour-v0

    yield
    sys.path.remove(str(ROOT / "examples" / "connect_four"))


def test_one_tool_per_action_kind_with_a_schema_trl_accepts():
    cls = environment_class(Game2048Play(size=4, target=256))
    tools = trl_tools(cls())
    assert [t.__name__ for t in tools] == ["move"]
    schema = get_json_schema(tools[0])["function"]
    assert schema["name"] == "move"
    assert schema["parameters"]["properties"]["direction"]["type"] == "string"
    assert "up, down, left or right" in schema["parameters"]["properties"]["direction"]["description"]
    assert schema["parameters"]["required"] == ["direction"]


@pytest.mark.parametrize("target, outcome", [(64, Outcome.SUCCESS), (2048, Outcome.GAME_OVER)])
def test_scripted_game_through_tools_matches_the_env_stepped_directly(target, outcome):
    play = Game2048Play(size=4, target=target)
    env = environment_class(play, max_turns=5000)()
    played = scripted_2048(env, env.reset(seed=11, prompt=[]))
    assert env.episode.outcome == outcome and env.episode.invalid == 0

    direct = gym.make("strategy_gym/Game2048-v0", size=4, target=target)
    board, info = direct.reset(seed=11)
    codes = {"up": 0, "left": 1, "down": 2, "right": 3}
    total = 0.0
    for direction in played:
        board, reward, terminated, _, info = direct.step(codes[direction])
        total += reward
    assert terminated
    assert info["score"] == env.episode.info["score"] and total == env.episode.env_return
    assert info["status"] == {Outcome.SUCCESS: "success", Outcome.GAME_OVER: "failed"}[outcome]
    assert info["max_tile"] == env.episode.info["max_tile"]
    assert env.episode.actions == [codes[d] for d in played]
    assert "game is over" in env.move(direction="up")  # an ended game takes no more moves
    assert env.episode.turns == len(played)


def test_group_members_share_the_start_state_and_seeds_differ_across_groups():
    cls = environment_class(Game2048Play(size=4, target=256))
    row = play_rows(Game2048Play(size=4, target=256), [42])[0]
    group = [cls() for _ in range(4)]
    starts = {env.reset(**row) for env in group}
    assert len(starts) == 1
    boards = [env.episode._observation for env in group]
    assert all(np.array_equal(boards[0], b) for b in boards)
    # The group then diverges only through its own moves.
    first = legal_moves(starts.pop())[0]
    after = {env.move(direction=first) for env in group}
    assert len(after) == 1  # same seed, same move: same spawn
    others = {cls().reset(**r) for r in play_rows(Game2048Play(size=4, target=256), range(20))}
    assert len(others) > 1


def test_invalid_moves_are_explained_counted_and_end_the_game_in_a_row():
    env = environment_class(Game2048Play(size=4, target=256), max_invalid_in_a_row=3)()
    text = env.reset(seed=7)
    blocked = next(d for d in ("up", "left", "down", "right") if d not in legal_moves(text))
    reply = env.move(direction=blocked)
    assert "changes nothing" in reply and "Legal moves:" in reply
    assert "not a direction" in env.move(direction="sideways")
    assert "takes one argument, direction" in env.move(dir="up")
    assert env.episode.outcome == Outcome.INVALID_ACTION
    assert (env.episode.turns, env.episode.invalid) == (3, 3)
    assert "game is over" in env.move(direction="up") and env.episode.turns == 3
    assert env.get_reward() == pytest.approx(-0.5)  # no progress, every turn invalid


def test_turn_budget_ends_the_episode_as_max_moves():
    env = environment_class(Game2048Play(size=4, target=2048), max_turns=4)()
    text = env.reset(seed=3)
    for _ in range(4):
        text = env.move(direction=legal_moves(text)[0])
    assert env.episode.outcome == Outcome.MAX_MOVES and "turn budget (4) is spent" in text
    assert env.episode.turns == 4


def test_play_rewards_read_the_environments_and_count_outcomes():
    cls = environment_class(Game2048Play(size=4, target=8), max_turns=200, owns_reward=False)
    assert not hasattr(cls, "get_reward")
    won, idle = cls(), cls()
    scripted_2048(won, won.reset(seed=5))
    idle.reset(seed=5)
    success, progress, invalid = play_rewards()
    envs = [won, idle]
    assert success([], environments=envs) == [1.0, 0.0]
    assert progress([], environments=envs) == [1.0, 0.0]
    assert invalid([], environments=envs) == [0.0, -1.0]  # never playing counts as all invalid
    assert success.outcome_counts() == {"success": 1, "unfinished": 1}
    metrics = success.step_metrics()
    assert metrics["play/success_rate"] == 0.5 and metrics["play/seeds"] == 1
    assert metrics["play/turns_per_episode"] == won.episode.turns / 2
    assert outcome_reward(won.episode) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="environments="):
        success(["text"])


def test_the_2048_task_is_found_and_builds_play_rows_on_its_seed_sets():
    task = TaskRegistry().get("2048")
    play = text_play_for_task(task)
    assert isinstance(play, Game2048Play) and play.target == task.env_kwargs["target"]
    mode = PlayMode.from_config({"mode": "play", "play": {"max_turns": 9}}, task)
    rows = mode.rows(task, 5, 3, seed=1)
    assert [len(rows.train), len(rows.eval), len(rows.demonstrations)] == [5, 3, 0]
    assert all(r["seed"] in task.seed_sets["train"] for r in rows.train)
    assert all(r["seed"] in task.seed_sets["eval"] for r in rows.eval)
    assert mode.env_class.max_turns == 9 and PlayMode.from_config({}, task) is None
    with pytest.raises(ValueError, match="code or play"):
        PlayMode.from_config({"mode": "chess"}, task)


def test_an_env_without_a_declaration_says_how_to_add_one():
    with pytest.raises(NoTextPlay, match="text_play"):
        text_play_for("CartPole-v1")


def test_connect_four_plugin_declaration_is_found_and_plays_like_its_env(connect_four_on_path):
    play = text_play_for("connect_four/ConnectFour-v0")
    cls = environment_class(play, max_turns=50)
    env = cls()
    assert type(env).__name__ == "ConnectFourEnvironment"
    assert [t.__name__ for t in trl_tools(env)] == ["drop"]
    assert get_json_schema(env.drop)["function"]["parameters"]["properties"]["column"]["type"] == "integer"
    text = env.reset(seed=4)
    columns = []
    while not env.episode.done:  # the leftmost legal column, read off the text
        column = int(re.search(r"Legal columns: (\d)", text).group(1))
        columns.append(column)
        text = env.drop(column=column)
    direct = gym.make("connect_four/ConnectFour-v0")
    direct.reset(seed=4)
    for column in columns:
        board, _, done, _, info = direct.step(column)
    assert done and env.episode.info["status"] == info["status"]
    assert env.episode.outcome == {"win": Outcome.SUCCESS, "loss": Outcome.GAME_OVER,
                                   "draw": Outcome.GAME_OVER}[info["status"]]
    env.reset(seed=4)  # the opponent blocks in column 0 too: it fills before the game ends
    replies = [env.drop(column=0) for _ in range(5)]
    assert replies[-1].startswith("Invalid move: 0 is full. Legal columns: 1, 2")
    assert env.drop(column=9).startswith("Invalid move: 9 is not a column")
    assert env.episode.invalid == 2 and not env.episode.done
