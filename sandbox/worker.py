"""The worker process: a trusted, long-lived parent of one jailed child per call.

Started by the pool with a scrubbed environment in its own session. It imports runners (as
root, before any limits), compiles code (cached), keeps one pre-forked spare child, hands it
each job, enforces the wall-clock deadline on it with SIGKILL and answers the pool with a
frame pair (header, body). Only JSON goes to the pool; only the worker writes marshal data.
"""

from __future__ import annotations

import gc
import importlib
import json
import marshal
import os
import select
import signal
import sys
import time
import types
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox import child, limits, protocol, restricted
from sandbox.policy import parse_runner

COMPILE_CACHE_SIZE = 256


@dataclass
class _Spare:
    pid: int
    job_fd: int
    result_fd: int
    version: int
    frames: protocol.FrameBuffer | None = None
    ready: deque[bytes] = field(default_factory=deque)


@dataclass
class _ChildReport:
    body: bytes = b""
    complete: bool = False
    timed_out: bool = False
    too_large: bool = False
    status: int = 0


def _collect(spare: _Spare, deadline: float) -> _ChildReport:
    """Read the child's next result frame until the deadline."""
    report = _ChildReport()
    while not spare.ready:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            report.timed_out = True
            break
        if not select.select([spare.result_fd], [], [], remaining)[0]:
            continue
        chunk = os.read(spare.result_fd, 1 << 20)
        if not chunk:
            break
        try:
            spare.ready.extend(spare.frames.feed(chunk))
        except ValueError:
            report.too_large = True
            break
    if spare.ready:
        report.body, report.complete = spare.ready.popleft(), True
    return report


def _classify(report: _ChildReport, job: dict) -> dict:
    """A header with an outcome when the worker decides; without one, the body decides."""
    if report.complete:
        return {}
    if report.timed_out:
        return {"outcome": "timeout", "message": f"exceeded {job['time_limit']} s"}
    if report.too_large:
        return {"outcome": "output_too_large", "message": "the child wrote too much"}
    status = report.status
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return {"outcome": "timeout", "message": "CPU time limit exceeded"}
        return {"outcome": "crashed", "message": f"killed by {signal.Signals(sig).name}"}
    return {"outcome": "crashed", "message": f"exited with status {os.WEXITSTATUS(status)}"}


class Worker:
    def __init__(self, config: dict) -> None:
        self.cwd = config["cwd"]
        self.proto_in, self.proto_out = self._claim_protocol_fds()
        self.network_isolated = limits.enter_network_namespace()
        self.drop_to = limits.unprivileged_ids() if os.geteuid() == 0 else None
        self.runners: dict[str, Callable[..., Any]] = {}
        self.runner_errors: dict[str, str] = {}
        self.proxies: dict[frozenset[str], dict[str, types.SimpleNamespace]] = {}
        self.compiled: OrderedDict[str, tuple[bytes | None, str]] = OrderedDict()
        self.version = 0  # bumped whenever what a spare inherits changes
        self.spare: _Spare | None = None
        self.zombies: list[int] = []
        self.warmup_code = restricted.compile_code(child.WARMUP_SOURCE)[0]
        for spec in config.get("preload", []):
            self.load_runner(spec)
        self.proxies_for(config.get("allowed", []))

    @staticmethod
    def _claim_protocol_fds() -> tuple[int, int]:
        """Keep the pool's pipes private; stray prints from imports go to stderr instead."""
        proto_in, proto_out = os.dup(0), os.dup(1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(2, 1)
        os.close(null)
        return proto_in, proto_out

    def protections(self) -> dict[str, Any]:
        return {
            "process_per_call": True,
            "privilege_drop": self.drop_to is not None,
            "run_as_uid": self.drop_to[0] if self.drop_to else os.geteuid(),
            "network_namespace": self.network_isolated,
            "rlimit_as": True,
            "rlimit_cpu": True,
            "rlimit_nproc": True,
            "rlimit_fsize": True,
            "rlimit_nofile": limits.MAX_OPEN_FILES,
            "no_new_privs": True,
            "empty_readonly_cwd": True,
            "scrubbed_environment": True,
            "restricted_python": True,
        }

    # what children inherit ----------------------------------------------------------------
    def load_runner(self, spec: str) -> Callable[..., Any] | None:
        if spec in self.runners or spec in self.runner_errors:
            return self.runners.get(spec)
        self.version += 1
        try:
            module_name, function_name = parse_runner(spec)
            module = importlib.import_module(module_name)
            warmup = getattr(module, "sandbox_warmup", None)
            if callable(warmup):
                warmup()  # e.g. compile numba kernels once, before any fork
            runner = getattr(module, function_name)
            if not callable(runner):
                raise TypeError(f"{spec} is not callable")
        except Exception as exc:
            self.runner_errors[spec] = child.describe(exc)
            return None
        self.runners[spec] = runner
        return runner

    def proxies_for(self, allowed: list[str]) -> dict[str, types.SimpleNamespace]:
        key = frozenset(allowed)
        if key not in self.proxies:
            self.version += 1
            self.proxies[key] = restricted.build_module_proxies(key)
        return self.proxies[key]

    def compile(self, code: str) -> tuple[bytes | None, str]:
        """RestrictedPython compile, cached; returns (marshalled code, "") or (None, error)."""
        if code in self.compiled:
            self.compiled.move_to_end(code)
            return self.compiled[code]
        compiled, error = restricted.compile_code(code)
        result = (marshal.dumps(compiled) if compiled is not None else None, error)
        self.compiled[code] = result
        if len(self.compiled) > COMPILE_CACHE_SIZE:
            self.compiled.popitem(last=False)
        return result

    # children ------------------------------------------------------------------------------
    def _fork_spare(self) -> _Spare:
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        worker_pid = os.getpid()
        prepared = child.Prepared(
            self.runners, self.proxies, self.cwd, self.drop_to, self.warmup_code
        )
        gc.freeze()  # keep the collector from touching (and copying) inherited objects
        pid = os.fork()
        if pid == 0:
            os.close(job_write)
            os.close(result_read)
            child.spare_main(prepared, job_read, result_write, worker_pid)
        os.close(job_read)
        os.close(result_write)
        return _Spare(pid, job_write, result_read, self.version)

    def _discard(self, spare: _Spare, wait: bool) -> int:
        os.close(spare.job_fd)
        os.close(spare.result_fd)
        try:
            os.kill(spare.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return os.waitpid(spare.pid, 0)[1] if wait else 0

    def _take_spare(self) -> _Spare:
        spare, self.spare = self.spare, None
        if spare is not None and spare.version == self.version:
            return spare
        if spare is not None:
            self._discard(spare, wait=True)
        return self._fork_spare()

    def refill(self) -> None:
        """Fork the next child while the worker is idle (off the next call's path)."""
        self._reap_finished()
        if self.spare is None:
            self.spare = self._fork_spare()

    def _reap_finished(self) -> None:
        """Collect children that have finished exiting, without waiting for the others
        (tearing down a large process takes milliseconds; nobody should wait for it)."""
        still_exiting = []
        for pid in self.zombies:
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                still_exiting.append(pid)
        self.zombies = still_exiting

    def _reap_while_idle(self) -> None:
        """Collect exiting children until they are gone or the next request arrives."""
        while self.zombies and not select.select([self.proto_in], [], [], 0.005)[0]:
            self._reap_finished()

    def _run_children(self, jobs: list[dict], code: bytes, compile_s: float) -> Iterator[tuple]:
        """Run a bundle of jobs (same code, different payloads) in one fresh child, one after
        another, yielding (header, body) per job. Stops at the first job the child does not
        finish; the caller reruns the rest in a new child."""
        spare = self._take_spare()
        spare.frames = protocol.FrameBuffer(max_frame=jobs[0]["max_output"] + child.ENVELOPE_BYTES)
        request = protocol.encode_json({"jobs": jobs}) + protocol.encode_frame(code)
        started = time.perf_counter()
        deadline = time.monotonic() + jobs[0]["time_limit"]
        try:
            protocol.write_all(spare.job_fd, request)
        except OSError:
            pass  # the child died before reading; _collect sees EOF and reports it
        for done, job in enumerate(jobs, start=1):
            report = _collect(spare, deadline)
            timings = {"compile_s": compile_s, "run_s": time.perf_counter() - started}
            if not report.complete:
                report.status = self._discard(spare, wait=True)
                yield {**_classify(report, job), "timings": timings}, b""
                return done
            yield {"timings": timings}, report.body
            started, deadline = time.perf_counter(), time.monotonic() + job["time_limit"]
        self._discard(spare, wait=False)  # reaped later: teardown stays off the call's path
        self.zombies.append(spare.pid)
        return len(jobs)

    # one request ---------------------------------------------------------------------------
    def handle(self, jobs: list[dict]) -> Iterator[tuple[dict, bytes]]:
        """Yield one (header, body) per job, in order."""
        start = time.perf_counter()
        first = jobs[0]
        if self.load_runner(first["runner"]) is None:
            error = self.runner_errors[first["runner"]]
            header = {"outcome": "crashed", "message": f"runner failed to load: {error}"}
            yield from ((header, b"") for _ in jobs)
            return
        self.proxies_for(first["imports"])
        code, error = self.compile(first["code"])
        if code is None:
            yield from (({"outcome": "forbidden", "message": error}, b"") for _ in jobs)
            return
        compile_s = time.perf_counter() - start
        while jobs:
            finished = yield from self._run_children(jobs, code, compile_s)
            jobs = jobs[finished:]

    def serve(self) -> None:
        hello = {"ready": True, "pid": os.getpid(), "protections": self.protections()}
        self.refill()
        protocol.write_all(self.proto_out, protocol.encode_json(hello))
        while True:
            self._reap_while_idle()
            try:
                request = json.loads(protocol.read_frame(self.proto_in))
            except EOFError:
                break
            for header, body in self.handle(request["jobs"]):
                protocol.write_all(
                    self.proto_out, protocol.encode_json(header) + protocol.encode_frame(body)
                )
            self.refill()
        if self.spare is not None:
            self._discard(self.spare, wait=True)
        for pid in self.zombies:
            os.waitpid(pid, 0)


def main(argv: list[str]) -> None:
    Worker(json.loads(argv[1])).serve()


if __name__ == "__main__":
    main(sys.argv)
