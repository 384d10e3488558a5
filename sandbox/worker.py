"""The worker process: a trusted, long-lived fork server for jailed children.

Started by the pool with a scrubbed environment in its own session. It imports runners (as
root, before any limits), compiles code for the pool and, on request, forks one child, which
locks itself down while it waits for a job. The child's job pipe, result pipe and a pidfd go to
the pool over a Unix socket (Linux >= 5.3): a call then travels pool -> child -> pool without
waking the worker, so the worker's own work (forking, and the copy-on-write faults it takes
after each fork) stays off the call's path. The worker reaps its children (only once the pool
is done with them, so a pid it handed over cannot be reused meanwhile) and reports the exit
status of those that fail; it never reads what a child writes. Only JSON (and the marshalled
code it compiled) goes to the pool.
"""

from __future__ import annotations

import gc
import importlib
import json
import marshal
import os
import select
import signal
import socket
import sys
import types
from collections.abc import Callable
from typing import Any

from strategy_gym.sandbox import child, limits, protocol, restricted, walls
from strategy_gym.sandbox.policy import parse_runner

REAP_POLL_S = 0.005  # how often exited children are collected while the worker is idle


class Worker:
    def __init__(self, config: dict) -> None:
        self.cwd = config["cwd"]
        self.proto_in, self.proto_out = self._claim_protocol_fds()
        self.spares = socket.socket(fileno=config["spares_fd"])  # SOCK_SEQPACKET to the pool
        self.network_isolated = limits.enter_network_namespace()
        # before any runner is imported: the walls hold whatever a runner loads later
        self.walls = walls.install(self.cwd, walls.interpreter_paths())
        limits.resolve_before_fork()
        limits.run_in_background()  # forking and lockdown are off the calls' path
        self.drop_to = limits.unprivileged_ids() if os.geteuid() == 0 else None
        self.runners: dict[str, Callable[..., Any]] = {}
        self.runner_errors: dict[str, str] = {}
        self.proxies: dict[frozenset[str], dict[str, types.SimpleNamespace]] = {}
        self.version = 0  # bumped whenever what a child inherits changes
        self.prepared: child.Prepared | None = None
        self.children: set[int] = set()  # forked and not yet reaped
        self.exited: list[int] = []  # handed back by the pool: reap once they are gone
        self.warmup_code = marshal.dumps(restricted.compile_code(child.WARMUP_SOURCE)[0])
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
        per_child = self.drop_to is not None and self.walls.uid_per_child
        return {
            "process_per_call": True,
            "privilege_drop": self.drop_to is not None,
            # with uid_per_child, the first uid of the block each child gets its own uid from
            "run_as_uid": walls.UID_BASE if per_child else (self.drop_to or (os.geteuid(),))[0],
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
            "module_allowlist": True,
            **self.walls.report(),
        }

    # what children inherit ----------------------------------------------------------------
    def load_runner(self, spec: str) -> Callable[..., Any] | None:
        if spec in self.runners or spec in self.runner_errors:
            return self.runners.get(spec)
        self._changed()
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
            self._changed()
            self.proxies[key] = restricted.build_module_proxies(key)
            restricted.builtins_for(self.proxies[key])  # built once here, copied per call
        return self.proxies[key]

    def _changed(self) -> None:
        self.version += 1
        self.prepared = None

    # requests from the pool ---------------------------------------------------------------
    def load(self, request: dict) -> dict:
        """Import a runner and build module proxies; children forked from now on have them."""
        self.proxies_for(request["imports"])
        self.load_runner(request["runner"])
        return {"version": self.version, "error": self.runner_errors.get(request["runner"])}

    def compile(self, request: dict) -> tuple[dict, bytes]:
        """RestrictedPython compile; the pool caches the marshalled code and hands it to the
        children it runs (it never unmarshals it)."""
        code, error = restricted.compile_code(request["code"])
        return {"error": error or None}, marshal.dumps(code) if code is not None else b""

    def fork_spare(self) -> None:
        """Fork a child that locks itself down and waits; its pipes go to the pool."""
        if self.prepared is None:
            namespaces = {key: child.unused_namespace(p) for key, p in self.proxies.items()}
            self.prepared = child.Prepared(
                self.runners, self.proxies, self.cwd, self.drop_to, self.warmup_code, namespaces
            )
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        worker_pid = os.getpid()
        base_size = limits.address_space_bytes()
        gc.freeze()  # keep the collector from touching (and copying) inherited objects
        self.walls.before_fork()  # the child gets a PID namespace of its own
        pid = -1
        try:
            pid = os.fork()
            if pid == 0:
                os.close(job_write)
                os.close(result_read)
                child.spare_main(self.prepared, job_read, result_write, worker_pid, base_size)
        finally:
            if pid != 0:
                self.walls.after_fork()
        # Each page written from here on costs a copy-on-write fault: keep this short.
        os.close(job_read)
        os.close(result_write)
        pidfd = os.pidfd_open(pid)
        self.children.add(pid)
        try:
            fds = protocol.HANDOVER_FDS.pack(job_write, result_read, pidfd)
            self.spares.sendmsg([protocol.SPARE_HANDOVER.pack(pid, self.version)],
                                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])  # fmt: skip
        finally:
            os.close(job_write)
            os.close(result_read)
            os.close(pidfd)

    def wait(self, pid: int) -> dict:
        """The exit status of a child the pool has killed or seen fail (it is gone or going)."""
        if pid not in self.children:
            return {"status": None}
        self.children.discard(pid)
        return {"status": os.waitpid(pid, 0)[1]}

    def _reap_exited(self) -> None:
        """Collect children that have finished exiting, without waiting for the others
        (tearing down a process takes a while; nobody should wait for it)."""
        still_exiting = []
        for pid in self.exited:
            if pid not in self.children:
                continue
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                still_exiting.append(pid)
            else:
                self.children.discard(pid)
        self.exited = still_exiting

    def _reply(self, header: dict, body: bytes | None = None) -> None:
        frames = protocol.encode_json(header)
        if body is not None:
            frames += protocol.encode_frame(body)
        protocol.write_all(self.proto_out, frames)

    def serve(self) -> None:
        """Answer requests (JSON frames on stdin) and fork a child whenever the pool asks for
        one on the socket, reaping exited children while idle, until the pool goes away."""
        self._reply({"ready": True, "pid": os.getpid(), "protections": self.protections()})
        sources = [self.proto_in, self.spares.fileno()]
        try:
            while True:
                timeout = REAP_POLL_S if self.exited else None
                ready = select.select(sources, [], [], timeout)[0]
                if not ready:
                    self._reap_exited()
                elif self.spares.fileno() in ready and not self._on_spare_request():
                    break
                elif self.proto_in in ready and not self._on_request():
                    break
        except (BrokenPipeError, ConnectionError):
            pass  # the pool went away mid-reply: shut down as on EOF
        self._stop_children()

    def _on_spare_request(self) -> bool:
        data = self.spares.recv(protocol.SPARE_REQUEST.size)
        if not data:
            return False
        (done,) = protocol.SPARE_REQUEST.unpack(data)
        if done:
            self.exited.append(done)
        self._reap_exited()
        self.fork_spare()
        return True

    def _on_request(self) -> bool:
        try:
            request = json.loads(protocol.read_frame(self.proto_in))
        except EOFError:
            return False
        op = request["op"]
        if op == "done":
            self.exited.append(request["pid"])
        elif op == "wait":
            self._reply(self.wait(request["pid"]))
        elif op == "load":
            self._reply(self.load(request))
        elif op == "compile":
            self._reply(*self.compile(request))
        return True

    def _stop_children(self) -> None:
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.children:
            os.waitpid(pid, 0)
        self.children.clear()


def main(argv: list[str]) -> None:
    Worker(json.loads(argv[1])).serve()


if __name__ == "__main__":
    main(sys.argv)
