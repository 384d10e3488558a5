"""The jailed child: one per call, pre-forked by the worker and handed to the pool.

It locks itself down (still trusted, no model code yet) and waits for its job from the pool,
runs the model's code through the runner and writes one JSON frame per job straight back to
the pool. Every failure becomes an outcome.
"""

from __future__ import annotations

import json
import marshal
import os
import random
import select
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strategy_gym.sandbox import limits, protocol, restricted
from strategy_gym.sandbox.errors import InvalidAction, describe
from strategy_gym.sandbox.plain import NotPlainData, to_plain

ENVELOPE_BYTES = 4096  # room for outcome and message around the value


def body(outcome: str, message: str = "", value: Any = None) -> bytes:
    return json.dumps({"outcome": outcome, "message": message, "value": value}).encode()


_EMPTY_OK_BYTES = len(body("ok", "", None)) - len("null")


Namespace = tuple[dict[str, Any], restricted.CappedPrint]  # globals and their print sink


@dataclass(frozen=True)
class Prepared:
    """What the worker prepared before forking: imported runners, module proxies and, per
    proxies, an unused namespace for the child's first job."""

    runners: dict[str, Callable[..., Any]]
    proxies: dict[frozenset[str], dict[str, types.SimpleNamespace]]
    cwd: str
    drop_to: tuple[int, int] | None
    warmup: bytes | None = None  # our own snippet, marshalled; run once before waiting
    namespaces: dict[frozenset[str], Namespace] = field(default_factory=dict)


def unused_namespace(proxies: dict[str, types.SimpleNamespace]) -> Namespace:
    """A namespace the worker builds and never uses: each child inherits its own untouched
    copy, so its first job needs no new one (building one costs a fresh child ~100
    copy-on-write page faults, about a third of a trivial call)."""
    printer = restricted.CappedPrint(0)  # the job sets the limit
    return restricted.restricted_globals(proxies, printer), printer


WARMUP_SOURCE = "def warmup(x):\n    return [x, x + 1]\n"
# Shaped like a real job: decoding it and the code touches the pages a job's decoding does.
_WARMUP_JOBS = json.dumps({"jobs": [{
    "entry": "warmup", "imports": [], "runner": "strategy_gym.sandbox.runners:call", "payload": {"args": [1]},
    "time_limit": 1.0, "memory_mb": 0, "max_output": 1000, "rng_seed": 0,
}]}).encode()  # fmt: skip


def _job_waiting(job_fd: int) -> bool:
    return bool(select.select([job_fd], [], [], 0)[0])


def _warm_up(prepared: Prepared, job_fd: int) -> None:
    """Go through a trivial call, so the copy-on-write faults a call takes on the way
    (decoding, exec, runner, result) happen while the child waits, not after it got its job.
    Only while it waits: a job that is already there goes first. (The namespace needs no
    warming: the first job gets one built before the fork.)"""
    if prepared.warmup is None or _job_waiting(job_fd):
        return
    from strategy_gym.sandbox.runners import call

    job = json.loads(_WARMUP_JOBS)["jobs"][0]
    code = marshal.loads(prepared.warmup)
    if _job_waiting(job_fd):
        return
    namespace: dict[str, Any] = {"__builtins__": {}}  # our snippet needs none
    exec(code, namespace)
    random.seed(job["rng_seed"])
    body("ok", "", to_plain(call(namespace[job["entry"]], job["payload"])))


class StepTooLarge(Exception):
    """A lockstep answer frame over the job's output limit."""


def exchanger(channel: tuple[int, int], max_output: int) -> Callable[[list], list | None]:
    """For an interactive runner: send one step's answers to the pool, wait for its reply."""
    job_fd, result_fd = channel

    def exchange(answers: list) -> list | None:
        frame = json.dumps({"step": answers}).encode()
        if len(frame) > max_output + ENVELOPE_BYTES:
            raise StepTooLarge(f"answers of {len(frame)} bytes exceed {max_output}")
        protocol.write_all(result_fd, protocol.encode_frame(frame))
        return marshal.loads(protocol.read_frame(job_fd))  # the pool's views (trusted data)

    return exchange


def _call_runner(runner: Callable[..., Any], fn: Callable[..., Any], job: dict,
                 channel: tuple[int, int] | None) -> Any:  # fmt: skip
    if getattr(runner, "interactive", False):
        if channel is None:
            raise RuntimeError("an interactive runner needs the pool's channel")
        return runner(fn, job["payload"], exchanger(channel, job["max_output"]))
    return runner(fn, job["payload"])


def execute(job: dict, code: types.CodeType, runner: Callable[..., Any],
            proxies: dict[str, types.SimpleNamespace],
            unused: Namespace | None = None,
            channel: tuple[int, int] | None = None) -> bytes:  # fmt: skip
    """Run the model's code and the runner; always returns a JSON body. ``unused`` is a
    namespace nothing has run in yet (else a fresh one is built); ``channel`` (job fd,
    result fd) lets an interactive runner talk to the pool mid-job."""
    max_output = job["max_output"]
    if unused is None:
        printer = restricted.CappedPrint(max_output)
        namespace = restricted.restricted_globals(proxies, printer)
    else:
        namespace, printer = unused
        printer.limit = max_output
    memory_body = body("memory_limit", f"exceeded {job['memory_mb']} MB")
    random.seed(job["rng_seed"])  # None: OS entropy, never the game's seed
    try:
        exec(code, namespace)
        fn = namespace.get(job["entry"])
        if not isinstance(fn, types.FunctionType):
            return body("no_function", f"{job['entry']!r} is not defined as a function")
        result = body("ok", "", to_plain(_call_runner(runner, fn, job, channel)))
    except StepTooLarge as exc:
        return body("output_too_large", str(exc))
    except InvalidAction as exc:
        result = body("invalid_action", describe(exc))
    except MemoryError:
        return memory_body  # prepared beforehand: no allocation needed here
    except RecursionError:
        result = body("runtime_error", "RecursionError: maximum recursion depth exceeded")
    except NotPlainData as exc:  # the runner's author, not the model: runners.call and
        # lockstep convert the model's own values and turn bad ones into invalid_action
        result = body("task_error", f"runner {job['runner']} returned non-plain data: {exc}")
    except BaseException as exc:  # SystemExit, KeyboardInterrupt raised by the code too
        result = body("runtime_error", describe(exc))
    if printer.overflowed:
        return body("output_too_large", f"printed more than {max_output} bytes")
    value_bytes = len(result) - _EMPTY_OK_BYTES  # the value's own JSON size
    if value_bytes > max_output:
        return body("output_too_large", f"result of {value_bytes} bytes exceeds {max_output}")
    return result


def spare_main(prepared: Prepared, job_fd: int, result_fd: int, worker_pid: int,
               base_size: int) -> None:  # fmt: skip
    """Entry point of a pre-forked child. Never returns.

    Locks itself down while idle, then waits for one bundle of jobs from the pool (the same
    code on one or more payloads), limits CPU and memory, runs them in order and exits.
    ``base_size`` is the worker's address space at the fork, what the memory limit adds to.
    """
    status = 0
    try:
        limits.die_with_parent(worker_pid)
        try:
            limits.lock_down(prepared.cwd, prepared.drop_to, (job_fd, result_fd))
            failure = None
            _warm_up(prepared, job_fd)
        except BaseException as exc:
            failure = body("crashed", f"sandbox setup failed: {describe(exc)}")
        jobs = json.loads(protocol.read_frame(job_fd))["jobs"]
        code = marshal.loads(protocol.read_frame(job_fd))  # compiled by the trusted worker
        if failure is not None:
            protocol.write_all(result_fd, protocol.encode_frame(failure))
            return
        first = jobs[0]  # a bundle shares code, runner and policy; payloads differ
        total_time = sum(job["time_limit"] for job in jobs)
        limits.limit_job(total_time, base_size + first["memory_mb"] * 2**20)
        runner = prepared.runners[first["runner"]]
        imports = frozenset(first["imports"])
        unused = prepared.namespaces.get(imports)  # the first job's, built before the fork
        for job in jobs:  # each job execs the code into a fresh namespace
            result = execute(job, code, runner, prepared.proxies[imports], unused,
                             (job_fd, result_fd))
            protocol.write_all(result_fd, protocol.encode_frame(result))
            unused = None
    except BaseException:
        status = 70
    finally:
        os._exit(status)
