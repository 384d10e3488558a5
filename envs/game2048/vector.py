"""Native batched 2048 for Gymnasium 1.x: B boards stepped in one numba parallel call.

``gymnasium.make_vec("strategy_gym/Game2048-v0", num_envs=1024, vectorization_mode="vector_entry_point")``
or ``Game2048VectorEnv(num_envs=1024, size=4)``. Autoreset follows Gymnasium's NEXT_STEP
mode: the step after an episode ends resets that board (its action is ignored, reward 0).
Board i with seed s plays exactly ``new_game(size, target, p_four, seed=s)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .batch import BatchedBoards
from .env import board_space, check_modes, reward_of
from .render import render_ansi
from .rules import validate_config


class Game2048VectorEnv(VectorEnv):
    """B independent 2048 boards; observations (B, N, N) uint8 exponents, actions (B,) in 0..3.

    ``infos`` holds arrays (each with its ``_name`` mask): score, max_tile, action_mask (B, 4),
    status (0 ongoing, 1 success, 2 failed), moves (episode length), changed.
    """

    metadata = {"render_modes": ["ansi"], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        size: int = 4,
        target: int = 2048,
        p_four: float = 0.1,
        reward_mode: str = "gain",
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        fast_path: bool = True,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        check_modes(reward_mode, render_mode, ("ansi",))
        self.config = validate_config(size, target, p_four)
        self.num_envs = num_envs
        self.reward_mode = reward_mode
        self.render_mode = render_mode
        n = self.config.size
        self.single_observation_space = board_space(self.config)
        self.single_action_space = spaces.Discrete(4)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.batch = BatchedBoards(
            np.arange(num_envs), n, self.config.target, self.config.p_four,
            max_steps=max_episode_steps, autoreset=True, fast_path=fast_path,
        )
        self._all = np.ones(num_envs, dtype=np.bool_)

    def _infos(self, score, max_tile, action_mask, status, moves, changed) -> dict[str, Any]:
        every = self._all
        return {
            "score": score, "_score": every, "max_tile": max_tile, "_max_tile": every,
            "action_mask": action_mask, "_action_mask": every, "status": status,
            "_status": every, "moves": moves, "_moves": every, "changed": changed,
            "_changed": every,
        }

    def _seeds(self, seed: int | list[int] | None) -> list[int]:
        if seed is None:
            return [int(s) for s in self.np_random.integers(0, 2**63, size=self.num_envs)]
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} envs")
        return seeds

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if isinstance(seed, (int, np.integer)):
            self._np_random, self._np_random_seed = np.random.default_rng(int(seed)), int(seed)
        mask = self._all
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=np.bool_)
        seeds = np.asarray(self._seeds(seed), dtype=object)[mask]
        self.batch.reset(seeds=list(seeds), mask=mask)
        b = self.batch
        masks = b.legal_masks()
        b.masks[:] = masks
        infos = self._infos(b.scores.copy(), b.max_tiles(), masks.astype(np.int8),
                            b.status.copy(), b.lengths.copy(), np.zeros(self.num_envs, np.bool_))
        return b.boards.copy(), infos

    def step(self, actions):
        # One kernel call writes every returned array (all fresh: callers may keep them).
        (obs, rewards, terminated, truncated, changed, action_mask, score, max_tile, status,
         moves) = self.batch.step_gym(actions)
        if self.reward_mode != "gain":
            rewards = reward_of(rewards, self.reward_mode)
        infos = self._infos(score, max_tile, action_mask, status, moves, changed)
        return obs, rewards, terminated, truncated, infos

    def render(self) -> tuple[str, ...] | None:
        if self.render_mode != "ansi":
            return None
        return tuple(render_ansi(board) for board in self.batch.boards)
