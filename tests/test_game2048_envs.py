"""Gymnasium single env and native vector env for 2048."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import strategy_gym.envs  # noqa: F401  (registers the environments)
from strategy_gym.envs.game2048 import BatchedBoards, Game2048Env, Game2048VectorEnv, new_game


@pytest.mark.parametrize(("size", "render_mode"), [(2, "ansi"), (4, "rgb_array"), (6, None)])
def test_check_env_passes_without_warnings(size: int, render_mode: str | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make("strategy_gym/Game2048-v0", size=size, render_mode=render_mode)
        check_env(env.unwrapped)
        env.close()


def test_make_spaces_rewards_info_and_truncation() -> None:
    env = gym.make("strategy_gym/Game2048-v0", size=6, target=512, p_four=0.2,
                   max_episode_steps=5)
    obs, info = env.reset(seed=4)
    assert obs.shape == (6, 6) and obs.dtype == np.uint8
    assert env.action_space == gym.spaces.Discrete(4)
    assert set(info) >= {"score", "max_tile", "action_mask", "status"}
    game = new_game(6, 512, 0.2, seed=4)
    np.testing.assert_array_equal(obs, game.board)
    for t in range(5):
        obs, reward, terminated, truncated, info = env.step(t % 4)
        _, gain = game.step(t % 4)
        assert reward == gain and info["score"] == game.score and not terminated
        np.testing.assert_array_equal(obs, game.board)
        np.testing.assert_array_equal(info["action_mask"], game.legal_mask())
    assert truncated


def test_log_reward_and_bad_arguments() -> None:
    env = Game2048Env(size=4, reward_mode="log2")
    env.reset(seed=0)
    game = new_game(4, seed=0)
    for a in [1, 1, 3, 3, 0, 2] * 3:
        _, reward, *_ = env.step(a)
        assert reward == pytest.approx(np.log2(1 + game.step(a)[1]))
    with pytest.raises(ValueError, match="size"):
        gym.make("strategy_gym/Game2048-v0", size=12)
    with pytest.raises(ValueError, match="power of two"):
        gym.make("strategy_gym/Game2048-v0", target=100)
    with pytest.raises(ValueError, match="p_four"):
        Game2048VectorEnv(num_envs=2, p_four=2.0)
    with pytest.raises(ValueError, match="reward_mode"):
        Game2048Env(reward_mode="square")
    with pytest.raises(ValueError, match="action"):
        env.step(7)
    with pytest.raises(ValueError, match="num_envs"):
        Game2048VectorEnv(num_envs=0)


def test_renders() -> None:
    env = Game2048Env(size=4, render_mode="ansi")
    env.reset(seed=2)
    text = env.render()
    assert text.count("\n") == 8 and "2" in text
    env = Game2048Env(size=3, render_mode="rgb_array")
    env.reset(seed=2)
    image = env.render()
    assert image.dtype == np.uint8 and image.shape[2] == 3 and image.shape[0] == image.shape[1]
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 3  # tiles and text were drawn


def test_make_vec_uses_the_native_vector_env() -> None:
    venv = gym.make_vec("strategy_gym/Game2048-v0", num_envs=8,
                        vectorization_mode="vector_entry_point", size=5)
    assert isinstance(venv, Game2048VectorEnv)
    obs, infos = venv.reset(seed=10)
    assert obs.shape == (8, 5, 5) and infos["action_mask"].shape == (8, 4)
    for k in range(8):
        np.testing.assert_array_equal(obs[k], new_game(5, seed=10 + k).board)


def test_vector_env_matches_single_env_and_games_under_autoreset() -> None:
    """Board k: its first game equals the single env's; ends are followed by NEXT_STEP resets."""
    n_envs, size = 6, 3
    venv = Game2048VectorEnv(num_envs=n_envs, size=size, target=64)
    singles = [Game2048Env(size=size, target=64) for _ in range(n_envs)]
    seeds = [31 * k + 5 for k in range(n_envs)]
    obs, _ = venv.reset(seed=seeds)
    for k, env in enumerate(singles):
        single_obs, _ = env.reset(seed=seeds[k])
        np.testing.assert_array_equal(obs[k], single_obs)
    first_episode = np.ones(n_envs, bool)
    was_done = np.zeros(n_envs, bool)
    resets_seen = 0
    rs = np.random.default_rng(0)
    for _ in range(400):
        actions = rs.integers(0, 4, n_envs)
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        for k in range(n_envs):
            if was_done[k]:  # the autoreset step: fresh board, no reward, no end
                assert rewards[k] == 0 and not terminated[k] and not truncated[k]
                assert infos["score"][k] == 0 and np.count_nonzero(obs[k]) == 2
                resets_seen += 1
                first_episode[k] = False
            elif first_episode[k]:
                s_obs, s_reward, s_term, _, s_info = singles[k].step(int(actions[k]))
                np.testing.assert_array_equal(obs[k], s_obs)
                assert (rewards[k], terminated[k]) == (s_reward, s_term)
                assert infos["score"][k] == s_info["score"]
        was_done = terminated | truncated
    assert resets_seen > n_envs  # every board ended and restarted at least once


def test_vector_fast_path_equals_generic_path() -> None:
    kwargs = {"num_envs": 300, "size": 4, "target": 64, "max_episode_steps": 100}
    fast, generic = Game2048VectorEnv(**kwargs), Game2048VectorEnv(**kwargs, fast_path=False)
    assert fast.batch.uses_bitboard and not generic.batch.uses_bitboard
    fast.batch.parallel_min_batch = 1  # parallel bitboard kernel vs serial generic kernel
    a, b = fast.reset(seed=7), generic.reset(seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    rs = np.random.default_rng(1)
    ended = 0
    for _ in range(250):
        actions = rs.integers(0, 4, 300)
        out_a, out_b = fast.step(actions), generic.step(actions)
        for x, y in zip(out_a[:4], out_b[:4], strict=True):
            np.testing.assert_array_equal(x, y)
        for key in ("score", "action_mask", "status", "moves", "max_tile"):
            np.testing.assert_array_equal(out_a[4][key], out_b[4][key])
        ended += int(out_a[2].sum() + out_a[3].sum())
    assert ended > 300


def test_batched_boards_truncation_and_no_autoreset() -> None:
    batch = BatchedBoards([1, 2], size=4, max_steps=3)
    for _ in range(3):
        res = batch.step([1, 3])
    assert res.truncated.all() and batch.pending.all()
    before = batch.boards.copy()
    res = batch.step([0, 0])  # ended boards stay as they are without autoreset
    np.testing.assert_array_equal(batch.boards, before)
    assert not res.was_reset.any() and (res.gains == 0).all()
    batch.reset(seeds=[1, 2])
    np.testing.assert_array_equal(batch.boards[0], new_game(4, seed=1).board)
