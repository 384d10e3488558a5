"""The Gymnasium env: the single definition of the game the trusted side steps.

One step is the strategy's column plus the opponent's reply (inside the env). ``info`` carries
``status`` (playing, win, loss, draw, illegal), ``legal`` (the columns not full) and ``moves``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from connect_four.game import COLS, OPPONENT, ROWS, ConnectFour, legal_columns

_REWARDS = {"win": 1.0, "loss": -1.0, "illegal": -1.0, "draw": 0.0, "playing": 0.0}


class ConnectFourEnv(gym.Env):
    """Observation: the 6x7 board (0 empty, 1 you, 2 opponent). Action: a column 0..6.

    An illegal column ends the episode with reward -1 (the strategy codec never sends one).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None) -> None:
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, OPPONENT, shape=(ROWS, COLS), dtype=np.int8)
        self.action_space = gym.spaces.Discrete(COLS)
        self._game: ConnectFour | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        game_seed = int(self.np_random.integers(0, 2**31 - 1)) if seed is None else seed
        self._game = ConnectFour(game_seed)
        return self._observation(), {**self._info(), "seed": game_seed}

    def step(self, action: Any):
        if self._game is None or self._game.status != "playing":
            raise RuntimeError("call reset() before step() and after the episode ends")
        status = self._game.play(int(action))
        done = status != "playing"
        return self._observation(), _REWARDS[status], done, False, self._info()

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self._game is None:
            return None
        return "\n".join(" ".join(".XO"[cell] for cell in row) for row in self._game.board)

    def _info(self) -> dict[str, Any]:
        game = self._game
        return {"status": game.status, "legal": legal_columns(game.board), "moves": game.moves}

    def _observation(self) -> np.ndarray:
        return np.asarray(self._game.board, dtype=np.int8)
