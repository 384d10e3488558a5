"""The pool's side of one worker: its process, the pipes for requests and replies, the socket
on which it hands over pre-forked children, and the child running a bundle for the pool.

A spare child arrives as a pid, its job pipe (write end), its result pipe (read end) and a
pidfd, so the pool can signal it without racing pid reuse. The pool writes the job straight to
the child and reads its result straight back; the worker is not on the call's path.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from strategy_gym.sandbox import protocol


class WorkerGone(Exception):
    """The worker died (``stuck`` False) or did not answer in time (``stuck`` True)."""

    def __init__(self, stuck: bool = False) -> None:
        super().__init__("sandbox worker stopped answering" if stuck else "sandbox worker died")
        self.stuck = stuck


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


@dataclass(eq=False)
class Spare:
    """A forked, jailed child waiting for its job."""

    pid: int
    job_fd: int
    result_fd: int
    pidfd: int
    version: int  # the worker's version when it forked this child
    closed: bool = False

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass  # already gone

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            for fd in (self.job_fd, self.result_fd, self.pidfd):
                _close(fd)


@dataclass(eq=False)
class Running:
    """A child running a bundle: jobs not yet answered, its output so far, its deadline."""

    spare: Spare
    indices: deque[int]
    frames: protocol.FrameBuffer
    prepare_s: float  # loading and compiling before the bundle started
    sent_at: float = field(default_factory=time.perf_counter)
    started: float = 0.0
    deadline: float = float("inf")

    def arm(self, time_limit_s: float) -> None:
        """Start the clock for the next job of the bundle."""
        self.started = time.perf_counter()
        self.deadline = time.monotonic() + time_limit_s

    def timings(self) -> dict[str, float]:
        now = time.perf_counter()
        return {"compile_s": self.prepare_s, "run_s": now - self.started,
                "total_s": now - self.sent_at}  # fmt: skip


@dataclass(eq=False)
class WorkerLink:
    proc: subprocess.Popen
    sock: socket.socket  # the pool's end of the worker's SOCK_SEQPACKET socket
    frames: protocol.FrameBuffer = field(default_factory=protocol.FrameBuffer)
    replies: deque[bytes] = field(default_factory=deque)
    ready: bool = False
    # (runner, allowed imports) -> the worker's version once it had them loaded
    loaded: dict[tuple[str, frozenset[str]], int] = field(default_factory=dict)
    spare: Spare | None = None
    requested_at: float | None = None  # when the spare on its way was asked for
    running: Running | None = None
    last_used: float = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def out_fd(self) -> int:
        return self.proc.stdout.fileno()

    # requests ------------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        try:
            protocol.write_all(self.proc.stdin.fileno(), protocol.encode_json(message))
        except OSError:
            raise WorkerGone() from None

    def request(self, message: dict[str, Any], timeout_s: float, frames: int = 1) -> list[bytes]:
        """Send a request and wait for its reply (``frames`` frames)."""
        self.send(message)
        deadline = time.monotonic() + timeout_s
        while len(self.replies) < frames:
            self.read_output(deadline)
        return [self.replies.popleft() for _ in range(frames)]

    def read_output(self, deadline: float | None = None) -> None:
        """Read what the worker wrote on its stdout into ``replies``; EOF means it died."""
        if deadline is not None:
            remaining = max(0.0, deadline - time.monotonic())
            if not select.select([self.out_fd], [], [], remaining)[0]:
                raise WorkerGone(stuck=True)
        try:
            chunk = os.read(self.out_fd, protocol.READ_SIZE)
        except OSError:
            chunk = b""
        if not chunk:
            raise WorkerGone()
        self.replies.extend(self.frames.feed(chunk))

    def ask_for_spare(self, done_pid: int | None = None) -> None:
        """Have the worker fork the next child (and reap ``done_pid`` once it has exited)."""
        try:
            self.sock.send(protocol.SPARE_REQUEST.pack(done_pid or 0))
        except OSError:
            raise WorkerGone() from None
        self.requested_at = time.monotonic()

    def receive_spare(self) -> None:
        """Take the child the worker handed over on the socket."""
        size = protocol.SPARE_HANDOVER.size
        try:
            message, fds, flags, _ = socket.recv_fds(self.sock, size, 3)
        except OSError:
            message, fds, flags = b"", [], 0
        if len(message) != size or len(fds) != 3 or flags & socket.MSG_CTRUNC:
            for fd in fds:
                _close(fd)
            raise WorkerGone()
        pid, version = protocol.SPARE_HANDOVER.unpack(message)
        spare = Spare(pid, *fds, version=version)
        if self.spare is not None:  # never expected; keep one, discard the other
            self.discard(spare)
            return
        self.spare, self.requested_at = spare, None

    def discard(self, spare: Spare) -> None:
        """Kill a child the pool will not use (the worker reaps it)."""
        spare.kill()
        spare.close()
        try:
            self.send({"op": "done", "pid": spare.pid})
        except WorkerGone:
            pass  # its children die with it

    # shutdown ------------------------------------------------------------------------------
    def close_children(self) -> None:
        for spare in (self.spare, self.running.spare if self.running else None):
            if spare is not None:
                spare.kill()
                spare.close()
        self.spare = None
        self.running = None

    def close_streams(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.sock):
            try:
                stream.close()
            except OSError:
                pass

    def kill(self) -> None:
        """SIGKILL the worker's whole session (its children included) and wait for it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def shutdown(links: list[WorkerLink]) -> None:
    """Close every worker: EOF first (it kills and reaps its children), SIGKILL if it lingers."""
    for link in links:
        link.close_children()
        link.close_streams()
    for link in links:
        try:
            link.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            pass
        link.kill()
    links.clear()
