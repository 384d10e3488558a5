"""The jailed child: one per call, pre-forked by the worker while it is idle.

It waits (still trusted, no model code yet) for one job, locks itself down, runs the model's
code through the runner and writes one JSON frame. Every failure becomes an outcome.
"""

from __future__ import annotations

import json
import marshal
import os
import random
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox import limits, protocol, restricted
from sandbox.errors import InvalidAction
from sandbox.plain import NotPlainData, to_plain

ENVELOPE_BYTES = 4096  # room for outcome and message around the value


def body(outcome: str, message: str = "", value: Any = None) -> bytes:
    return json.dumps({"outcome": outcome, "message": message, "value": value}).encode()


_EMPTY_OK_BYTES = len(body("ok", "", None)) - len("null")


def describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # a hostile value can make str() fail
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


@dataclass(frozen=True)
class Prepared:
    """What the worker prepared before forking: imported runners and module proxies."""

    runners: dict[str, Callable[..., Any]]
    proxies: dict[frozenset[str], dict[str, types.SimpleNamespace]]
    cwd: str
    drop_to: tuple[int, int] | None
    warmup: types.CodeType | None = None  # our own snippet, run once before waiting


WARMUP_SOURCE = """
def warmup(board):
    best = max(range(4), key=lambda m: sum(row[m % 2] for row in board))
    total = 0
    for row in board:
        total += sum(row)
    return [best, total, sorted(set(board[0]))]
"""
_WARMUP_JOB = {"max_output": 1000, "memory_mb": 0, "rng_seed": 0, "entry": "warmup",
               "payload": {"args": [[[0, 2], [4, 8]]]}}  # fmt: skip


def _warm_up(prepared: Prepared) -> None:
    """Touch the pages a typical call touches, so copy-on-write faults happen while idle."""
    from sandbox.runners import call

    if prepared.warmup is not None and prepared.proxies:
        execute(_WARMUP_JOB, prepared.warmup, call, next(iter(prepared.proxies.values())))


def execute(job: dict, code: types.CodeType, runner: Callable[..., Any],
            proxies: dict[str, types.SimpleNamespace]) -> bytes:  # fmt: skip
    """Run the model's code and the runner; always returns a JSON body."""
    max_output = job["max_output"]
    printer = restricted.CappedPrint(max_output)
    memory_body = body("memory_limit", f"exceeded {job['memory_mb']} MB")
    random.seed(job["rng_seed"])  # None: OS entropy, never the game's seed
    namespace = restricted.restricted_globals(proxies, printer)
    try:
        exec(code, namespace)
        fn = namespace.get(job["entry"])
        if not isinstance(fn, types.FunctionType):
            return body("no_function", f"{job['entry']!r} is not defined as a function")
        result = body("ok", "", to_plain(runner(fn, job["payload"])))
    except InvalidAction as exc:
        result = body("invalid_action", describe(exc))
    except MemoryError:
        return memory_body  # prepared beforehand: no allocation needed here
    except RecursionError:
        result = body("runtime_error", "RecursionError: maximum recursion depth exceeded")
    except NotPlainData as exc:
        result = body("runtime_error", f"runner returned non-plain data: {exc}")
    except BaseException as exc:  # SystemExit, KeyboardInterrupt raised by the code too
        result = body("runtime_error", describe(exc))
    if printer.overflowed:
        return body("output_too_large", f"printed more than {max_output} bytes")
    value_bytes = len(result) - _EMPTY_OK_BYTES  # the value's own JSON size
    if value_bytes > max_output:
        return body("output_too_large", f"result of {value_bytes} bytes exceeds {max_output}")
    return result


def spare_main(prepared: Prepared, job_fd: int, result_fd: int, worker_pid: int) -> None:
    """Entry point of a pre-forked child. Never returns.

    Locks itself down while idle, then waits for one bundle of jobs from the worker (the same
    code on one or more payloads), limits CPU and memory, runs them in order and exits.
    """
    status = 0
    try:
        limits.die_with_parent(worker_pid)
        base_size = limits.address_space_bytes()
        try:
            limits.lock_down(prepared.cwd, prepared.drop_to, (job_fd, result_fd))
            failure = None
            _warm_up(prepared)
        except BaseException as exc:
            failure = body("crashed", f"sandbox setup failed: {describe(exc)}")
        jobs = json.loads(protocol.read_frame(job_fd))["jobs"]
        code = marshal.loads(protocol.read_frame(job_fd))  # written by the trusted worker
        if failure is not None:
            protocol.write_all(result_fd, protocol.encode_frame(failure))
            return
        first = jobs[0]  # a bundle shares code, runner and policy; payloads differ
        total_time = sum(job["time_limit"] for job in jobs)
        limits.limit_job(total_time, base_size + first["memory_mb"] * 2**20)
        runner = prepared.runners[first["runner"]]
        proxies = prepared.proxies[frozenset(first["imports"])]
        for job in jobs:  # each job execs the code into a fresh namespace
            protocol.write_all(result_fd, protocol.encode_frame(execute(job, code, runner, proxies)))
    except BaseException:
        status = 70
    finally:
        os._exit(status)
