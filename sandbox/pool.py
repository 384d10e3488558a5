"""SandboxPool: pre-started worker processes, one job per worker at a time, results in order.

The parent never runs model code. It checks source statically (cached), sends JSON jobs to
idle workers, reads JSON results, enforces ``max_output_bytes`` and a backstop deadline
(the worker enforces the precise one on its child), and replaces any worker that dies or
stops answering.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox import protocol
from sandbox.child import ENVELOPE_BYTES
from sandbox.outcome import Outcome, SandboxResult
from sandbox.policy import Job, SandboxPolicy, parse_runner
from sandbox.static_checks import check_source

_BOOT = (
    "import json, sys; config = json.loads(sys.argv[1]); sys.path[:] = config['sys_path']; "
    "from sandbox.worker import main; main(sys.argv)"
)
BACKSTOP_GRACE_S = 2.0  # the worker answers at the limit; this only catches a stuck worker
CHECK_CACHE_SIZE = 1024
MAX_BUNDLE = 16  # jobs of the same code run by one child, one after another
MAX_START_FAILURES = 3


@dataclass(eq=False)
class _Handle:
    proc: subprocess.Popen
    frames: protocol.FrameBuffer = field(default_factory=protocol.FrameBuffer)
    ready: bool = False
    indices: deque[int] = field(default_factory=deque)  # jobs sent, results not yet back
    sent_at: float = 0.0
    deadline: float = float("inf")
    header: dict | None = None

    @property
    def out_fd(self) -> int:
        return self.proc.stdout.fileno()

    @property
    def busy(self) -> bool:
        return bool(self.indices)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _shutdown(procs: dict[int, subprocess.Popen], cwd: str) -> None:
    """Close every worker (EOF first, SIGKILL to the group if it lingers) and the temp dir."""
    for proc in list(procs.values()):
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
    for proc in list(procs.values()):
        try:
            proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc)
    procs.clear()
    shutil.rmtree(cwd, ignore_errors=True)


def _worker_environment(home: str) -> dict[str, str]:
    """No secrets from the caller's environment; single-threaded numeric libraries."""
    env = {k: v for k, v in os.environ.items() if k.startswith("NUMBA_") and "THREAD" not in k}
    env.update(
        PATH=os.defpath, LANG="C.UTF-8", HOME=home, OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
    )  # fmt: skip
    return env


def _python_random_seed(rng_seed: int | None, key: bytes) -> int | None:
    """Keyed derivation, so the code cannot recover ``rng_seed`` (often a game seed) by
    brute-forcing ``random.seed(s)`` against ``random.getstate()``."""
    if rng_seed is None:
        return None
    digest = hmac.new(key, str(rng_seed).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest, "big")


def _job_dict(job: Job, rng_key: bytes) -> dict[str, Any]:
    policy = job.policy
    request = {
        "code": job.code,
        "entry": policy.entry_point,
        "imports": sorted(policy.allowed_imports),
        "runner": job.runner,
        "payload": job.payload,
        "time_limit": policy.time_limit_s,
        "memory_mb": policy.memory_limit_mb,
        "max_output": policy.max_output_bytes,
        "rng_seed": _python_random_seed(job.rng_seed, rng_key),
    }
    try:
        json.dumps(job.payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Job.payload must be plain JSON data: {exc}") from None
    return request


def _bundles(indices: list[int], jobs: Sequence[Job], workers: int) -> list[list[int]]:
    """Group jobs that share code, runner and policy into bundles run by one child each
    (fork once, run many seeds), small enough that every worker gets a share."""
    groups: dict[tuple, list[int]] = {}
    for index in indices:
        job = jobs[index]
        groups.setdefault((job.code, job.runner, job.policy), []).append(index)
    bundles = []
    for members in groups.values():
        size = max(1, min(MAX_BUNDLE, math.ceil(len(members) / (2 * workers))))
        bundles += [members[i : i + size] for i in range(0, len(members), size)]
    return sorted(bundles, key=lambda bundle: bundle[0])


@dataclass
class _Batch:
    """The state of one run_batch call."""

    jobs: list[Job]
    requests: dict[int, dict[str, Any]]
    results: dict[int, SandboxResult] = field(default_factory=dict)
    queue: deque[list[int]] = field(default_factory=deque)
    retried: set[int] = field(default_factory=set)

    def frame(self, bundle: list[int]) -> bytes:
        return protocol.encode_json({"jobs": [self.requests[i] for i in bundle]})


def _result_from(header: dict, body: bytes, policy: SandboxPolicy, timings: dict) -> SandboxResult:
    timings = {**header.get("timings", {}), **timings}
    if "outcome" in header:
        return SandboxResult(Outcome(header["outcome"]), header.get("message", ""), None, timings)
    if len(body) > policy.max_output_bytes + ENVELOPE_BYTES:
        message = f"result of {len(body)} bytes exceeds {policy.max_output_bytes}"
        return SandboxResult(Outcome.OUTPUT_TOO_LARGE, message, None, timings)
    try:
        data = json.loads(body)
        outcome = Outcome(data["outcome"])
        message = str(data.get("message", ""))[:1000]
    except (ValueError, KeyError, TypeError, RecursionError):
        return SandboxResult(Outcome.CRASHED, "malformed result from the worker", None, timings)
    value = data.get("value") if outcome is Outcome.OK else None
    return SandboxResult(outcome, message, value, timings)


class SandboxPool:
    """A pool of pre-started sandbox workers. Use as a context manager or call ``close()``.

    ``preload`` lists runners ("module:function") each worker imports at start, so the first
    call does not pay for the import. A job's ``rng_seed`` reaches Python's ``random`` only
    through an HMAC under ``rng_key`` (default: a fresh random key per pool); pass a fixed
    key, kept away from the model, to make random strategies reproducible across runs.
    """

    def __init__(self, workers: int = 2, preload: Sequence[str] = (),
                 start_timeout_s: float = 60.0, rng_key: bytes | None = None) -> None:  # fmt: skip
        if isinstance(workers, bool) or not isinstance(workers, int):
            raise TypeError(f"workers must be an int, got {type(workers).__name__}")
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if isinstance(preload, str):
            raise TypeError("preload must be a sequence of 'module:function' strings")
        for spec in preload:
            parse_runner(spec)
        if rng_key is not None and not isinstance(rng_key, bytes):
            raise TypeError(f"rng_key must be bytes or None, got {type(rng_key).__name__}")
        self._rng_key = rng_key or os.urandom(32)
        self._size = workers
        self._runners = list(dict.fromkeys(preload))
        self._known_runners: set[str] = set()
        self._start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._checks: OrderedDict[tuple[bytes | str | None, SandboxPolicy], SandboxResult] = (
            OrderedDict()
        )
        self._cwd = tempfile.mkdtemp(prefix="sandbox-cwd-")
        os.chmod(self._cwd, 0o555)  # empty and not writable by the unprivileged child
        self._procs: dict[int, subprocess.Popen] = {}
        self._finalizer = weakref.finalize(self, _shutdown, self._procs, self._cwd)
        self._selector = selectors.DefaultSelector()
        self._handles: list[_Handle] = []
        self._protections: dict[str, Any] = {}
        self._start_failures = 0
        self._closed = False
        self._batch: _Batch | None = None
        try:
            for _ in range(workers):
                self._spawn()
            self._wait_until_ready()
        except BaseException:
            self.close()
            raise

    # lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop all workers and remove the pool's temp dir. Safe to call twice."""
        self._closed = True
        self._selector.close()
        self._handles.clear()
        self._finalizer()

    def protections(self) -> dict[str, Any]:
        """Which walls are active (reported by the workers), e.g. network_namespace: True."""
        return {**self._protections, "workers": self._size}

    def worker_pids(self) -> list[int]:
        return [h.proc.pid for h in self._handles]

    def _spawn(self) -> _Handle:
        config = {
            "sys_path": [os.path.abspath(p) if p else os.getcwd() for p in sys.path],
            "cwd": self._cwd,
            "preload": self._runners,
            "allowed": sorted(SandboxPolicy().allowed_imports),
        }
        proc = subprocess.Popen(
            [sys.executable, "-E", "-s", "-c", _BOOT, json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=self._cwd,
            env=_worker_environment(self._cwd), start_new_session=True, close_fds=True,
        )  # fmt: skip
        self._procs[proc.pid] = proc
        handle = _Handle(proc)
        self._handles.append(handle)
        self._selector.register(handle.out_fd, selectors.EVENT_READ, handle)
        return handle

    def _retire(self, handle: _Handle) -> None:
        """Kill a worker (its whole session, children included) and start a replacement."""
        self._selector.unregister(handle.out_fd)
        self._handles.remove(handle)
        _kill_group(handle.proc)
        for stream in (handle.proc.stdin, handle.proc.stdout):
            stream.close()
        self._procs.pop(handle.proc.pid, None)
        if not handle.ready:
            self._start_failures += 1
            if self._start_failures > MAX_START_FAILURES:
                raise RuntimeError("sandbox workers keep dying at start; see stderr above")
        self._spawn()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        while not all(h.ready for h in self._handles):
            if time.monotonic() > deadline:
                raise RuntimeError(f"sandbox workers not ready after {self._start_timeout_s} s")
            self._pump(deadline)

    # checks ------------------------------------------------------------------------------
    def check(self, code: str | None, policy: SandboxPolicy) -> SandboxResult:
        """``check_source`` with a per-pool cache (GRPO runs the same code on many seeds)."""
        key = (hashlib.sha256(code.encode("utf-8", "surrogatepass")).digest() if code else code,
               policy)  # fmt: skip
        cached = self._checks.get(key)
        if cached is None:
            cached = check_source(code, policy)
            self._checks[key] = cached
            if len(self._checks) > CHECK_CACHE_SIZE:
                self._checks.popitem(last=False)
        return cached

    def _validate_runner(self, spec: str) -> None:
        if spec in self._known_runners:
            return
        module, _ = parse_runner(spec)
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a parent package is missing
            found = False
        if not found:
            raise ValueError(f"runner module {module!r} of {spec!r} cannot be found")
        self._known_runners.add(spec)
        if spec not in self._runners:
            self._runners.append(spec)  # replacement workers preload it

    # running -----------------------------------------------------------------------------
    def run(self, job: Job) -> SandboxResult:
        return self.run_batch([job])[0]

    def run_batch(self, jobs: Sequence[Job]) -> list[SandboxResult]:
        """Run jobs across the pool; results come back in the jobs' order, never raising for
        anything the model's code does."""
        for job in jobs:
            if not isinstance(job, Job):
                raise TypeError(f"run_batch takes Job objects, got {type(job).__name__}")
        with self._lock:
            if self._closed:
                raise RuntimeError("this SandboxPool is closed")
            return self._run_locked(list(jobs))

    def _run_locked(self, jobs: list[Job]) -> list[SandboxResult]:
        verdicts = []
        for job in jobs:
            self._validate_runner(job.runner)
            verdicts.append(self.check(job.code, job.policy))
        runnable = [i for i, verdict in enumerate(verdicts) if verdict.ok]
        batch = _Batch(jobs, {i: _job_dict(jobs[i], self._rng_key) for i in runnable})
        batch.queue.extend(_bundles(runnable, jobs, self._size))
        self._batch = batch
        try:
            while batch.queue or any(h.busy for h in self._handles):
                self._dispatch(batch)
                self._pump(self._next_deadline())
                self._enforce_deadlines(batch)
        finally:
            self._batch = None
        return [
            batch.results[i].with_timings(**verdict.timings) if verdict.ok else verdict
            for i, verdict in enumerate(verdicts)
        ]

    def _dispatch(self, batch: _Batch) -> None:
        for handle in list(self._handles):
            if not batch.queue:
                return
            if not handle.ready or handle.busy:
                continue
            bundle = batch.queue.popleft()
            handle.indices.extend(bundle)
            self._arm(handle, batch.jobs[bundle[0]].policy)
            try:
                protocol.write_all(handle.proc.stdin.fileno(), batch.frame(bundle))
            except OSError:
                self._worker_died(handle)  # died while idle: its jobs go back to the queue

    @staticmethod
    def _arm(handle: _Handle, policy: SandboxPolicy) -> None:
        handle.sent_at = time.perf_counter()
        handle.deadline = time.monotonic() + policy.time_limit_s + BACKSTOP_GRACE_S

    def _next_deadline(self) -> float:
        busy = [h.deadline for h in self._handles if h.busy]
        return min(busy) if busy else time.monotonic() + self._start_timeout_s

    def _pump(self, deadline: float) -> None:
        """Wait for worker output until ``deadline`` and handle whatever arrives."""
        timeout = max(0.0, deadline - time.monotonic())
        for key, _ in self._selector.select(timeout):
            handle: _Handle = key.data
            if handle not in self._handles:
                continue  # retired earlier in this round
            chunk = os.read(handle.out_fd, 1 << 20)
            if not chunk:
                self._worker_died(handle)
                continue
            for frame in handle.frames.feed(chunk):
                self._on_frame(handle, frame)

    def _on_frame(self, handle: _Handle, frame: bytes) -> None:
        if not handle.ready:
            hello = json.loads(frame)
            handle.ready = True
            self._start_failures = 0
            self._protections = self._protections or hello["protections"]
            return
        if handle.header is None:
            handle.header = json.loads(frame)
            return
        header, handle.header = handle.header, None
        batch = self._batch
        if batch is None or not handle.indices:
            return
        index = handle.indices.popleft()
        total = {"total_s": time.perf_counter() - handle.sent_at}
        batch.results[index] = _result_from(header, frame, batch.jobs[index].policy, total)
        if handle.indices:
            self._arm(handle, batch.jobs[handle.indices[0]].policy)
        else:
            handle.deadline = float("inf")

    def _worker_died(self, handle: _Handle) -> None:
        """A jailed child cannot kill its worker, so this is outside interference: each job
        in flight is retried once on another worker, then reported as crashed."""
        batch = self._batch
        retry = []
        for index in handle.indices:
            if batch is None:
                break
            if index in batch.retried:
                total = {"total_s": time.perf_counter() - handle.sent_at}
                message = "sandbox worker died"
                batch.results[index] = SandboxResult(Outcome.CRASHED, message, None, total)
            else:
                batch.retried.add(index)
                retry.append(index)
        if retry:
            batch.queue.appendleft(retry)
        handle.indices.clear()
        self._retire(handle)

    def _enforce_deadlines(self, batch: _Batch) -> None:
        now = time.monotonic()
        for handle in list(self._handles):
            if handle.busy and now >= handle.deadline:
                index = handle.indices.popleft()
                limit = batch.jobs[index].policy.time_limit_s
                elapsed = {"total_s": time.perf_counter() - handle.sent_at}
                message = f"worker unresponsive past {limit} s; replaced"
                batch.results[index] = SandboxResult(Outcome.TIMEOUT, message, None, elapsed)
                if handle.indices:
                    batch.queue.appendleft(list(handle.indices))
                handle.indices.clear()
                self._retire(handle)
