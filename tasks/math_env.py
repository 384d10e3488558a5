"""``strategy_gym/MathAnswer-v0``: one math problem per episode, one completion per step.

Observation: the prompt as text (the contract's system prompt, a blank line, the question).
Action: the completion text (a plain string, or conversational messages). The episode ends
after one step; the reward is the sum of the chosen reward stack, and ``info`` carries the
parsed answer, the format verdict and the per-reward breakdown.

``mode="program"``: the completion defines ``def solve()``; it runs in the sandbox and its
return value is the answer (the env owns a lazily created pool; call ``close()``).
No LLM or TRL imports here: contracts, data and rewards are plain Python.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from strategy_gym.core.messages import completion_text
from strategy_gym.text_tasks.answers import CheckMode, answers_match
from strategy_gym.text_tasks.contracts import get_contract
from strategy_gym.text_tasks.math_data import generate_problems, problem_rows

MAX_PROMPT_CHARS = 16_384
MAX_COMPLETION_CHARS = 65_536
# What the generator and common datasets write: printable ASCII plus typical math symbols.
BASE_CHARSET = frozenset(string.printable + "×÷−–—±≤≥≠≈√π°²³½¼¾‘’“”…€£¥∞∑∫·")


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Chat messages as one text: contents joined by blank lines (system prompt first)."""
    return "\n\n".join(completion_text(m) for m in messages)


class MathAnswerEnv(gym.Env):
    """Single-step math answer environment (see module docstring).

    ``rows``: TRL rows (``prompt`` messages + ``answer``) to draw problems from; without them
    each reset generates one procedural problem of ``difficulty`` from the reset's RNG.
    ``reward_preset``: "layered" (default), "llama31", "qwen3", "advanced_llama32"; program mode
    always uses the program stack.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any]] | None = None,
        contract: str = "answer_tag",
        reward_preset: str = "layered",
        difficulty: int = 1,
        check_mode: str = "numeric",
        mode: str = "answer",
        workers: int = 1,
        render_mode: str | None = None,
    ) -> None:
        if mode not in ("answer", "program"):
            raise ValueError(f"mode must be 'answer' or 'program', got {mode!r}")
        self.mode, self.difficulty, self.render_mode = mode, difficulty, render_mode
        self.check_mode = CheckMode(check_mode)
        if mode == "program":
            from strategy_gym.text_tasks.math_program import ProgramContract

            self.contract = ProgramContract()
        else:
            self.contract = get_contract(contract)
        self.rows = _checked_rows(rows) if rows is not None else None
        self.reward_fns = self._reward_stack(reward_preset, workers)
        charset = BASE_CHARSET | _row_chars(self.rows) | frozenset(self.contract.system_prompt)
        self.observation_space = spaces.Text(MAX_PROMPT_CHARS, charset=charset)
        self.action_space = spaces.Text(MAX_COMPLETION_CHARS, min_length=0, charset=charset)
        self._row: Mapping[str, Any] | None = None
        self._last: tuple[str, str, dict] | None = None

    def _reward_stack(self, preset: str, workers: int) -> list:
        from strategy_gym.rewards import math as stacks

        if self.mode == "program":
            return stacks.program_rewards(workers=workers)
        factories = stacks.answer_presets(self.contract, self.check_mode)
        if preset not in factories:
            raise ValueError(f"unknown reward preset {preset!r}; known: {', '.join(factories)}")
        return factories[preset]()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict]:
        super().reset(seed=seed)
        options = options or {}
        if self.rows is not None:
            index = int(options.get("index", self.np_random.integers(len(self.rows))))
            if not 0 <= index < len(self.rows):
                raise ValueError(f"options['index'] {index} outside 0..{len(self.rows) - 1}")
            self._row = self.rows[index]
        else:
            problem_seed = int(self.np_random.integers(2**31 - 1))
            problem = generate_problems(1, problem_seed, self.difficulty)[0]
            self._row = problem_rows([problem], self.contract)[0]
        observation = prompt_text(self._row["prompt"])
        return observation, {
            "messages": list(self._row["prompt"]),
            "question": self._row.get("question"),
        }

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict]:
        if self._row is None:
            raise RuntimeError("call reset() before step()")
        gold = str(self._row["answer"])
        completion = completion_text(action)  # model output: anything else becomes ""
        breakdown = {fn.__name__: fn([completion], answer=[gold])[0] for fn in self.reward_fns}
        reward = float(sum(v for v in breakdown.values() if v is not None))
        info = {"answer": gold, "rewards": breakdown, **self._verdict(completion, gold)}
        observation = prompt_text(self._row["prompt"])
        self._last = (observation, completion, info)
        return observation, reward, True, False, info

    def _verdict(self, completion: str, gold: str) -> dict[str, Any]:
        parsed = self.contract.parse(completion)
        if self.mode == "program":
            runner = self.reward_fns[0].runner
            result = runner.answers([completion])[0]  # cached: already run for the rewards
            return {
                "parsed_answer": result.answer,
                "format_ok": parsed.ok,
                "format_reason": parsed.reason,
                "miss_kind": parsed.kind.value,
                "program_outcome": result.outcome,
                "program_message": result.message,
                "correct": result.ok and answers_match(result.answer, gold),
            }
        return {
            "parsed_answer": parsed.value,
            "format_ok": parsed.ok,
            "format_reason": parsed.reason,
            "miss_kind": parsed.kind.value,
            "correct": parsed.ok and answers_match(parsed.value, gold, self.check_mode),
        }

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self._last is None:
            return None
        observation, completion, info = self._last
        return (
            f"{observation}\n--- completion ---\n{completion}\n--- rewards ---\n{info['rewards']}"
        )

    def close(self) -> None:
        for fn in self.reward_fns:
            closer = getattr(fn, "close", None)
            if closer is not None:
                closer()
        super().close()


def _checked_rows(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a sequence of dataset rows, got {type(rows).__name__}")
    if not rows:
        raise ValueError("rows is empty: give at least one problem or leave rows=None")
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping) or not isinstance(row.get("prompt"), list):
            raise TypeError(f"row {index}: expected a mapping with a 'prompt' message list")
        if row.get("answer") is None:
            raise ValueError(f"row {index}: missing answer")
    return list(rows)


def _row_chars(rows: Sequence[Mapping[str, Any]] | None) -> frozenset[str]:
    if not rows:
        return frozenset()
    return frozenset("".join(prompt_text(row["prompt"]) for row in rows))
