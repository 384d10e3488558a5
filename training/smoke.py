"""The smoke phase: watch the first GRPO steps and stop early when rewards carry no signal.

GRPO learns from differences between completions of one prompt. If every group's rewards are
identical, always zero, or NaN, more steps cannot help; the playbook says stop and fix the reward
or the format first. The diagnosis names which case it was and the usual cause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from transformers import TrainerCallback


@dataclass
class SmokeVerdict:
    ok: bool
    reason: str = ""  # "", "nan", "always_zero", "constant"
    diagnosis: str = ""


@dataclass
class SmokeWatch:
    steps: int
    rewards: list[float] = field(default_factory=list)
    zero_std_fraction: list[float] = field(default_factory=list)

    def add(self, logs: dict) -> None:
        if "reward" in logs:
            self.rewards.append(float(logs["reward"]))
            self.zero_std_fraction.append(float(logs.get("frac_reward_zero_std", float("nan"))))

    def verdict(self) -> SmokeVerdict:
        if any(math.isnan(r) for r in self.rewards):
            return SmokeVerdict(False, "nan", "a reward was NaN: a reward function returned None "
                                "for every function on some completion or produced NaN; check "
                                "the reward functions' error handling")
        if len(self.rewards) < self.steps:
            return SmokeVerdict(True)
        if all(r == 0 for r in self.rewards):
            return SmokeVerdict(False, "always_zero", "the reward was 0 at every step: usually "
                                "the parser/regex does not match what the model writes (see the "
                                "preflight format rate); prime the format or loosen the contract")
        if all(f >= 1.0 for f in self.zero_std_fraction):
            return SmokeVerdict(False, "constant", "every group got identical rewards at every "
                                "step (zero std): no advantage signal; add a graded reward "
                                "(e.g. a shaped preset), raise temperature or num_generations")
        return SmokeVerdict(True)


class SmokeCallback(TrainerCallback):
    """Stops training after the smoke steps (or at the first NaN) with a diagnosis."""

    def __init__(self, steps: int) -> None:
        self.watch = SmokeWatch(steps)
        self.verdict = SmokeVerdict(True)

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001 - HF signature
        if not logs or len(self.watch.rewards) >= self.watch.steps:
            return
        self.watch.add(logs)
        verdict = self.watch.verdict()
        if not verdict.ok:
            self.verdict = verdict
            control.should_training_stop = True
