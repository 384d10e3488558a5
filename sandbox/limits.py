"""Operating-system walls around model code: namespaces, resource limits, privilege drop.

``enter_network_namespace`` runs once per worker (as root, before anything untrusted), and so
does ``walls.install`` (the worker's part of the kernel walls: see sandbox/walls.py).
A pre-forked child calls ``lock_down`` while it waits for its job (everything that does not
depend on the job: its own IPC namespace, descriptors, cwd, privilege drop to a uid of its
own, Landlock and seccomp, no new processes) and ``limit_job`` once the job has arrived (CPU
seconds and address space; only lowering, allowed unprivileged).
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import pwd
import resource
import signal
from collections.abc import Callable

from strategy_gym.sandbox import walls

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
MAX_OPEN_FILES = 16
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


@functools.cache
def _prctl_function() -> Callable[..., int] | None:
    libc = _libc()
    return None if libc is None else libc.prctl


def _prctl(option: int, value: int) -> bool:
    prctl = _prctl_function()
    return prctl is not None and prctl(option, value, 0, 0, 0) == 0


def resolve_before_fork() -> None:
    """Look up the libc functions children call, once in the worker: resolving them in every
    child costs it a few hundred microseconds of copy-on-write faults."""
    _prctl_function()


def enter_network_namespace() -> bool:
    """Move this process into a fresh network namespace (only loopback, down). Root only."""
    libc = _libc()
    return libc is not None and libc.unshare(CLONE_NEWNET) == 0


def run_in_background() -> bool:
    """SCHED_BATCH for this process and the children it forks: a fair share of the CPU, but
    never preempting the pool or a child running a call when it wakes up."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        return False
    return True


def run_in_foreground(pid: int) -> None:
    """Normal scheduling for a child that is about to run a call (best effort)."""
    try:
        os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def unprivileged_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def address_space_bytes() -> int:
    """This process's current virtual size (first field of /proc/self/statm, in pages).

    Plain descriptor calls, no file object: the worker reads this before every fork."""
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    try:
        pages = int(os.read(fd, 256).split()[0])
    finally:
        os.close(fd)
    return pages * _PAGE_SIZE


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process when its parent (the worker) goes away."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    installed = walls.current()
    alive = installed.parent_alive(parent_pid) if installed else os.getppid() == parent_pid
    if not alive:  # the parent died between fork and prctl
        os._exit(1)


def _keep_only(fds: tuple[int, ...]) -> None:
    """Standard streams to /dev/null; every other descriptor but ``fds`` closed."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    low = 3
    for fd in sorted(fds):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        raise PermissionError("privilege drop did not take effect")


def lock_down(cwd: str, drop_to: tuple[int, int] | None, keep_fds: tuple[int, ...]) -> None:
    """Everything job-independent. Raises if a mandatory step fails (the caller fails closed).

    ``drop_to`` None: stay as we are (not root). Otherwise drop to the child's own uid when
    the worker installed walls that give one, else to ``drop_to``."""
    installed = walls.current()
    if installed is not None:
        installed.isolate()  # needs root: before the drop
    _keep_only(keep_fds + (installed.kept_fds() if installed else ()))
    os.chdir(cwd)
    os.umask(0o777)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
    ids = installed.child_ids(drop_to) if installed else drop_to
    if ids is not None:
        _drop_privileges(*ids)
    if not _prctl(PR_SET_NO_NEW_PRIVS, 1) and installed is not None:
        raise PermissionError("no_new_privs refused: Landlock and seccomp need it")
    _prctl(PR_SET_DUMPABLE, 0)
    if installed is not None:
        installed.seal()  # Landlock, then seccomp: unprivileged, after no_new_privs
    # Binding once we are not root (root ignores it): no fork, no threads.
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def limit_job(time_limit_s: float, address_space: int) -> None:
    """CPU seconds (a backstop: the worker's wall-clock deadline comes first) and memory."""
    cpu = math.ceil(time_limit_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
