"""SandboxPool: pre-started workers that fork jailed children; one bundle per worker at a time.

The parent never runs model code. It checks source statically (cached), has a worker load the
runner and compile the code (cached), writes each bundle of JSON jobs straight to a child the
worker forked beforehand, reads the child's JSON results, enforces ``max_output_bytes`` and the
wall-clock deadline (SIGKILL through a pidfd), asks the worker for the exit status of a child
that failed, and replaces any worker that dies or stops answering. It only ever decodes JSON;
the compiled code is opaque bytes from the worker to the child.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import marshal
import math
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from strategy_gym.sandbox import limits, protocol
from strategy_gym.sandbox.child import ENVELOPE_BYTES
from strategy_gym.sandbox.link import Running, Spare, WorkerGone, WorkerLink, shutdown
from strategy_gym.sandbox.outcome import Outcome, SandboxResult
from strategy_gym.sandbox.policy import Job, SandboxPolicy, parse_runner
from strategy_gym.sandbox.session import Session, SessionState, parse_answers
from strategy_gym.sandbox.static_checks import check_source

_BOOT = (
    "import json, sys; config = json.loads(sys.argv[1]); sys.path[:] = config['sys_path']; "
    "from strategy_gym.sandbox.worker import main; main(sys.argv)"
)
BACKSTOP_GRACE_S = 2.0  # how long past a job's limit a worker may take to compile or answer
CHECK_CACHE_SIZE = 1024
COMPILE_CACHE_SIZE = 256
MAX_BUNDLE = 16  # jobs of the same code run by one child, one after another
MAX_START_FAILURES = 3
# What a selector key's data says the descriptor is.
_OUTPUT, _SPARES, _CHILD = "output", "spares", "child"


def _shutdown(links: list[WorkerLink], cwd: str) -> None:
    shutdown(links)
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


def _job_json(job: Job, rng_key: bytes) -> bytes:
    """What the child gets for one job, as JSON (the code travels separately, compiled)."""
    policy = job.policy
    request = {
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
        return json.dumps(request, allow_nan=False).encode()  # one encoding checks the payload
    except (TypeError, ValueError):
        try:
            json.dumps(job.payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Job.payload must be plain JSON data: {exc}") from None
        return json.dumps(request).encode()  # an infinite limit, say: as before


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
    requests: dict[int, bytes]  # each job as JSON
    results: dict[int, SandboxResult] = field(default_factory=dict)
    queue: deque[list[int]] = field(default_factory=deque)
    retried: set[int] = field(default_factory=set)
    sessions: dict[int, SessionState] = field(default_factory=dict)  # interactive jobs

    def frames(self, bundle: list[int], code: bytes) -> bytes:
        jobs = b'{"jobs": [' + b", ".join(self.requests[i] for i in bundle) + b"]}"
        return protocol.encode_frame(jobs) + protocol.encode_frame(code)

    def fail(self, bundle: list[int], outcome: Outcome, message: str, timings: dict) -> None:
        for index in bundle:
            self.results[index] = SandboxResult(outcome, message, None, dict(timings))


def _result_from(body: bytes, policy: SandboxPolicy, timings: dict) -> SandboxResult:
    if len(body) > policy.max_output_bytes + ENVELOPE_BYTES:
        message = f"result of {len(body)} bytes exceeds {policy.max_output_bytes}"
        return SandboxResult(Outcome.OUTPUT_TOO_LARGE, message, None, timings)
    try:
        data = json.loads(body)
        outcome = Outcome(data["outcome"])
        message = str(data.get("message", ""))[:1000]
    except (ValueError, KeyError, TypeError, RecursionError):
        return SandboxResult(Outcome.CRASHED, "malformed result from the sandbox", None, timings)
    value = data.get("value") if outcome is Outcome.OK else None
    return SandboxResult(outcome, message, value, timings)


CHECKED_ROUND_TRIPS = 2  # the views after reset and after a first move: every code path of view()


def _encode_views(views: Any, check: bool) -> bytes:
    """Views travel to the child with marshal: trusted data, decoded only by the child, and
    ~10x faster than JSON for boards (a round trip carries k of them). marshal itself refuses
    objects of other types (numpy values, the task's classes) on every round trip; the first
    round trips of a session (``check``) are also walked for plain data (no sets, bytes or
    tuples-as-keys), so a task whose view is not plain data fails as a task error at once.
    Walking every view of every round trip cost more than the env step."""
    data = marshal.dumps(views)
    if check and views is not None and not _plain(views):
        raise TypeError("a view must be plain data (lists, dicts, str, int, float, bool, None)")
    return data


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any, depth: int = 0) -> bool:
    # Loops, not all() over generators: this runs on every view of every round trip.
    kind = type(value)
    if kind in _SCALARS:
        return True
    if depth > 32:
        return False
    if kind is list or kind is tuple:
        for item in value:
            if type(item) not in _SCALARS and not _plain(item, depth + 1):
                return False
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not _plain(item, depth + 1)):
                return False
        return True
    return False


def _has_exited(spare: Spare) -> bool:
    """A pidfd becomes readable when its process exits."""
    try:
        return bool(select.select([spare.pidfd], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _has_output(spare: Spare) -> bool:
    try:
        return bool(select.select([spare.result_fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def _timeout_message(batch: _Batch, running: Running) -> str:
    index = running.indices[0]
    state = batch.sessions.get(index)
    if state is None:
        return f"exceeded {batch.jobs[index].policy.time_limit_s} s"
    if state.budget_is_binding:
        return f"the session exceeded its budget of {state.session.budget_s} s"
    return f"one move took longer than {state.step_limit_s} s"


def _killed_from_outside(status: int | None) -> bool:
    """SIGKILL that the pool did not send (it fails a child before killing it): the OOM
    killer or another process, not the code's own doing, so the job is retried once."""
    return status is not None and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _failure(status: int | None) -> tuple[Outcome, str]:
    """What a child that stopped before answering died of, from its wait status."""
    if status is None:
        return Outcome.CRASHED, "the child vanished"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return Outcome.TIMEOUT, "CPU time limit exceeded"
        return Outcome.CRASHED, f"killed by {signal.Signals(sig).name}"
    return Outcome.CRASHED, f"exited with status {os.WEXITSTATUS(status)}"


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
        self._failed_runners: dict[str, str] = {}
        self._start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._checks: OrderedDict[tuple[bytes | str | None, SandboxPolicy], SandboxResult] = (
            OrderedDict()
        )
        self._compiled: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._cwd = tempfile.mkdtemp(prefix="sandbox-cwd-")
        os.chmod(self._cwd, 0o555)  # empty and not writable by the unprivileged child
        self._links: list[WorkerLink] = []
        self._finalizer = weakref.finalize(self, _shutdown, self._links, self._cwd)
        self._selector = selectors.DefaultSelector()
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
        self._finalizer()

    def protections(self) -> dict[str, Any]:
        """Which walls are active (reported by the workers), e.g. network_namespace: True."""
        return {**self._protections, "workers": self._size}

    def worker_pids(self) -> list[int]:
        return [link.pid for link in self._links]

    def _spawn(self) -> WorkerLink:
        pool_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {
            "sys_path": [os.path.abspath(p) if p else os.getcwd() for p in sys.path],
            "cwd": self._cwd,
            "preload": self._runners,
            "allowed": sorted(SandboxPolicy().allowed_imports),
            "spares_fd": worker_end.fileno(),
        }
        try:
            proc = subprocess.Popen(
                [sys.executable, "-E", "-s", "-c", _BOOT, json.dumps(config)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=self._cwd,
                env=_worker_environment(self._cwd), start_new_session=True, close_fds=True,
                pass_fds=(worker_end.fileno(),),
            )  # fmt: skip
        except BaseException:
            pool_end.close()
            raise
        finally:
            worker_end.close()
        link = WorkerLink(proc, pool_end)
        self._links.append(link)
        self._selector.register(link.out_fd, selectors.EVENT_READ, (_OUTPUT, link))
        self._selector.register(pool_end.fileno(), selectors.EVENT_READ, (_SPARES, link))
        return link

    def _retire(self, link: WorkerLink) -> None:
        """Kill a worker (its whole session, children included) and start a replacement."""
        self._selector.unregister(link.out_fd)
        self._selector.unregister(link.sock.fileno())
        if link.running is not None:
            self._selector.unregister(link.running.spare.result_fd)
        self._links.remove(link)
        link.close_children()
        link.kill()
        link.close_streams()
        if not link.ready:
            self._start_failures += 1
            if self._start_failures > MAX_START_FAILURES:
                raise RuntimeError("sandbox workers keep dying at start; see stderr above")
        self._spawn()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        while not all(link.ready for link in self._links):
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

    def run_sessions(self, sessions: Sequence[Session]) -> list[SandboxResult]:
        """Run interactive sessions across the pool (see :mod:`strategy_gym.sandbox.session`);
        each driver has been advanced to its end when this returns. A result is ``ok`` when
        the child served until the driver finished, else what stopped it (timeout, crash,
        output_too_large, or the code's own failure to build)."""
        jobs = []
        for session in sessions:
            if not isinstance(session, Session):
                raise TypeError(f"run_sessions takes Session objects, got {type(session).__name__}")
            payload = {"rng_seeds": [_python_random_seed(s, self._rng_key) for s in session.rng_seeds]}
            policy = replace(session.policy, time_limit_s=session.budget_s)
            jobs.append(Job(session.code, session.runner, payload, policy))
        states = {i: SessionState(s) for i, s in enumerate(sessions)}
        with self._lock:
            if self._closed:
                raise RuntimeError("this SandboxPool is closed")
            return self._run_locked(jobs, states)

    def _run_locked(self, jobs: list[Job],
                    sessions: dict[int, SessionState] | None = None) -> list[SandboxResult]:  # fmt: skip
        verdicts = []
        for job in jobs:
            self._validate_runner(job.runner)
            verdicts.append(self.check(job.code, job.policy))
        runnable = [i for i, verdict in enumerate(verdicts) if verdict.ok]
        batch = _Batch(jobs, {i: _job_json(jobs[i], self._rng_key) for i in runnable},
                       sessions=sessions or {})  # fmt: skip
        batch.queue.extend(_bundles(runnable, jobs, self._size))
        self._batch = batch
        try:
            while batch.queue or any(link.running for link in self._links):
                self._dispatch(batch)
                if not (batch.queue or any(link.running for link in self._links)):
                    break  # all answered without a child (e.g. a runner that fails to load)
                self._pump(self._next_deadline())
                self._enforce_deadlines(batch)
        except BaseException:
            self._abandon_running()  # e.g. KeyboardInterrupt: no stale child for the next batch
            raise
        finally:
            self._batch = None
        return [
            batch.results[i].with_timings(**verdict.timings) if verdict.ok else verdict
            for i, verdict in enumerate(verdicts)
        ]

    def _dispatch(self, batch: _Batch) -> None:
        # Longest-idle worker first: its next child has had the most time to be forked and
        # locked down, so back-to-back calls rarely wait for one.
        for link in sorted(self._links, key=lambda lk: lk.last_used):
            while batch.queue and link in self._links and link.ready and link.running is None:
                bundle = batch.queue[0]
                started = time.perf_counter()
                code = self._prepare(link, batch, bundle)
                if code is None:
                    continue  # the bundle got its results, or the worker was replaced
                spare = self._spare_for(link, batch.jobs[bundle[0]])
                if spare is None:
                    break  # one is on its way; the pump picks it up
                batch.queue.popleft()
                self._launch(link, spare, batch, bundle, code, time.perf_counter() - started)

    def _prepare(self, link: WorkerLink, batch: _Batch, bundle: list[int]) -> bytes | None:
        """Have ``link`` load the bundle's runner, and compile its code (cached); None when
        the bundle is answered already (it cannot run) or the worker had to be replaced."""
        job = batch.jobs[bundle[0]]
        started = time.perf_counter()
        try:
            error = self._failed_runners.get(job.runner) or self._load(link, job)
            if error is not None:
                self._forget_runner(job.runner, error)
                message = f"runner {job.runner} failed to load: {error}"
                self._answer(batch, bundle, Outcome.TASK_ERROR, message, started)
                return None
            code, error = self._compile(link, job)
        except WorkerGone as gone:
            self._lost(link, batch, gone)
            return None
        if error:
            self._answer(batch, bundle, Outcome.FORBIDDEN, error, started)
            return None
        return code

    def _answer(self, batch: _Batch, bundle: list[int], outcome: Outcome, message: str,
                started: float) -> None:  # fmt: skip
        batch.queue.popleft()
        elapsed = time.perf_counter() - started
        batch.fail(bundle, outcome, message, {"compile_s": elapsed, "total_s": elapsed})

    def _forget_runner(self, spec: str, error: str) -> None:
        """A runner that failed to load fails its later jobs at once, and no worker started
        from now on preloads it (a preload failure would stall every worker's start)."""
        self._failed_runners[spec] = error
        if spec in self._runners:
            self._runners.remove(spec)

    def _load(self, link: WorkerLink, job: Job) -> str | None:
        """Make sure the worker has the runner and module proxies; returns a load error."""
        key = (job.runner, job.policy.allowed_imports)
        if key not in link.loaded:
            request = {"op": "load", "runner": job.runner, "imports": sorted(key[1])}
            (frame,) = link.request(request, self._start_timeout_s)
            reply = json.loads(frame)
            if reply["error"] is not None:
                return reply["error"]
            link.loaded[key] = reply["version"]
        return None

    def _compile(self, link: WorkerLink, job: Job) -> tuple[bytes, str]:
        cached = self._compiled.get(job.code)
        if cached is not None:
            self._compiled.move_to_end(job.code)
            return cached
        timeout = job.policy.time_limit_s + BACKSTOP_GRACE_S
        header, body = link.request({"op": "compile", "code": job.code}, timeout, frames=2)
        cached = body, json.loads(header)["error"] or ""
        self._compiled[job.code] = cached
        if len(self._compiled) > COMPILE_CACHE_SIZE:
            self._compiled.popitem(last=False)
        return cached

    def _spare_for(self, link: WorkerLink, job: Job) -> Spare | None:
        """The link's waiting child if it has what ``job`` needs; else ask for one (None)."""
        needed = link.loaded[(job.runner, job.policy.allowed_imports)]
        spare = link.spare
        if spare is not None and (spare.version < needed or _has_exited(spare)):
            link.spare = None  # forked before the runner was loaded, or died while waiting
            link.discard(spare)  # (killed from outside): it never gets a job
        if link.spare is None:
            if link.requested_at is None:
                self._ask_for_spare(link)
            return None
        spare, link.spare = link.spare, None
        return spare

    def _ask_for_spare(self, link: WorkerLink, done_pid: int | None = None) -> None:
        try:
            link.ask_for_spare(done_pid)
        except WorkerGone:
            self._worker_died(link)

    def _launch(self, link: WorkerLink, spare: Spare, batch: _Batch, bundle: list[int],
                code: bytes, prepare_s: float) -> None:  # fmt: skip
        policy = batch.jobs[bundle[0]].policy
        frames = protocol.FrameBuffer(max_frame=policy.max_output_bytes + ENVELOPE_BYTES)
        running = Running(spare, deque(bundle), frames, prepare_s)
        link.running, link.last_used = running, time.monotonic()
        self._selector.register(spare.result_fd, selectors.EVENT_READ, (_CHILD, link))
        limits.run_in_foreground(spare.pid)  # it ran its setup in the background
        for index in bundle:
            if index in batch.sessions:  # a retried session starts over
                batch.sessions[index].session.driver.restart()
        self._arm(running, batch, bundle[0])
        try:
            protocol.write_all(spare.job_fd, batch.frames(bundle, code))
        except OSError:
            pass  # the child died before reading; the EOF on its result pipe reports it
        os.set_blocking(spare.job_fd, False)  # replies to a child that stopped reading fail

    @staticmethod
    def _arm(running: Running, batch: _Batch, index: int) -> None:
        """Start the clock for the job at ``index``: its time limit, or for a session its
        whole budget and, tighter, one round trip's limit."""
        running.arm(batch.jobs[index].policy.time_limit_s)
        state = batch.sessions.get(index)
        if state is not None:
            state.start(time.monotonic())
            running.deadline = state.deadline

    # events ------------------------------------------------------------------------------
    def _next_deadline(self) -> float:
        busy = [link.running.deadline for link in self._links if link.running is not None]
        return min(busy) if busy else time.monotonic() + self._start_timeout_s

    def _pump(self, deadline: float) -> None:
        """Wait for worker or child output until ``deadline`` and handle whatever arrives."""
        timeout = max(0.0, deadline - time.monotonic())
        for key, _ in self._selector.select(timeout):
            kind, link = key.data
            if link not in self._links:
                continue  # retired earlier in this round
            if kind == _CHILD:
                running = link.running
                if running is not None and running.spare.result_fd == key.fd:
                    self._on_child_output(link, running)
            elif kind == _SPARES:
                try:
                    link.receive_spare()
                except WorkerGone:
                    self._worker_died(link)
            else:
                self._on_worker_output(link)

    def _on_worker_output(self, link: WorkerLink) -> None:
        """The hello at start; anything later is a protocol error, EOF a death."""
        try:
            link.read_output()
        except WorkerGone:
            self._worker_died(link)
            return
        while link.replies:
            frame = link.replies.popleft()
            if link.ready:
                self._worker_died(link)  # a reply nobody asked for: start afresh
                return
            hello = json.loads(frame)
            link.ready = True
            self._start_failures = 0
            self._protections = self._protections or hello["protections"]
            self._ask_for_spare(link)

    def _on_child_output(self, link: WorkerLink, running: Running) -> None:
        try:
            chunk = os.read(running.spare.result_fd, protocol.READ_SIZE)
        except OSError:
            chunk = b""
        if not chunk:
            self._on_child_exit(link, running)
            return
        batch = self._batch
        try:
            frames = running.frames.feed(chunk)
        except ValueError:
            self._child_failed(link, Outcome.OUTPUT_TOO_LARGE, "the child wrote too much")
            return
        for frame in frames:
            if not running.indices:
                break  # more results than jobs: the rest is ignored
            state = batch.sessions.get(running.indices[0])
            if state is not None and frame.startswith(b'{"step"'):
                if not self._on_step(link, running, state, frame):
                    return  # the session ended badly; the child is gone
                continue
            index = running.indices.popleft()
            policy = batch.jobs[index].policy
            batch.results[index] = _result_from(frame, policy, running.timings())
            if running.indices:
                self._arm(running, batch, running.indices[0])
        if not running.indices:
            self._child_done(link)

    def _on_step(self, link: WorkerLink, running: Running, state: SessionState,
                 frame: bytes) -> bool:  # fmt: skip
        """One round trip of a session: the driver reads the answers and sends the next
        views. False when the session had to end here (the child was failed)."""
        answers = parse_answers(frame)
        if answers is None:
            self._child_failed(link, Outcome.CRASHED, "malformed step from the sandbox")
            return False
        state.end_turn(time.monotonic())
        started = time.perf_counter()
        try:
            views = state.session.driver.advance(answers)
            reply = _encode_views(views, check=state.steps < CHECKED_ROUND_TRIPS)
        except Exception as exc:  # the task's own code (view, codec, env) failed
            message = f"the task's game code failed: {str(exc)[:500]}"
            self._child_failed(link, Outcome.TASK_ERROR, message)
            return False
        state.steps += 1
        state.reply_s += time.perf_counter() - started
        try:
            protocol.write_all(running.spare.job_fd, protocol.encode_frame(reply))
        except BlockingIOError:
            self._child_failed(link, Outcome.CRASHED, "the child stopped reading its views")
            return False
        except OSError:
            pass  # the child died; the EOF on its result pipe reports it
        state.give_turn(time.monotonic())
        running.deadline = state.deadline
        return True

    def _on_child_exit(self, link: WorkerLink, running: Running) -> None:
        """EOF from a child: fine once every job is answered, otherwise a failure."""
        if not running.indices:
            self._child_done(link)
            return
        running.spare.kill()
        try:
            (frame,) = link.request({"op": "wait", "pid": running.spare.pid}, BACKSTOP_GRACE_S)
        except WorkerGone:
            self._worker_died(link)  # its children die with it: retried elsewhere
            return
        status = json.loads(frame)["status"]
        index = running.indices[0]
        if _killed_from_outside(status) and index not in self._batch.retried:
            self._batch.retried.add(index)
            self._batch.queue.appendleft(list(running.indices))
            running.indices.clear()
            self._child_done(link, reaped=True)
            return
        outcome, message = _failure(status)
        if _killed_from_outside(status):
            outcome, message = Outcome.INFRA_ERROR, "the sandbox child was killed twice from outside"
        self._child_failed(link, outcome, message, reaped=True)

    def _child_failed(self, link: WorkerLink, outcome: Outcome, message: str,
                      reaped: bool = False) -> None:  # fmt: skip
        """The job the child was on gets ``outcome``; the rest of its bundle is requeued."""
        running, batch = link.running, self._batch
        index = running.indices.popleft()
        batch.results[index] = SandboxResult(outcome, message, None, running.timings())
        if running.indices:
            batch.queue.appendleft(list(running.indices))
            running.indices.clear()
        self._child_done(link, reaped)

    def _child_done(self, link: WorkerLink, reaped: bool = False) -> None:
        """Close the pool's ends of a child, make sure it is gone, and ask for the next one
        now that the call has been answered (forking earlier would compete with it)."""
        spare = link.running.spare
        link.running = None
        self._selector.unregister(spare.result_fd)
        spare.kill()
        spare.close()
        done_pid = None if reaped else spare.pid
        if link.spare is None and link.requested_at is None:
            self._ask_for_spare(link, done_pid)
        elif done_pid is not None:
            link.discard(spare)  # only to have the worker reap it

    def _abandon_running(self) -> None:
        for link in list(self._links):
            if link.running is not None:
                link.running.indices.clear()
                try:
                    self._child_done(link)
                except Exception:  # already unwinding; the next batch replaces what broke
                    pass

    def _worker_died(self, link: WorkerLink) -> None:
        """A jailed child cannot kill its worker, so this is outside interference: each job
        in flight is retried once on another worker, then reported as infra_error."""
        if link not in self._links:
            return
        batch, running = self._batch, link.running
        if running is not None and batch is not None:
            retry = []
            for index in running.indices:
                if index in batch.retried:
                    message = "sandbox worker died twice (retried once)"
                    batch.results[index] = SandboxResult(
                        Outcome.INFRA_ERROR, message, None, running.timings()
                    )
                else:
                    batch.retried.add(index)
                    retry.append(index)
            if retry:
                batch.queue.appendleft(retry)
            running.indices.clear()
        self._retire(link)

    def _lost(self, link: WorkerLink, batch: _Batch, gone: WorkerGone) -> None:
        """The worker died or hung while preparing the bundle at the head of the queue."""
        bundle = batch.queue.popleft()
        if gone.stuck:
            limit = batch.jobs[bundle[0]].policy.time_limit_s
            message = f"worker unresponsive past {limit} s; replaced"
            batch.fail(bundle[:1], Outcome.TIMEOUT, message, {})
            if bundle[1:]:
                batch.queue.appendleft(bundle[1:])
            self._retire(link)
            return
        retry = [i for i in bundle if i not in batch.retried]
        batch.fail([i for i in bundle if i in batch.retried], Outcome.INFRA_ERROR,
                   "sandbox worker died twice (retried once)", {})  # fmt: skip
        batch.retried.update(retry)
        if retry:
            batch.queue.appendleft(retry)
        self._retire(link)

    def _enforce_deadlines(self, batch: _Batch) -> None:
        now = time.monotonic()
        for link in list(self._links):
            running = link.running
            if running is not None and now >= running.deadline:
                if now < running.deadline + BACKSTOP_GRACE_S and _has_output(running.spare):
                    continue  # it answered while the pool was busy: read that first
                running.spare.kill()
                self._child_failed(link, Outcome.TIMEOUT, _timeout_message(batch, running))
            elif link.requested_at is not None and now > link.requested_at + self._start_timeout_s:
                self._retire(link)  # asked for a child long ago and never got one
