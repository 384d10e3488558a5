"""2048 speed against peers, measured side by side in one run; prints one table.

Rows, each measured the same way for us and the peer:

* single env steps/s through ``gymnasium.make`` (both get the Gymnasium wrappers), uniformly
  random actions drawn before timing (an action that changes nothing is a step too, in both);
* vector env steps/s (boards x steps) at B = 1, 1024, 16384 against ``pgx`` 2048 (CPU jax, jit
  + vmap, auto-reset wrapper). pgx ends an episode on an illegal action, so both sides play
  uniformly random *legal* actions chosen from the current legal mask, and both include that
  choice in the timing (pgx inside its jitted step, ours as a small numba function);
* raw batched kernel moves/s (``BatchedBoards.step``: uniformly random moves drawn before
  timing, spawns and auto-resets included, no observation or mask output) for 4x4 and 6x6,
  on all numba threads and on one thread (the gap shows contention on a busy machine).

A peer that cannot be imported shows up as "not installed" instead of stopping the run.
The title carries the date, machine, numba threads and the load average before and after.
OMP_WAIT_POLICY defaults to PASSIVE here (see below); set it to ACTIVE to see numba's default.

    .venv/bin/python benchmarks/bench_2048.py [--seconds 1.5]
    NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/bench_2048.py   # single-thread run
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# numba's OpenMP pool spin-waits by default; on a shared machine the spinning thread burns
# the CPU its partner needs (measured here: 2 threads 5 M moves/s vs 16 M on one thread at
# load 7). Passive waiting costs nothing measurable at these kernel sizes. Must be set
# before numba starts its thread pool; an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

BATCH_SIZES = (1, 1024, 16384)
RAW_BATCH = 65536
SINGLE_ENV_TARGET = 10.0  # x gymnasium-2048
VECTOR_TARGET = 20.0  # x pgx, at B >= 1024
RAW_TARGETS = {4: 50e6, 6: 10e6}  # moves/s


@dataclass
class Row:
    measurement: str
    ours: float
    peer_name: str = "-"
    peer: float | None = None
    target: str = "-"
    met: bool | None = None


def rate(run_chunk: Callable[[], int], seconds: float) -> float:
    """Items per second over repeated chunks lasting at least ``seconds`` (after one warm-up)."""
    run_chunk()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += run_chunk()
    return done / (time.perf_counter() - start)


# ---------------------------------------------------------------- single env


def single_env_chunk(env_id: str, steps: int = 500, **kwargs) -> Callable[[], int]:
    import gymnasium as gym

    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    actions = [int(a) for a in np.random.default_rng(0).integers(0, 4, steps)]

    def chunk() -> int:
        for a in actions:
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()
        return steps

    return chunk


def ours_single(seconds: float) -> float:
    import strategy_gym.envs  # noqa: F401  (registers strategy_gym/Game2048-v0)

    return rate(single_env_chunk("strategy_gym/Game2048-v0", size=4), seconds)


def peer_single(seconds: float) -> float | None:
    try:
        import gymnasium_2048  # noqa: F401  (registers gymnasium_2048/TwentyFortyEight-v0)
    except ImportError:
        return None
    return rate(single_env_chunk("gymnasium_2048/TwentyFortyEight-v0"), seconds)


# ---------------------------------------------------------------- vector env


def _legal_choice_table() -> np.ndarray:
    """Row m (a 4-bit legal mask): [number of legal actions, 1st, 2nd, 3rd, 4th legal action]."""
    table = np.zeros((16, 5), dtype=np.int64)
    for m in range(16):
        legal = [a for a in range(4) if m >> a & 1]
        table[m, 0] = len(legal)
        table[m, 1:1 + len(legal)] = legal
    return table


LEGAL_CHOICES = _legal_choice_table()


@njit(cache=True)
def random_legal_actions(masks: np.ndarray, rng: np.ndarray, out: np.ndarray,
                         choices: np.ndarray) -> None:
    """Uniform choice among each board's legal actions (xorshift64*); 0 when none is legal."""
    s = rng[0]
    for i in range(masks.shape[0]):
        s ^= s >> np.uint64(12)
        s ^= s << np.uint64(25)
        s ^= s >> np.uint64(27)
        high = (s * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(32)
        m = (masks[i, 0] != 0) | ((masks[i, 1] != 0) << 1) | ((masks[i, 2] != 0) << 2) | (
            (masks[i, 3] != 0) << 3)
        pick = (high * np.uint64(choices[m, 0])) >> np.uint64(32)
        out[i] = choices[m, 1 + np.int64(pick)]
    rng[0] = s


def ours_vector(batch: int, seconds: float) -> float:
    from strategy_gym.envs.game2048 import Game2048VectorEnv

    env = Game2048VectorEnv(num_envs=batch, size=4)
    _, infos = env.reset(seed=0)
    steps = max(1, 20_000 // batch)
    rng = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)
    actions = np.zeros(batch, dtype=np.int64)

    def chunk() -> int:
        nonlocal infos
        for _ in range(steps):
            random_legal_actions(infos["action_mask"], rng, actions, LEGAL_CHOICES)
            infos = env.step(actions)[4]
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


# ---------------------------------------------------------------- raw kernel


def raw_moves(size: int, seconds: float, one_thread: bool) -> tuple[float, float]:
    """(moves/s, share of moves that changed the board and so spawned a tile)."""
    from strategy_gym.envs.game2048 import BatchedBoards

    boards = BatchedBoards(np.arange(RAW_BATCH), size, autoreset=True)
    if one_thread:
        boards.parallel_min_batch = RAW_BATCH + 1
    actions = np.random.default_rng(0).integers(0, 4, (16, RAW_BATCH)).astype(np.int8)
    changed = [0, 0]

    def chunk() -> int:
        for a in actions:
            res = boards.step(a, want_masks=False, want_boards=False)
        changed[0] += int(res.changed.sum())  # one sample step per chunk
        changed[1] += RAW_BATCH
        return actions.size

    return rate(chunk, seconds), changed[0] / changed[1]


# ---------------------------------------------------------------- table


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    import numba

    return (f"{cpu}, {os.cpu_count()} cores, numba threads {numba.get_num_threads()} "
            f"({numba.threading_layer()} layer, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']})")


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def fmt(value: float | None) -> str:
    return "not installed" if value is None else f"{value:,.0f}"


def ratio(row: Row) -> str:
    return "-" if row.peer is None else f"{row.ours / row.peer:,.1f}x"


def met(row: Row) -> str:
    return "-" if row.met is None else ("yes" if row.met else "NO")


def measure(secs: float) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("benchmarking 2048", total=6 + 2 * len(BATCH_SIZES))
        ours = ours_single(secs)
        progress.advance(task)
        peer = peer_single(secs)
        progress.advance(task)
        rows.append(Row("single env steps/s (4x4, gymnasium.make, random actions)", ours,
                        "gymnasium-2048", peer, f">= {SINGLE_ENV_TARGET:.0f}x",
                        None if peer is None else ours / peer >= SINGLE_ENV_TARGET))
        for batch in BATCH_SIZES:
            ours = ours_vector(batch, secs)
            progress.advance(task)
            peer = peer_vector(batch, secs)
            progress.advance(task)
            has_target = batch >= 1024 and peer is not None
            rows.append(Row(f"vector env steps/s (4x4, B={batch}, random legal actions)", ours,
                            "pgx", peer, f">= {VECTOR_TARGET:.0f}x" if batch >= 1024 else "-",
                            ours / peer >= VECTOR_TARGET if has_target else None))
        for size in (4, 6):
            for one_thread in (False, True):
                ours, spawned = raw_moves(size, secs, one_thread)
                progress.advance(task)
                threads = "1 thread" if one_thread else "all threads"
                target = RAW_TARGETS[size]
                rows.append(Row(f"raw kernel moves/s ({size}x{size}, B={RAW_BATCH}, {threads})",
                                ours, target=f">= {target / 1e6:.0f} M/s (2 cores)",
                                met=None if one_thread else ours >= target))
                if not one_thread:
                    notes.append(f"{size}x{size}: {spawned:.0%} of random moves spawned")
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    args = parser.parse_args()
    load_before = load()
    rows, notes = measure(args.seconds)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    table = Table(
        title=f"2048 benchmark, {stamp}, {machine()}, load average {load_before} before, "
              f"{load()} after (1/5/15 min)",
        caption="; ".join(notes),
    )
    for column in ("measurement", "strategy-gym", "peer", "peer value", "ratio", "target",
                   "met"):
        table.add_column(column, justify="left" if column in ("measurement", "peer") else "right")
    for row in rows:
        table.add_row(row.measurement, fmt(row.ours), row.peer_name,
                      "-" if row.peer_name == "-" else fmt(row.peer), ratio(row), row.target,
                      met(row))
    Console(width=170).print(table)


if __name__ == "__main__":
    main()
