"""Games/s of the same 2048 evaluation through the local sandbox pool and through Ray actors.

    .venv/bin/python benchmarks/bench_ray.py [--workers 2] [--seeds 32] [--strategies 4]

Local: one StrategyEvaluator with ``workers`` sandbox workers. Ray: a local Ray with
``workers`` CPUs and ``workers`` actors of one sandbox worker each (the same sandbox count),
started before the clock runs. Both print one row; ``ratio`` is Ray's games/s over the local
pool's (the overhead on one machine). Needs the ``ray`` extra.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from strategy_gym.play import PlaySettings, StrategyEvaluator
from strategy_gym.tasks.game2048 import strategy_game

ROOT = Path(__file__).resolve().parent.parent
CORNER = (ROOT / "agents" / "strategies" / "corner.py").read_text()
RANDOM = "def strategy(board):\n    import random\n    return random.choice('WASD')\n"


def timed(evaluator: StrategyEvaluator, texts: list[str], seeds: list[list[int]]) -> tuple[float, list]:
    start = time.perf_counter()
    out = evaluator.evaluate(texts, seeds, raw_code=True)
    return time.perf_counter() - start, out


def main() -> None:
    import ray

    from strategy_gym.play.ray_backend import RayBackend

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--strategies", type=int, default=4)
    parser.add_argument("--seeds-per-session", type=int, default=8)
    args = parser.parse_args()
    game = strategy_game(4, 256)
    settings = PlaySettings(seeds_per_session=args.seeds_per_session)
    # distinct texts (a comment each) so nothing is served from the cache
    texts = [(CORNER if i % 2 == 0 else RANDOM) + f"# {i}\n" for i in range(args.strategies)]
    seeds = [list(range(1000, 1000 + args.seeds))] * len(texts)
    games = len(texts) * args.seeds
    rows = []
    with StrategyEvaluator(game, settings, workers=args.workers) as local:
        local.evaluate([RANDOM], [[1]], raw_code=True)  # warm the pool
        seconds, here = timed(local, texts, seeds)
        rows.append(("local pool", args.workers, seconds, games / seconds))
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    try:
        backend = RayBackend(game, settings, actors=args.workers)
        with StrategyEvaluator(game, settings, backend=backend) as remote:
            backend.where()  # actors up, pools started
            remote.evaluate([RANDOM], [[1]], raw_code=True)
            seconds, there = timed(remote, texts, seeds)
            rows.append((f"ray ({args.workers} actors)", args.workers, seconds, games / seconds))
    finally:
        ray.shutdown()
    assert there == here, "Ray and the local pool disagree"
    base = rows[0][3]
    print(f"{games} games ({len(texts)} strategies x {args.seeds} seeds, "
          f"{args.seeds_per_session} seeds/session), 2048 4x4 to 256")  # fmt: skip
    print(f"{'backend':<18}{'sandboxes':>10}{'seconds':>10}{'games/s':>10}{'ratio':>8}")
    for name, sandboxes, seconds, rate in rows:
        print(f"{name:<18}{sandboxes:>10}{seconds:>10.2f}{rate:>10.1f}{rate / base:>8.2f}")


if __name__ == "__main__":
    main()
