"""Reference agents on the ``eval`` seed set, 4x4 and 6x6 to 2048: one table.

    .venv/bin/python benchmarks/bench_agents.py [--seeds4 100] [--seeds6 40]

Random, corner and greedy are plain strategy sources run through the sandbox (the path model
code takes); expectimax is the numba search on the raw kernels (parallel over seeds). Every
game is replayed on the trusted side. Speed is moves per second of wall time for the whole
agent (2 sandbox workers for the sources, numba threads for expectimax), with the ratio to the
sandboxed greedy agent measured in the same run.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from strategy_gym.agents.evaluate import Candidate, evaluate_candidate, load_candidates
from strategy_gym.agents.expectimax import play_games
from strategy_gym.agents.playout import PlayConfig, StrategyEvaluator
from strategy_gym.agents.report import summarize
from strategy_gym.envs.seeds import builtin_seed_set


def measure(candidate: Candidate, seeds: list[int], config: PlayConfig, workers: int) -> dict:
    with StrategyEvaluator(config, workers=workers) as evaluator:
        evaluator.evaluate(["def strategy(board):\n    return 'W'\n"], [seeds[:1]], raw_code=True)
        start = time.perf_counter()  # the pool is warm; time only the games
        result = evaluate_candidate(candidate, seeds, config, evaluator)
        wall = time.perf_counter() - start
    summary = summarize(result.records())
    moves = sum(g["moves"] for g in result.games)
    return {**summary, "moves_per_s": moves / wall, "wall_s": wall}


def bench_board(size: int, n_seeds: int, depth: int, workers: int, table: Table) -> None:
    seeds = list(builtin_seed_set("eval").first(n_seeds))
    config = PlayConfig(size=size, target=2048, time_limit_s=60.0)
    play_games(seeds[:1], size, 2048, depth=depth, max_moves=5)  # load the compiled search
    rows = {}
    for candidate in load_candidates(["random", "corner", "greedy", f"expectimax:{depth}"]):
        rows[candidate.name] = measure(candidate, seeds, config, workers)
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
