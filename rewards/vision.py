"""Rewards of the Gemma-3 vision GRPO recipe, layered over the shared contracts and checkers.

The notebook scores +1.0 for each tag pair that occurs exactly once (``<REASONING>...``,
``<SOLUTION>...``; max 2.0) and 2.0 for a correct answer. Only the first is vision-specific;
correctness is :class:`strategy_gym.rewards.math.ContractCorrectnessReward` over the task's contract.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from strategy_gym.core.messages import completion_texts
from strategy_gym.text_tasks.contracts import TagContract


class TagPairsOnce:
    """+``per_pair`` for each (open, close) section of the contract matched exactly once."""

    __name__ = "tag_pairs_once"

    def __init__(self, contract: TagContract, per_pair: float = 1.0) -> None:
        self.per_pair = per_pair
        self.patterns = [re.compile(re.escape(o) + "(.*?)" + re.escape(c), re.DOTALL)
                         for o, c in contract.sections]

    def __call__(self, completions: Sequence[Any], **_: Any) -> list[float]:
        return [self.per_pair * sum(len(p.findall(text)) == 1 for p in self.patterns)
                for text in completion_texts(completions)]
