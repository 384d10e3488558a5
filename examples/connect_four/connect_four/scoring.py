"""Run strategies in the sandbox and judge each game by trusted replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strategy_gym.sandbox import Job, SandboxPolicy, SandboxPool, SandboxResult

from connect_four.game import replay

RUNNER = "connect_four.runner:play"
POLICY = SandboxPolicy(entry_point="strategy", time_limit_s=2.0, memory_limit_mb=256)
GAME_STATUSES = ("win", "loss", "draw", "illegal", "incomplete")


@dataclass(frozen=True)
class GameOutcome:
    """``status`` is a game status (see GAME_STATUSES) or a sandbox outcome (timeout, ...)."""

    seed: int
    status: str
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("win", "loss", "draw")


def play_games(
    pool: SandboxPool, codes: Sequence[str | None], seeds: Sequence[Sequence[int]]
) -> list[list[GameOutcome]]:
    """Play ``codes[i]`` on every seed in ``seeds[i]`` in one batch; None code plays nothing."""
    jobs = [(i, seed) for i, code in enumerate(codes) if code is not None for seed in seeds[i]]
    batch = [Job(codes[i], RUNNER, {"seed": seed}, POLICY, rng_seed=seed) for i, seed in jobs]
    games: list[list[GameOutcome]] = [[] for _ in codes]
    for (i, seed), result in zip(jobs, pool.run_batch(batch), strict=True):
        games[i].append(judge(seed, result))
    return games


def judge(seed: int, result: SandboxResult) -> GameOutcome:
    """The trusted verdict: replay the columns the strategy chose; ignore anything else it said."""
    if not result.ok:
        return GameOutcome(seed, str(result.outcome), result.message)
    columns = result.value.get("columns") if isinstance(result.value, dict) else None
    if not isinstance(columns, list):
        return GameOutcome(seed, "crashed", f"runner returned {result.value!r:.80}")
    return GameOutcome(seed, replay(columns, seed).status)
