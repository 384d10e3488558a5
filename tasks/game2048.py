"""The built-in ``2048`` task: the model writes ``def strategy(board)``, rewarded by how it plays.

Board presets: ``small`` (4x4, target 256: a 135M model on CPU can get signal, the reference
strategies span 5-70%), ``classic`` (4x4, 2048) and ``notebook`` (6x6, 2048, the gpt-oss
notebook's game). ``make_task(board=..., size=..., target=...)`` picks or overrides them.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strategy_gym.agents.demonstrations import demonstration_texts
from strategy_gym.agents.playout import (
    ENTRY_POINT,
    GAME_RUNNER,
    PlayConfig,
    StrategyEvaluator,
    extract_strategy,
    reads_board,
)
from strategy_gym.core.messages import completion_text
from strategy_gym.envs.game2048 import validate_config
from strategy_gym.envs.seeds import builtin_seed_sets
from strategy_gym.rewards.game2048 import notebook_rewards, shaped_rewards
from strategy_gym.sandbox import SandboxPolicy, check_source
from strategy_gym.tasks.registry import Assessment, Task
from strategy_gym.text_tasks.prompts_2048 import PROMPT_STYLES, prompt_messages

BOARD_PRESETS: dict[str, dict[str, int]] = {
    "small": {"size": 4, "target": 256},
    "classic": {"size": 4, "target": 2048},
    "notebook": {"size": 6, "target": 2048},
}
SPLITS = ("train", "eval", "test")


@dataclass(frozen=True)
class ParseResult:
    ok: bool
    value: str | None  # the strategy source when ok
    reason: str


@dataclass(frozen=True)
class StrategyContract:
    """A completion must hold ``def strategy(board)`` that passes the sandbox's static checks
    and reads its board (the prompt's own ``return "W"`` example is a placeholder, not a strategy)."""

    name: str = "python_strategy_function"
    extraction: str = "lenient"  # "notebook": at least two ``` fences, starts with the def

    def parse(self, completion: Any) -> ParseResult:
        code, reason = extract_strategy(completion_text(completion), self.extraction)
        if code is None:
            return ParseResult(False, None, reason)
        verdict = check_source(code, SandboxPolicy(entry_point=ENTRY_POINT))
        if not verdict.ok:
            return ParseResult(False, code, f"{verdict.outcome}: {verdict.message}")
        if not reads_board(code):
            return ParseResult(False, code, "placeholder: strategy never reads its board argument")
        return ParseResult(True, code, reason)


def board_settings(board: str = "small", size: int | None = None, target: int | None = None,
                   p_four: float = 0.1) -> dict[str, Any]:  # fmt: skip
    """Size, target and p_four from a preset name, with explicit overrides; validated."""
    if board not in BOARD_PRESETS:
        raise ValueError(f"unknown board preset {board!r}; known: {', '.join(BOARD_PRESETS)}")
    settings = {**BOARD_PRESETS[board], "p_four": p_four}
    if size is not None:
        settings["size"] = size
    if target is not None:
        settings["target"] = target
    validate_config(settings["size"], settings["target"], settings["p_four"])
    return settings


def make_task(board: str = "small", size: int | None = None, target: int | None = None,
              p_four: float = 0.1, prompt_style: str = "notebook", system_prompt: str | None = None,
              assess_seeds: int = 8, workers: int | None = None, name: str = "2048") -> Task:  # fmt: skip
    """Build the 2048 Task (the ``strategy_gym.tasks`` entry point ``2048``).

    ``workers`` sandbox processes play the strategies; by default half the machine's cores
    (at least 2, at most 8), so a 16-core GPU host scores a GRPO batch in parallel while a
    2-core CPU machine keeps one core for the trainer.
    """
    workers = workers or min(8, max(2, (os.cpu_count() or 2) // 2))
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {prompt_style!r}; known: {', '.join(PROMPT_STYLES)}")
    if assess_seeds < 1:
        raise ValueError(f"assess_seeds must be >= 1, got {assess_seeds}")
    env = board_settings(board, size, target, p_four)
    seed_sets = builtin_seed_sets()
    messages = prompt_messages(env["size"], env["target"], prompt_style, system_prompt)

    def build_dataset(split: str, n: int, seed: int) -> list[dict]:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        rng = random.Random(seed)
        pool = seed_sets[split]
        return [{"prompt": [dict(m) for m in messages], "game_seed": pool[rng.randrange(len(pool))]}
                for _ in range(n)]  # fmt: skip

    def demonstrations(n: int, seed: int) -> list[dict]:
        return [
            {"prompt": [dict(m) for m in messages],
             "completion": [{"role": "assistant", "content": text}]}
            for text in demonstration_texts(n, seed)
        ]  # fmt: skip

    def assess(completions: Sequence[Any], rows: Sequence[dict] = ()) -> list[Assessment]:
        seeds = list(seed_sets["eval"].first(assess_seeds))
        config = PlayConfig(size=env["size"], target=env["target"], p_four=env["p_four"])
        texts = [completion_text(c) for c in completions]
        with StrategyEvaluator(config, workers=workers) as evaluator:
            evaluations = evaluator.evaluate(texts, [seeds] * len(texts))
        return [_assessment(ev) for ev in evaluations]

    def rewards_with(factory):
        def make(**options: Any) -> list:
            return factory(**{**env, "workers": workers, **options})

        return make

    return Task(
        name=name,
        env_id="strategy_gym/Game2048-v0",
        description=f"Write def strategy(board) that reaches {env['target']} on a "
        f"{env['size']}x{env['size']} 2048 board; rewarded by sandboxed play on seeded games.",
        build_dataset=build_dataset,
        contract=StrategyContract(),
        reward_presets={"shaped": rewards_with(shaped_rewards), "notebook": rewards_with(notebook_rewards)},
        default_preset="shaped",
        assess=assess,
        env_kwargs=dict(env),
        demonstrations=demonstrations,
        sandbox_entry=ENTRY_POINT,
        runner=GAME_RUNNER,
        seed_sets=dict(seed_sets),
        extra={"board": board, "prompt_style": prompt_style, "assess_seeds": assess_seeds},
    )


def _assessment(ev) -> Assessment:
    detail = {
        "stage": ev.stage,
        "message": ev.message,
        "games": len(ev.games),
        "mean_score": sum(g.score for g in ev.games) / len(ev.games) if ev.games else 0.0,
        "best_tile": max((g.max_tile for g in ev.games), default=0),
        "outcomes": dict(Counter(g.outcome for g in ev.games)),
    }
    return Assessment(format_ok=ev.format_ok, score=ev.success_rate, outcome=ev.outcome, detail=detail)


def make_notebook_task() -> Task:
    """The gpt-oss notebook's game (6x6, 2048) with the notebook's reward values by default."""
    task = make_task(board="notebook", name="2048-notebook")
    task.default_preset = "notebook"
    return task


def make_classic_task() -> Task:
    """The usual 4x4 game to 2048."""
    return make_task(board="classic", name="2048-classic")
