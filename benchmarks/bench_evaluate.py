"""Evaluator throughput: the corner strategy on 10,000 seeds through the evaluator (sandboxed
game master, 2 workers) against a plain in-process loop over the same games (the peer: no
sandbox, no isolation, the strategy called directly). One table, seeds/s and the ratio.

    .venv/bin/python benchmarks/bench_evaluate.py [--seeds 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time

from rich.console import Console
from rich.table import Table

from strategy_gym.agents.evaluation import EvalSettings, resolve_targets, run_evaluation
from strategy_gym.agents.evaluation.tasks import load_task
from strategy_gym.envs.game2048 import new_game
from strategy_gym.envs.seeds import parse_seed_spec


def in_process(source: str, seeds: list[int], env: dict, stall_limit: int = 50) -> tuple[int, float]:
    """The peer: exec the strategy here and play every game in a bare loop. Successes, seconds."""
    namespace: dict = {}
    exec(compile(source, "corner.py", "exec"), namespace)  # trusted reference code only
    strategy = namespace["strategy"]
    cap = env["size"] * env["size"] * env["target"] // 2
    start, wins = time.perf_counter(), 0
    for seed in seeds:
        game = new_game(env["size"], env["target"], env["p_four"], seed)
        moves = idle = 0
        while game.status == "ongoing" and moves < cap and idle < stall_limit:
            changed, _ = game.step(strategy(game.board_values()))
            moves, idle = moves + 1, 0 if changed else idle + 1
        wins += game.status == "success"
    return wins, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    task = load_task("2048")
    seed_set = parse_seed_spec(f"0:{args.seeds}")
    candidates = resolve_targets(["corner"], task)
    start = time.perf_counter()
    run = run_evaluation(task, candidates, seed_set, settings=EvalSettings(workers=args.workers, replays=False))
    evaluator_s = time.perf_counter() - start
    evaluator_wins = run.units["corner"][0].successes
    peer_wins, peer_s = in_process(candidates[0].texts[0], list(seed_set), task.env_kwargs)
    table = Table(title=f"corner on {args.seeds:,} seeds, 2048 {task.env_kwargs} "
                        f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    for column in ("path", "workers", "successes", "wall s", "seeds/s", "vs in-process"):
        table.add_column(column, justify="right")
    for name, workers, wins, seconds in (("evaluator (sandbox)", args.workers, evaluator_wins, evaluator_s),
                                         ("plain in-process loop", 1, peer_wins, peer_s)):
        table.add_row(name, str(workers), f"{wins:,}", f"{seconds:.1f}",
                      f"{args.seeds / seconds:,.0f}", f"{peer_s / seconds:.2f}x")
    Console().print(table)
    if evaluator_wins != peer_wins:
        Console().print(f"[yellow]note: success counts differ ({evaluator_wins} vs {peer_wins})")


if __name__ == "__main__":
    main()
