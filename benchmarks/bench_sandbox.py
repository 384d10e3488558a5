"""Sandbox benchmark: one table comparing our warm pool with the unsafe in-process way.

Rows: per-call overhead (warm pool vs in-process exec vs a fresh subprocess per call),
a 64-seed corner-heuristic evaluation on 4x4 2048 (the trusted game master stepping every game,
the jailed child answering all 64 boards per round trip, vs exec and a plain loop in-process),
and timeout latency for a C-level hog (pool vs the notebook's SIGALRM).

Run: .venv/bin/python benchmarks/bench_sandbox.py [--calls 300] [--seeds 64]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.progress import Progress  # noqa: E402

from strategy_gym.sandbox import Job, SandboxPolicy, SandboxPool  # noqa: E402

TRIVIAL = "def solve(x):\n    return x + 1\n"
CORNER = '''
def slide(row):
    tiles = [t for t in row if t]
    out = []
    i = 0
    while i < len(tiles):
        if i + 1 < len(tiles) and tiles[i] == tiles[i + 1]:
            out.append(tiles[i] * 2)
            i += 2
        else:
            out.append(tiles[i])
            i += 1
    return out + [0] * (len(row) - len(out))

def moved(board, m):
    if m == "A":
        return [slide(r) for r in board]
    if m == "D":
        return [slide(r[::-1])[::-1] for r in board]
    cols = [list(c) for c in zip(*board)]
    if m == "W":
        return [list(r) for r in zip(*[slide(c) for c in cols])]
    return [list(r) for r in zip(*[slide(c[::-1])[::-1] for c in cols])]

def strategy(board):
    for m in "SADW":
        if moved(board, m) != board:
            return m
    return "S"
'''
GAME = {"size": 4, "target": 2048, "p_four": 0.1}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def pool_call_overhead(pool: SandboxPool, calls: int) -> list[float]:
    policy = SandboxPolicy(entry_point="solve", time_limit_s=2.0)
    times = []
    for i in range(calls):
        start = time.perf_counter()
        result = pool.run(Job(TRIVIAL, "strategy_gym.sandbox.runners:call", {"args": [i]}, policy))
        times.append(time.perf_counter() - start)
        assert result.ok and result.value == i + 1, result
    return times


def in_process_call_overhead(calls: int) -> list[float]:
    """The notebook's way: exec the source in this process, then call the function."""
    times = []
    for i in range(calls):
        start = time.perf_counter()
        namespace: dict[str, Any] = {}
        exec(compile(TRIVIAL, "<strategy>", "exec"), namespace)
        assert namespace["solve"](i) == i + 1
        times.append(time.perf_counter() - start)
    return times


def subprocess_call_overhead(calls: int) -> list[float]:
    program = TRIVIAL + "import sys\nprint(solve(int(sys.argv[1])))\n"
    times = []
    for i in range(calls):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", program, str(i)], capture_output=True)
        times.append(time.perf_counter() - start)
        assert done.stdout.strip() == str(i + 1).encode()
    return times


def pool_evaluation(seeds: int, repeats: int) -> tuple[float, float]:
    """Median seconds for the whole evaluation through the game master (warm pool), and the
    mean score. ``cache_size=1`` and a one-seed call between repeats: every repeat plays."""
    from strategy_gym.play import PlaySettings, StrategyEvaluator
    from strategy_gym.tasks.game2048 import strategy_game

    game = strategy_game(GAME["size"], GAME["target"], GAME["p_four"], max_moves=2000)
    times = []
    with StrategyEvaluator(game, PlaySettings(time_limit_s=30.0), workers=2, cache_size=1) as evaluator:
        for repeat in range(repeats):
            evaluator.evaluate([CORNER], [[10**6 + repeat]], raw_code=True)  # warm, and evict
            start = time.perf_counter()
            (ev,) = evaluator.evaluate([CORNER], [list(range(seeds))], raw_code=True)
            times.append(time.perf_counter() - start)
    assert ev.built and len(ev.games) == seeds, ev
    return statistics.median(times), statistics.mean(g.score for g in ev.games)


def in_process_evaluation(seeds: int, repeats: int) -> tuple[float, float]:
    """The unsafe way: exec the strategy here and step the same Gymnasium env in a plain loop
    (median of ``repeats``)."""
    from strategy_gym.tasks.game2048 import decode_move, strategy_game

    game = strategy_game(GAME["size"], GAME["target"], GAME["p_four"], max_moves=2000)
    namespace: dict[str, Any] = {}
    exec(compile(CORNER, "<strategy>", "exec"), namespace)
    env = game.make_env()
    env.reset(seed=0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scores = []
        for seed in range(seeds):
            obs, info = env.reset(seed=seed)
            done, steps, idle = False, 0, 0
            while not done and steps < game.max_moves and idle < game.stall_limit:
                action = decode_move(namespace["strategy"](game.view(obs, info)), info)
                obs, _, done, _, info = env.step(action)
                steps, idle = steps + 1, 0 if info["changed"] else idle + 1
            scores.append(info["score"])
        times.append(time.perf_counter() - start)
    return statistics.median(times), statistics.mean(scores)


HOGS = {"10**10**8": "10**10**8", "sum(range(10**12))": "sum(range(10**12))"}


def pool_timeout_latency(pool: SandboxPool, hog: str, limit: float, repeats: int) -> list[float]:
    policy = SandboxPolicy(entry_point="solve", time_limit_s=limit)
    elapsed = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = pool.run(Job(f"def solve():\n    return {hog}\n", "strategy_gym.sandbox.runners:call", {}, policy))
        elapsed.append(time.perf_counter() - start)
        assert result.outcome == "timeout", result
    return elapsed


def sigalrm_timeout_latency(hog: str, limit: float, cap: float) -> float:
    """The notebook's SIGALRM timer on the same hog, in a throwaway process killed at ``cap``."""
    program = (
        "import signal\n"
        "def stop(*_):\n    raise TimeoutError\n"
        f"signal.signal(signal.SIGALRM, stop)\nsignal.setitimer(signal.ITIMER_REAL, {limit})\n"
        f"x = {hog}\n"
    )
    start = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return float("inf")
    return time.perf_counter() - start


def _row(measure: str, ours: str, peer: str, ratio: str, target: str, met: str) -> str:
    return f"| {measure:<44} | {ours:>14} | {peer:>24} | {ratio:>8} | {target:<22} | {met:<4} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--limit", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5, help="evaluations per side (median)")
    args = parser.parse_args()
    rows = []
    with Progress() as progress:
        task = progress.add_task("sandbox benchmark", total=6)
        with SandboxPool(workers=2) as pool:  # a plain pool, as the math task uses it
            pool_call_overhead(pool, 20)  # warm caches
            pool_times = pool_call_overhead(pool, args.calls)
        exec_times = in_process_call_overhead(args.calls)
        sub_times = subprocess_call_overhead(max(10, args.calls // 10))
        progress.advance(task)
        inproc_s, inproc_score = in_process_evaluation(args.seeds, args.repeats)
        progress.advance(task)
        real_s, real_score = pool_evaluation(args.seeds, args.repeats)
        progress.advance(task)
        with SandboxPool(workers=2) as pool:
            timeouts = {h: pool_timeout_latency(pool, h, args.limit, 3) for h in HOGS}
            progress.advance(task)
            alarms = {h: sigalrm_timeout_latency(h, args.limit, cap=args.limit + 9.0) for h in HOGS}
            progress.advance(task)
            walls = pool.protections()
    p50, p99 = _percentiles(pool_times)
    e50, e99 = _percentiles(exec_times)
    s50, s99 = _percentiles(sub_times)
    assert real_score == inproc_score, (real_score, inproc_score)  # the same games
    ms = lambda x: f"{x * 1000:.2f} ms"  # noqa: E731
    rows.append(_row("per-call p50: pool vs in-process exec", ms(p50), ms(e50), f"{p50 / e50:.0f}x", "pool p50 <= 2 ms", "yes" if p50 <= 0.002 else "no"))
    rows.append(_row("per-call p99: pool vs in-process exec", ms(p99), ms(e99), f"{p99 / e99:.0f}x", "", ""))
    rows.append(_row("per-call p50: pool vs fresh subprocess", ms(p50), ms(s50), f"{p50 / s50:.3f}x", "", ""))
    rows.append(_row("per-call p99: pool vs fresh subprocess", ms(p99), ms(s99), f"{p99 / s99:.3f}x", "", ""))
    target = "<= 1.5x in-process"
    rows.append(_row(f"{args.seeds}-seed eval: game master + lockstep child vs in-process loop", f"{real_s:.2f} s", f"{inproc_s:.2f} s in-process", f"{real_s / inproc_s:.2f}x", target, "yes" if real_s <= 1.5 * inproc_s else "no"))
    for hog in HOGS:
        worst, alarm = max(timeouts[hog]), alarms[hog]
        alarm_text = "none in 10 s (killed)" if alarm == float("inf") else f"{alarm:.2f} s"
        met = "yes" if worst <= args.limit + 0.5 else "no"
        measure = f"timeout {hog}, limit {args.limit:.1f} s (worst of 3)"
        rows.append(_row(measure, f"{worst:.3f} s", f"SIGALRM: {alarm_text}", "", "<= limit + 0.5 s", met))
    header = _row("measure", "ours", "peer (same run)", "ratio", "target", "met")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])  # the numbers depend on it
    print(f"\nsandbox benchmark: 2 workers, load average {load}, mean 2048 score {real_score:.0f} on {args.seeds} seeds; "
          f"protections: {', '.join(k for k, v in walls.items() if v is True)}")  # fmt: skip
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
