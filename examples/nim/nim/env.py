"""Nim: take one or more objects from one pile; whoever takes the last one wins.

The seed draws the three pile sizes (1 to 7) and every reply of the random opponent, which
moves inside ``step``. ``info``: ``status`` (playing, win, loss, illegal) and ``piles``.
"""

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry

ENV_ID, PILES, MOST = "nim/Nim-v0", 3, 7


class NimEnv(gym.Env):
    observation_space = gym.spaces.Box(0, MOST, shape=(PILES,), dtype=np.int64)
    action_space = gym.spaces.MultiDiscrete([PILES, MOST + 1])  # (pile, how many to take)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.piles = self.np_random.integers(1, MOST + 1, PILES)
        obs, _, _, _, info = self._out("playing")
        return obs, info

    def step(self, action):
        pile, take = int(action[0]), int(action[1])
        if not (0 <= pile < PILES and 1 <= take <= self.piles[pile]):
            return self._out("illegal", -1.0)
        self.piles[pile] -= take
        if not self.piles.any():
            return self._out("win", 1.0)
        pile = self.np_random.choice(np.flatnonzero(self.piles))
        self.piles[pile] -= self.np_random.integers(1, self.piles[pile] + 1)
        return self._out("playing") if self.piles.any() else self._out("loss", -1.0)

    def _out(self, status, reward=0.0):
        info = {"status": status, "piles": self.piles.tolist()}
        return self.piles.copy(), reward, status != "playing", False, info


if ENV_ID not in registry:
    register(id=ENV_ID, entry_point=NimEnv)
