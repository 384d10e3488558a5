"""2048 speed against peers, measured side by side in one run; prints one table.

Rows: our single env through the Gymnasium API vs ``gymnasium-2048``; our vector env vs
``pgx`` 2048 (CPU jax, jit + vmap, auto-reset wrapper, random legal actions) at B = 1, 1024,
16384; our raw batched kernel (``BatchedBoards.step``, random moves, spawns and auto-resets
included, no observation copies) in moves/s for 4x4 and 6x6. A peer that cannot be imported
shows up as "not installed" instead of stopping the run.

    .venv/bin/python benchmarks/bench_2048.py [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

os.environ.setdefault("JAX_PLATFORMS", "cpu")

BATCH_SIZES = (1, 1024, 16384)


def rate(run_chunk: Callable[[], int], seconds: float) -> float:
    """Items per second over repeated chunks lasting at least ``seconds`` (after one warm-up)."""
    run_chunk()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += run_chunk()
    return done / (time.perf_counter() - start)


def single_env_chunk(env_id: str, steps: int = 500, **kwargs) -> Callable[[], int]:
    import gymnasium as gym

    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 4, steps)

    def chunk() -> int:
        for a in actions:
            _, _, terminated, truncated, _ = env.step(int(a))
            if terminated or truncated:
                env.reset()
        return steps

    return chunk


def ours_single(seconds: float) -> float:
    import envs  # noqa: F401  (registers strategy_gym/Game2048-v0)

    return rate(single_env_chunk("strategy_gym/Game2048-v0", size=4), seconds)


def peer_single(seconds: float) -> float | None:
    try:
        import gymnasium_2048  # noqa: F401  (registers gymnasium_2048/TwentyFortyEight-v0)
    except ImportError:
        return None
    return rate(single_env_chunk("gymnasium_2048/TwentyFortyEight-v0", steps=200), seconds)


def ours_vector(batch: int, seconds: float) -> float:
    from envs.game2048 import Game2048VectorEnv

    env = Game2048VectorEnv(num_envs=batch, size=4)
    env.reset(seed=0)
    steps = max(1, 20_000 // batch)
    actions = np.random.default_rng(0).integers(0, 4, (steps, batch))

    def chunk() -> int:
        for a in actions:
            env.step(a)
        return steps * batch

    return rate(chunk, seconds)


def peer_vector(batch: int, seconds: float) -> float | None:
    try:
        import jax
        import jax.numpy as jnp
        import pgx
        from pgx.experimental import auto_reset
    except ImportError:
        return None
    env = pgx.make("2048")
    step_one = auto_reset(env.step, env.init)

    @jax.jit
    def step(state, key):
        k_act, k_env = jax.random.split(key)
        logits = jnp.where(state.legal_action_mask, 0.0, -1e9)
        action = jax.random.categorical(k_act, logits, axis=-1)
        return jax.vmap(step_one)(state, action, jax.random.split(k_env, batch))

    state = jax.jit(jax.vmap(env.init))(jax.random.split(jax.random.PRNGKey(0), batch))
    key = jax.random.PRNGKey(1)
    steps = max(1, 20_000 // batch)

    def chunk() -> int:
        nonlocal state, key
        for _ in range(steps):
            key, sub = jax.random.split(key)
            state = step(state, sub)
        state.observation.block_until_ready()
        return steps * batch

    return rate(chunk, seconds)


def raw_moves(size: int, seconds: float, batch: int = 65536) -> float:
    from envs.game2048 import BatchedBoards

    boards = BatchedBoards(np.arange(batch), size, autoreset=True)
    actions = np.random.default_rng(0).integers(0, 4, (16, batch)).astype(np.int8)

    def chunk() -> int:
        for a in actions:
            boards.step(a, want_masks=False, want_boards=False)
        return actions.size

    return rate(chunk, seconds)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    import numba

    return f"{cpu}, {os.cpu_count()} cores, numba threads {numba.get_num_threads()}"


def fmt(value: float | None) -> str:
    return "not installed" if value is None else f"{value:,.0f}"


def ratio(ours: float, peer: float | None) -> str:
    return "n/a" if peer is None else f"{ours / peer:,.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    args = parser.parse_args()
    secs = args.seconds
    rows: list[tuple[str, str, str, str]] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("benchmarking 2048", total=4 + 2 * len(BATCH_SIZES))
        ours, peer = ours_single(secs), None
        progress.advance(task)
        peer = peer_single(secs)
        progress.advance(task)
        rows.append(("single env steps/s (4x4, Gymnasium API)", fmt(ours),
                     f"gymnasium-2048: {fmt(peer)}", ratio(ours, peer)))
        for batch in BATCH_SIZES:
            ours = ours_vector(batch, secs)
            progress.advance(task)
            peer = peer_vector(batch, secs)
            progress.advance(task)
            rows.append((f"vector env steps/s (4x4, B={batch})", fmt(ours),
                         f"pgx: {fmt(peer)}", ratio(ours, peer)))
        for size in (4, 6):
            ours = raw_moves(size, secs)
            progress.advance(task)
            rows.append((f"raw kernel moves/s ({size}x{size}, B=65536)", fmt(ours), "-", "-"))
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    table = Table(title=f"2048 benchmark, {stamp}, {machine()}")
    for column in ("measurement", "strategy-gym", "peer", "ratio"):
        table.add_column(column, justify="left" if column in ("measurement", "peer") else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
