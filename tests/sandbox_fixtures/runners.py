"""Trusted test runners. They execute inside the sandbox child exactly where model code runs,
so what they can and cannot do is what an escaped program could and could not do."""

from __future__ import annotations

import os
import resource
import socket
import threading
from collections.abc import Callable
from typing import Any

from strategy_gym.sandbox import walls


def whoami(fn: Callable[..., Any], payload: dict) -> dict:
    """Report the child's identity and limits, after calling the model's function once."""
    return {
        "returned": fn(),
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "cwd": os.getcwd(),
        "cwd_listing": os.listdir("."),
        "env": sorted(os.environ),
        # as the host sees them: in its own PID namespace the child is pid 1 with ppid 0
        "pid": walls.host_view()[0],
        "ppid": walls.host_view()[1],
        "ns_pid": os.getpid(),
        "rlimits": {
            name: list(resource.getrlimit(getattr(resource, f"RLIMIT_{name.upper()}")))
            for name in ("as", "cpu", "nproc", "fsize", "nofile", "core")
        },
    }


def _write(path: str) -> None:
    with open(path, "w") as handle:
        handle.write("pwned")


def _read(path: str) -> None:
    with open(path) as handle:
        handle.read()


def _connect(address: str) -> None:
    host, port = address.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        sock.connect((host, int(port)))  # a numeric address: no name lookup needed


def _fork(_: str) -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _thread(_: str) -> None:
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()


def _open_many(_: str) -> None:
    handles = [open(os.devnull) for _ in range(64)]
    for handle in handles:
        handle.close()


def _become_root(_: str) -> None:
    os.setuid(0)


def _kill_worker(_: str) -> None:
    os.kill(os.getppid(), 9)


def _kill_pid(pid: str) -> None:
    os.kill(int(pid), 9)


def _allocate(megabytes: str) -> None:
    bytearray(int(megabytes) * 2**20)


ATTEMPTS: dict[str, Callable[[str], None]] = {
    "write": _write, "read": _read, "connect": _connect, "fork": _fork, "thread": _thread,
    "open_many": _open_many, "become_root": _become_root, "kill_worker": _kill_worker,
    "kill_pid": _kill_pid, "allocate": _allocate,
}  # fmt: skip


def attempt(fn: Callable[..., Any], payload: dict) -> dict:
    """Try one privileged action named in the payload; report whether it worked."""
    fn()
    try:
        ATTEMPTS[payload["action"]](payload.get("arg", ""))
    except (OSError, MemoryError, RuntimeError) as exc:
        return {"succeeded": False, "error": type(exc).__name__, "errno": getattr(exc, "errno", None)}
    return {"succeeded": True, "error": None, "errno": None}


def abort(fn: Callable[..., Any], payload: dict) -> None:
    """Die by a signal, as a segfaulting extension would."""
    fn()
    os.abort()


def echo_board(fn: Callable[..., Any], payload: dict) -> Any:
    """Call fn(board) once with the payload's board (a stand-in game turn)."""
    return fn(payload["board"])


def escaped(fn: Callable[..., Any], payload: dict) -> Any:
    """Run ``payload["script"]`` as plain, trusted Python after lock-down: what code that got
    out of RestrictedPython could do, and only the kernel walls stand in its way. The script
    sets ``result`` (plain data)."""
    fn()
    scope: dict[str, Any] = {"payload": payload}
    exec(payload["script"], scope)  # noqa: S102 - test-only, trusted input
    return scope.get("result")


# What hostile strategies try to reach: a secret in the runner's frame and module globals.
SECRET = "seed-5eb1c0ffee"


def holds_secret(fn: Callable[..., Any], payload: dict) -> Any:
    """Call fn(board) with a secret in this frame (as a game runner holds its seed)."""
    secret = {"seed": SECRET, "board": payload["board"]}
    return fn(secret["board"])
