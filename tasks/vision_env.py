"""``strategy_gym/VisionQA-v0``: one image question per episode, answered by one completion.

Observation: ``{"image": uint8 array (H, W, 3), "question": str}``. Action: the completion text.
Reward: the vision task's reward functions summed (tag format + answer correctness, shared with
training), so the env and GRPO score a completion identically. The episode ends after one step.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from strategy_gym.tasks.vision import numeric_rewards, vision_contract
from strategy_gym.text_tasks.vision_data import (
    IMAGE_SIZE,
    KINDS,
    LEVELS,
    VisionProblem,
    generate_problem,
)

MAX_TEXT = 8192
TEXT_CHARS = string.printable  # questions and completions are free text, not identifiers


class VisionQAEnv(gym.Env):
    """Procedural problems by default (kind and level drawn from ``kinds`` / ``levels`` per
    seed), or a fixed list of ``problems`` (e.g. MathVista rows) indexed by the reset seed."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, kinds: Sequence[str] = KINDS, levels: Sequence[int] = LEVELS,
                 image_size: int = IMAGE_SIZE, problems: Sequence[VisionProblem] | None = None,
                 render_mode: str | None = None) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if problems is not None and not problems:
            raise ValueError("problems, when given, must hold at least one problem")
        self.kinds, self.levels = tuple(kinds), tuple(levels)
        self.image_size = image_size
        self.problems = list(problems) if problems is not None else None
        self.render_mode = render_mode
        side = problems[0].image.size[0] if problems else image_size
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (side, side, 3), dtype=np.uint8),
            "question": spaces.Text(MAX_TEXT, min_length=0, charset=TEXT_CHARS),
        })
        self.action_space = spaces.Text(MAX_TEXT, min_length=0, charset=TEXT_CHARS)
        self._contract = vision_contract()
        self._rewards = numeric_rewards()
        self._problem: VisionProblem | None = None

    def _pick(self) -> VisionProblem:
        draw = int(self.np_random.integers(0, 2**31 - 1))
        if self.problems is not None:
            return self.problems[draw % len(self.problems)]
        kind = self.kinds[draw % len(self.kinds)]
        level = self.levels[(draw // len(self.kinds)) % len(self.levels)]
        return generate_problem(draw, kind, level, self.image_size)

    def _observation(self) -> dict:
        assert self._problem is not None
        return {"image": np.asarray(self._problem.image, dtype=np.uint8).copy(),
                "question": self._problem.question}

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict, dict]:
        super().reset(seed=seed)
        self._problem = self._pick()
        info = {"kind": self._problem.kind, "level": self._problem.level,
                "problem_seed": self._problem.seed}
        return self._observation(), info

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        if self._problem is None:
            raise RuntimeError("call reset() before step()")
        if not isinstance(action, str):
            raise TypeError(f"action must be the completion text (str), got "
                            f"{type(action).__name__}")
        answer = [self._problem.answer]
        parts = {f.__name__: f([action], answer=answer)[0] for f in self._rewards}
        parsed = self._contract.parse(action)
        info = {"answer": self._problem.answer, "rewards": parts, "format_ok": parsed.ok,
                "predicted": parsed.value, "outcome": parsed.kind.value,
                "correct": parts["correctness_reward"] > 0}
        observation = self._observation()
        self._problem = None  # single step: a second step needs a new reset
        return observation, float(sum(parts.values())), True, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array" or self._problem is None:
            return None
        return np.asarray(self._problem.image, dtype=np.uint8).copy()
