"""Reference agents on the ``eval`` seed set, 4x4 and 6x6 to 2048: one table.

    .venv/bin/python benchmarks/bench_agents.py [--seeds4 100] [--seeds6 40]

Random, corner and greedy are plain strategy sources played by the trusted game master through
the sandbox (the path model code takes); expectimax is the numba search on the raw kernels
(parallel over seeds). Speed is moves per second of wall time for the whole agent (2 sandbox
workers for the sources, numba threads for expectimax), with the ratio to the sandboxed greedy
agent measured in the same run.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from strategy_gym.agents.expectimax import play_games
from strategy_gym.agents.report import summarize
from strategy_gym.envs.seeds import builtin_seed_set
from strategy_gym.play import PlaySettings, StrategyEvaluator
from strategy_gym.tasks.game2048 import strategy_game

STRATEGIES = Path(__file__).resolve().parent.parent / "agents" / "strategies"
SOURCES = {"random": "random_moves.py", "corner": "corner.py", "greedy": "greedy.py"}


@dataclass(frozen=True)
class _SearchGame:
    """An expectimax game in the fields ``summarize`` reads."""

    success: bool
    score: int
    moves: int
    max_tile: int
    outcome: str


def measure_source(source: str, seeds: list[int], size: int, workers: int) -> dict:
    game = strategy_game(size, 2048)
    with StrategyEvaluator(game, PlaySettings(time_limit_s=60.0), workers=workers) as evaluator:
        evaluator.evaluate([source], [seeds[:1]], raw_code=True)  # start the workers
        start = time.perf_counter()  # the pool is warm; time only the games
        (ev,) = evaluator.evaluate([source], [seeds], raw_code=True)
        wall = time.perf_counter() - start
    return {**summarize(ev.games), "moves_per_s": sum(g.moves for g in ev.games) / wall, "wall_s": wall}


def measure_expectimax(seeds: list[int], size: int, depth: int) -> dict:
    start = time.perf_counter()
    played = play_games(seeds, size, 2048, depth=depth, max_moves=size * size * 1024)
    wall = time.perf_counter() - start
    games = [_SearchGame(g.status == "success", g.score, g.moves, g.max_tile,
                         {"success": "success", "failed": "game_over"}.get(g.status, "max_moves"))
             for g in played]  # fmt: skip
    return {**summarize(games), "moves_per_s": sum(g.moves for g in games) / wall, "wall_s": wall}


def bench_board(size: int, n_seeds: int, depth: int, workers: int, table: Table) -> None:
    seeds = list(builtin_seed_set("eval").first(n_seeds))
    play_games(seeds[:1], size, 2048, depth=depth, max_moves=5)  # load the compiled search
    rows = {name: measure_source((STRATEGIES / file).read_text(), seeds, size, workers)
            for name, file in SOURCES.items()}  # fmt: skip
    rows[f"expectimax (depth {depth})"] = measure_expectimax(seeds, size, depth)
    peer = rows["greedy"]["moves_per_s"]
    for name, row in rows.items():
        low, high = row["wilson95"]
        table.add_row(
            f"{size}x{size}", name, str(row["games"]), f"{row['success_rate']:.1%}",
            f"[{low:.1%}, {high:.1%}]", f"{row['mean_score']:.0f}", str(max(map(int, row["best_tiles"]))),
            f"{row['moves_per_s']:,.0f}", f"{row['moves_per_s'] / peer:.2f}x", f"{row['wall_s']:.1f}",
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds4", type=int, default=100)
    parser.add_argument("--seeds6", type=int, default=40)
    parser.add_argument("--depth4", type=int, default=2, help="expectimax depth on 4x4")
    parser.add_argument("--depth6", type=int, default=1, help="expectimax depth on 6x6")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    table = Table(title="Reference agents on eval@v1, target 2048 (success = reached 2048)")
    for column in ("board", "agent", "seeds", "success", "Wilson 95%", "mean score", "best tile",
                   "moves/s", "vs greedy", "wall s"):  # fmt: skip
        table.add_column(column, justify="right" if column not in ("board", "agent") else "left")
    bench_board(4, args.seeds4, args.depth4, args.workers, table)
    bench_board(6, args.seeds6, args.depth6, args.workers, table)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
