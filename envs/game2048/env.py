"""Gymnasium single-board 2048: ``gymnasium.make("strategy_gym/Game2048-v0", size=6, ...)``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .game import Game
from .kernels import step_board_info
from .render import render_ansi, render_rgb
from .rules import STATUS_NAMES, parse_action, validate_config

REWARD_MODES = ("gain", "log2")


def check_modes(reward_mode: str, render_mode: str | None, render_modes: tuple[str, ...]) -> None:
    """The reward and render modes of the single and the vector env, checked alike."""
    if reward_mode not in REWARD_MODES:
        raise ValueError(f"reward_mode must be one of {REWARD_MODES}, got {reward_mode!r}")
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(f"render_mode must be None or one of {render_modes}, got {render_mode!r}")


def board_space(config: Any) -> spaces.Box:
    """One board as tile exponents (0 = empty)."""
    n = config.size
    return spaces.Box(0, config.target_exp, (n, n), np.uint8)


def reward_of(gain: int | np.ndarray, mode: str) -> float | np.ndarray:
    """Merge gain as is, or log2(1 + gain) for a gentler scale."""
    return np.log2(1.0 + gain) if mode == "log2" else gain * 1.0


class Game2048Env(gym.Env):
    """2048 on an N x N board.

    Observation: the board of tile exponents, uint8 (N, N), 0 = empty. Actions: Discrete(4),
    0=W up, 1=A left, 2=S down, 3=D right. Reward: merge gain (``reward_mode="log2"``:
    log2(1 + gain)). ``terminated`` on success (a tile >= target) or failure (no move changes
    the board); truncation comes from ``max_episode_steps``. ``info``: score, max_tile,
    action_mask (int8, 1 = the move changes the board), status, moves, changed.
    ``reset(seed=s)`` plays exactly ``new_game(size, target, p_four, seed=s)``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        size: int = 4,
        target: int = 2048,
        p_four: float = 0.1,
        reward_mode: str = "gain",
        render_mode: str | None = None,
        ansi_color: bool = False,
    ) -> None:
        self.config = validate_config(size, target, p_four)
        check_modes(reward_mode, render_mode, tuple(self.metadata["render_modes"]))
        self.reward_mode = reward_mode
        self.render_mode = render_mode
        self.ansi_color = ansi_color
        self.observation_space = board_space(self.config)
        self.action_space = spaces.Discrete(4)
        self.game: Game | None = None

    def _info(self, changed: bool = False) -> dict[str, Any]:
        game = self.game
        return {
            "score": game.score,
            "max_tile": game.max_tile,
            "action_mask": game.legal_mask().astype(np.int8),
            "status": game.status,
            "moves": game.moves,
            "changed": changed,
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        game_seed = seed if seed is not None else int(self.np_random.integers(0, 2**63))
        self.game = Game(self.config, game_seed)
        return self.game.board.copy(), self._info()

    def step(self, action):
        game = self.game
        if game is None:
            raise RuntimeError("call reset() before step()")
        if game.status_code != 0:
            raise RuntimeError(f"the episode is over ({game.status}); call reset()")
        # Fast path for plain ints; anything else goes through the full action parser.
        if type(action) is not int or not 0 <= action <= 3:
            action = parse_action(int(action) if isinstance(action, np.ndarray) else action)
        cfg = self.config
        mask = np.empty(4, dtype=np.int8)
        # One kernel call: move, spawn, status, largest tile and legal mask (Game.step's rules).
        gain, changed, status, top = step_board_info(
            game.board, game.rng_state, action, cfg.p_four, cfg.target_exp, mask)
        game.score += gain
        game.steps += 1
        game.moves += changed
        game._status = status
        reward = float(gain) if self.reward_mode == "gain" else float(reward_of(gain, "log2"))
        info = {
            "score": game.score,
            "max_tile": 1 << top if top else 0,
            "action_mask": mask,
            "status": STATUS_NAMES[status],
            "moves": game.moves,
            "changed": changed,
        }
        return game.board.copy(), reward, status != 0, False, info

    def render(self):
        if self.game is None or self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return render_ansi(self.game.board, color=self.ansi_color)
        return render_rgb(self.game.board)


__all__ = ["Game2048Env", "STATUS_NAMES", "reward_of"]
