"""TRL reward functions for strategy tasks, layered format -> safety -> play.

Each completion is evaluated once per step (extract -> static checks -> the trusted game master
plays its seeds through one sandbox session, see :mod:`strategy_gym.play`); the three functions
of a preset share one :class:`~strategy_gym.play.StrategyEvaluator` and read its cached
evaluation. Any task that declares a :class:`~strategy_gym.play.StrategyGame` gets both presets.

Preset ``notebook`` (the gpt-oss 2048 notebook's values; strict fenced-block extraction,
one seed per call shared by the whole batch, one game, 6x6 / 2048 in that task)::

    stage / game outcome              function_works  no_cheating  strategy_succeeds
    no function extracted                 -2.0           -1.0            0
    syntax error                          -2.0          -20.0            0   (notebook: import
                                                                              check fails -> -20)
    import outside the allowlist          +1.0          -20.0            0   (not run here; the
                                                                              notebook would play it)
    refused by the lock-down (forbidden)  -0.5           +1.0            0
    defining the code raises              -0.5           +1.0            0
    target reached                        +1.0           +1.0          +20.0
    game over / invalid action / non-str  +1.0           +1.0           +2.0  (notebook: "failed")
    time limit, stalled, move cap         +1.0           +1.0           -1.0  (always "W" never ends)
    raises, memory limit, crash           +1.0           +1.0           -3.0

Preset ``shaped`` (learning signal for small models; lenient extraction, ``k`` seeds per GRPO
group)::

    function_works:   +0.5 built and reads its board; 0.0 built but never reads the board (the
                      prompt's ``return "W"`` placeholder); -1.0 no function / syntax error;
                      -0.5 refused, import or build error
    no_cheating:       0.0 clean; -2.0 import outside the allowlist
    strategy_succeeds: success_rate + progress_weight * mean(progress) - broken_penalty * broken_rate

where, per seed, progress is the game's own (2048: clip(log2(best tile) / log2(target), 0, 1))
for a game that was played legitimately (success, game over, move cap) and 0 for a broken one
(raised, invalid action, timeout, stalled, memory limit, crash), and broken_rate is the share
of broken games.

Seeds: a dataset column ``game_seed`` (one per row, repeated by TRL for every completion of a
group) picks the seeds; without it they come from ``trainer_state.global_step`` or, last, a
hash of the batch. Either way every completion of one GRPO group plays the same seeds.

Where the games are played: ``backend="local"`` (a sandbox pool of ``workers`` here, the
default) or ``backend="ray"`` (sandbox pools in Ray actors; ``ray_address`` for
``ray.init(address=...)``, None for a local Ray of ``ray_num_cpus`` CPUs; needs the ``ray``
extra). The numbers are the same either way; ``train_env.py`` sets these from
``trainer.sandbox``.

The import allowlist is the sandbox's, narrower than the notebook's "any stdlib module":
``import os`` costs -20 here.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from strategy_gym.core.messages import completion_texts
from strategy_gym.core.outcomes import Outcome
from strategy_gym.envs.seeds import SeedSet, builtin_seed_set
from strategy_gym.play import PlaySettings, StrategyEvaluation, StrategyEvaluator, StrategyGame

# Legitimate endings that earn progress credit (stalled is not: it loops on a dead move).
PROGRESS_OUTCOMES = frozenset({Outcome.SUCCESS, Outcome.GAME_OVER, Outcome.MAX_MOVES})


# ---- notebook arithmetic ------------------------------------------------------------------
def notebook_function_works(ev: StrategyEvaluation) -> float:
    if ev.stage in (Outcome.NO_FUNCTION, Outcome.SYNTAX_ERROR):
        return -2.0
    if ev.stage in (Outcome.FORBIDDEN, Outcome.BUILD_ERROR):
        return -0.5
    return 1.0


def notebook_no_cheating(ev: StrategyEvaluation) -> float:
    if ev.stage is Outcome.NO_FUNCTION:
        return -1.0
    if ev.stage in (Outcome.IMPORT_VIOLATION, Outcome.SYNTAX_ERROR):
        return -20.0
    return 1.0


_NOTEBOOK_GAME_VALUES = {
    Outcome.SUCCESS: 20.0,
    Outcome.GAME_OVER: 2.0,
    Outcome.INVALID_ACTION: 2.0,
    Outcome.TIMEOUT: -1.0,
    Outcome.STALLED: -1.0,
    Outcome.MAX_MOVES: -1.0,
}


def notebook_strategy_succeeds(ev: StrategyEvaluation) -> float:
    if not ev.built or not ev.games:
        return 0.0
    return _NOTEBOOK_GAME_VALUES.get(ev.games[0].outcome, -3.0)


# ---- shaped arithmetic --------------------------------------------------------------------
def shaped_function_works(ev: StrategyEvaluation) -> float:
    if ev.stage in (Outcome.NO_FUNCTION, Outcome.SYNTAX_ERROR):
        return -1.0
    if not ev.built:
        return -0.5
    return 0.5 if ev.reads_board else 0.0  # a placeholder that ignores the board earns nothing


def shaped_no_cheating(ev: StrategyEvaluation) -> float:
    return -2.0 if ev.stage is Outcome.IMPORT_VIOLATION else 0.0


def shaped_strategy_score(ev: StrategyEvaluation, progress_weight: float = 0.2,
                          broken_penalty: float = 0.5) -> float:  # fmt: skip
    """Success rate plus a small progress term, minus a penalty per broken game (see module doc)."""
    if not ev.built or not ev.games:
        return 0.0
    n = len(ev.games)
    success = sum(g.success for g in ev.games) / n
    progress = sum(g.progress for g in ev.games if g.outcome in PROGRESS_OUTCOMES) / n
    broken = sum(g.outcome not in PROGRESS_OUTCOMES for g in ev.games) / n
    return success + progress_weight * progress - broken_penalty * broken


# ---- seeds --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedPlan:
    """Which seeds each completion of a batch plays.

    ``scope="group"``: each row's ``game_seed`` starts a window of ``per_completion`` seeds of
    ``pool`` (all completions of a GRPO group share the row). ``scope="batch"``: the whole call
    shares the first completion's seeds (the notebook's one seed per call).
    """

    pool: SeedSet
    per_completion: int = 1
    scope: str = "group"
    base_seed: int = 0

    def __post_init__(self) -> None:
        if self.scope not in ("group", "batch"):
            raise ValueError(f"scope must be 'group' or 'batch', got {self.scope!r}")
        if self.per_completion < 1:
            raise ValueError(f"per_completion must be >= 1, got {self.per_completion}")

    def seeds_for(self, texts: Sequence[str], kwargs: dict[str, Any]) -> list[list[int]]:
        n = len(texts)
        starts = _row_seeds(kwargs.get("game_seed"), n)
        if starts is None:
            starts = [self._derived_start(texts, kwargs)] * n
        if self.scope == "batch":
            starts = [starts[0]] * n
        return [self._window(s) for s in starts]

    def _derived_start(self, texts: Sequence[str], kwargs: dict[str, Any]) -> int:
        step = getattr(kwargs.get("trainer_state"), "global_step", None)
        key = f"{self.base_seed}:{step}" if step is not None else f"{self.base_seed}:" + "\x00".join(texts)
        index = int.from_bytes(hashlib.blake2b(key.encode("utf-8", "replace"), digest_size=8).digest())
        return self.pool[index % len(self.pool)]

    def _window(self, start: int) -> list[int]:
        if start in self.pool:
            return self.pool.window(start, self.per_completion)
        return [(start + j) % 2**32 for j in range(self.per_completion)]


def _row_seeds(column: object, n: int) -> list[int] | None:
    if not isinstance(column, Sequence) or len(column) != n:
        return None
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and 0 <= s < 2**32 for s in column):
        return None
    return [int(s) for s in column]


# ---- TRL callables ------------------------------------------------------------------------
class StrategyReward:
    """One TRL reward function: ``f(completions, **kwargs) -> list[float]``, named ``__name__``.

    Owns (a share of) a lazily started sandbox pool; ``close()`` stops it.
    """

    def __init__(self, name: str, score: Callable[[StrategyEvaluation], float],
                 evaluator: StrategyEvaluator, seeds: SeedPlan,
                 reports_outcomes: bool = False) -> None:  # fmt: skip
        self.__name__ = name
        self.score = score
        self.evaluator = evaluator
        self.seeds = seeds
        # The functions of a preset share one evaluator; one of them reports its counts, so a
        # step log that sums over reward functions counts each completion once.
        self.reports_outcomes = reports_outcomes

    def backend_summary(self) -> dict[str, Any] | None:
        """Where the preset's games were played (see ``StrategyEvaluator.backend_summary``);
        reported by the same one function as the outcome counts."""
        return self.evaluator.backend_summary() if self.reports_outcomes else None

    def outcome_counts(self) -> dict[str, int] | None:
        """Cumulative outcome classes of the completions evaluated so far (step-log hook)."""
        return dict(self.evaluator.outcome_counts) if self.reports_outcomes else None

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        evaluations = self.evaluate(completions, **kwargs)
        return [float(self.score(ev)) for ev in evaluations]

    def evaluate(self, completions: Sequence[Any], **kwargs: Any) -> list[StrategyEvaluation]:
        texts = completion_texts(completions)
        return self.evaluator.evaluate(texts, self.seeds.seeds_for(texts, kwargs))

    def close(self) -> None:
        self.evaluator.close()

    def __repr__(self) -> str:
        return f"StrategyReward({self.__name__!r})"


def notebook_rewards(game: StrategyGame, time_limit_s: float = 5.0, workers: int = 2,
                     seed_pool: SeedSet | None = None, base_seed: int = 0,
                     backend: str | Any = "local", ray_address: str | None = None,
                     ray_num_cpus: int | None = None, **play: Any) -> list[StrategyReward]:  # fmt: skip
    """function_works, no_cheating, strategy_succeeds with the gpt-oss notebook's values.
    ``backend``, ``ray_address``, ``ray_num_cpus``: where the games are played (module doc)."""
    settings = PlaySettings(time_limit_s=time_limit_s, extraction="notebook", **play)
    plan = SeedPlan(seed_pool or builtin_seed_set("train"), 1, "batch", base_seed)
    evaluator = StrategyEvaluator(game, settings, workers=workers, backend=backend,
                                  ray_address=ray_address, ray_num_cpus=ray_num_cpus)  # fmt: skip
    return [
        StrategyReward("function_works", notebook_function_works, evaluator, plan, True),
        StrategyReward("no_cheating", notebook_no_cheating, evaluator, plan),
        StrategyReward("strategy_succeeds", notebook_strategy_succeeds, evaluator, plan),
    ]


def shaped_rewards(game: StrategyGame, seeds_per_group: int = 4, progress_weight: float = 0.2,
                   broken_penalty: float = 0.5, time_limit_s: float = 1.0, workers: int = 2,
                   seed_pool: SeedSet | None = None, base_seed: int = 0,
                   backend: str | Any = "local", ray_address: str | None = None,
                   ray_num_cpus: int | None = None, **play: Any) -> list[StrategyReward]:  # fmt: skip
    """function_works, no_cheating, strategy_succeeds with the shaped values (module doc).

    ``time_limit_s`` is per game. A reference strategy plays a 4x4 game to 256 in about
    0.05 s on one CPU core, so 1 s leaves 20x headroom, while a non-terminating completion
    holds the GRPO step (and the GPU) for at most that long (the playbook's "shorter
    execution window" for environment timeouts).
    """
    if progress_weight < 0 or broken_penalty < 0:
        raise ValueError("progress_weight and broken_penalty must be >= 0")
    settings = PlaySettings(time_limit_s=time_limit_s, **play)
    plan = SeedPlan(seed_pool or builtin_seed_set("train"), seeds_per_group, "group", base_seed)
    evaluator = StrategyEvaluator(game, settings, workers=workers, backend=backend,
                                  ray_address=ray_address, ray_num_cpus=ray_num_cpus)  # fmt: skip

    def strategy_score(ev: StrategyEvaluation) -> float:
        return shaped_strategy_score(ev, progress_weight, broken_penalty)

    return [
        StrategyReward("function_works", shaped_function_works, evaluator, plan, True),
        StrategyReward("no_cheating", shaped_no_cheating, evaluator, plan),
        StrategyReward("strategy_succeeds", strategy_score, evaluator, plan),
    ]


def close_rewards(functions: Sequence[Any]) -> None:
    """Close every reward function that owns resources (safe to call twice)."""
    for fn in functions:
        close = getattr(fn, "close", None)
        if callable(close):
            close()
