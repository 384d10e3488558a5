"""The built-in ``2048`` task: the model writes ``def strategy(board)``, rewarded by how it plays.

Board presets: ``small`` (4x4, target 256: a 135M model on CPU can get signal, the reference
strategies span 5-70%), ``classic`` (4x4, 2048) and ``notebook`` (6x6, 2048, the gpt-oss
notebook's game). ``make_task(board=..., size=..., target=...)`` picks or overrides them.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

from strategy_gym.core.messages import completion_text
from strategy_gym.core.outcomes import Outcome
from strategy_gym.core.processes import cores_per_rank, world_size
from strategy_gym.envs.game2048 import board_as_lists, validate_config
from strategy_gym.envs.seeds import builtin_seed_sets
from strategy_gym.play import (
    InvalidMove,
    PlaySettings,
    StrategyContract,
    StrategyEvaluator,
    StrategyGame,
)
from strategy_gym.rewards.strategy import notebook_rewards, shaped_rewards
from strategy_gym.tasks.registry import Assessment, Task
from strategy_gym.text_tasks.demonstrations_2048 import demonstration_texts
from strategy_gym.text_tasks.prompts_2048 import PROMPT_STYLES, prompt_messages

ENTRY_POINT = "strategy"

BOARD_PRESETS: dict[str, dict[str, int]] = {
    "small": {"size": 4, "target": 256},
    "classic": {"size": 4, "target": 2048},
    "notebook": {"size": 6, "target": 2048},
}
SPLITS = ("train", "eval", "test")


# ---- the game, as a strategy sees it -------------------------------------------------------
_MOVES = {"W": 0, "A": 1, "S": 2, "D": 3}  # the env's action codes


def board_view(obs: Any, info: dict) -> list[list[int]]:
    """What ``strategy(board)`` receives: a fresh list of lists of tile values (0 = empty)."""
    return board_as_lists(obs)


def decode_move(value: Any, info: dict) -> int:
    """'W', 'A', 'S' or 'D' (any case, spaces around allowed) -> the env's action code."""
    if type(value) is not str:
        raise InvalidMove(f"strategy must return one of 'W', 'A', 'S', 'D' as a str, "
                          f"got {type(value).__name__}")  # fmt: skip
    letter = value.strip().upper() if len(value) <= 16 else value
    if letter not in _MOVES:
        raise InvalidMove(f"strategy returned {value[:40]!r}; expected one of W, A, S, D")
    return _MOVES[letter]


def judge_game(terminated: bool, truncated: bool, info: dict) -> Outcome:
    return Outcome.SUCCESS if info.get("status") == "success" else Outcome.GAME_OVER


def tile_progress(target: int, info: dict) -> float:
    """log2(best tile) / log2(target), clipped to [0, 1]; 0 for an empty board."""
    best = int(info.get("max_tile", 0))
    return 0.0 if best < 2 else min(1.0, math.log2(best) / math.log2(target))


def game_detail(info: dict) -> dict[str, int]:
    return {"max_tile": int(info.get("max_tile", 0))}


def game_score(info: dict) -> float:
    return float(info.get("score", 0))


def unchanged(info: dict) -> bool:
    return not info.get("changed", True)


def strategy_game(size: int, target: int, p_four: float = 0.1,
                  max_moves: int | None = None) -> StrategyGame:  # fmt: skip
    """2048 for strategies: the Gymnasium env, the list-of-lists view, the W/A/S/D codec.
    The default move cap (size * size * target / 2 actions) is more than any real game."""
    validate_config(size, target, p_four)
    return StrategyGame(
        env_id="strategy_gym/Game2048-v0",
        env_kwargs={"size": size, "target": target, "p_four": p_four},
        view=board_view, decode=decode_move, judge=judge_game,
        max_moves=max_moves or size * size * target // 2,
        progress=partial(tile_progress, target), detail=game_detail, score=game_score,
        stalled=unchanged, stall_limit=50, entry_point=ENTRY_POINT,
    )  # fmt: skip


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
              assess_seeds: int = 8, workers: int | None = None, name: str = "2048",
              demonstration_style: str = "reference", assess_split: str = "eval") -> Task:  # fmt: skip
    """Build the 2048 Task (the ``strategy_gym.tasks`` entry point ``2048``).

    ``workers`` sandbox processes play the strategies; by default half the machine's cores
    (at least 2, at most 8), so a 16-core GPU host scores a GRPO batch in parallel while a
    2-core CPU machine keeps one core for the trainer; launched as N ranks (accelerate,
    torchrun) each rank's pool takes half of its ``cpu_count // N`` share (at least 1).
    ``demonstration_style`` picks the priming players (``reference`` or ``naive``, see
    :mod:`strategy_gym.text_tasks.demonstrations_2048`); ``assess_split`` the seed set ``assess`` plays
    (``test``: held-out seeds that neither training nor the usual eval ever sees).
    """
    # Under several ranks (accelerate/torchrun) each rank's pool takes half its share.
    floor = 2 if world_size() == 1 else 1
    workers = workers or min(8, max(floor, cores_per_rank() // 2))
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {prompt_style!r}; known: {', '.join(PROMPT_STYLES)}")
    if assess_seeds < 1:
        raise ValueError(f"assess_seeds must be >= 1, got {assess_seeds}")
    env = board_settings(board, size, target, p_four)
    seed_sets = builtin_seed_sets()
    if assess_split not in seed_sets:
        raise ValueError(f"unknown assess_split {assess_split!r}; known: {', '.join(seed_sets)}")
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
            for text in demonstration_texts(n, seed, demonstration_style)
        ]  # fmt: skip

    game = strategy_game(env["size"], env["target"], env["p_four"])

    def assess(completions: Sequence[Any], rows: Sequence[dict] = ()) -> list[Assessment]:
        seeds = list(seed_sets[assess_split].first(assess_seeds))
        texts = [completion_text(c) for c in completions]
        with StrategyEvaluator(game, PlaySettings(), workers=workers) as evaluator:
            evaluations = evaluator.evaluate(texts, [seeds] * len(texts))
        return [_assessment(ev) for ev in evaluations]

    def rewards_with(factory):
        def make(**options: Any) -> list:
            return factory(game, **{"workers": workers, **options})

        return make

    return Task(
        name=name,
        env_id="strategy_gym/Game2048-v0",
        description=f"Write def strategy(board) that reaches {env['target']} on a "
        f"{env['size']}x{env['size']} 2048 board; rewarded by sandboxed play on seeded games.",
        build_dataset=build_dataset,
        contract=StrategyContract(PlaySettings(), ENTRY_POINT),
        reward_presets={"shaped": rewards_with(shaped_rewards), "notebook": rewards_with(notebook_rewards)},
        default_preset="shaped",
        assess=assess,
        env_kwargs=dict(env),
        demonstrations=demonstrations,
        sandbox_entry=ENTRY_POINT,
        strategy_game=game,
        seed_sets=dict(seed_sets),
        settings={"board": board, "prompt_style": prompt_style, "assess_seeds": assess_seeds,
               "assess_split": assess_split, "demonstration_style": demonstration_style},
    )


def _assessment(ev) -> Assessment:
    detail = {
        "stage": str(ev.stage),
        "message": ev.message,
        "games": len(ev.games),
        "mean_score": sum(g.score for g in ev.games) / len(ev.games) if ev.games else 0.0,
        "best_tile": max((g.detail.get("max_tile", 0) for g in ev.games), default=0),
        "outcomes": dict(Counter(str(g.outcome) for g in ev.games)),
    }
    return Assessment(format_ok=ev.format_ok, score=ev.success_rate, outcome=str(ev.outcome),
                      detail=detail)  # fmt: skip


def make_notebook_task() -> Task:
    """The gpt-oss notebook's game (6x6, 2048) with the notebook's reward values by default."""
    task = make_task(board="notebook", name="2048-notebook")
    task.default_preset = "notebook"
    return task


def make_classic_task() -> Task:
    """The usual 4x4 game to 2048."""
    return make_task(board="classic", name="2048-classic")
