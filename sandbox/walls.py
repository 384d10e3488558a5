"""Kernel walls between each jailed child, its siblings and the host.

The worker calls ``install`` once, as root, before it imports anything untrusted; it probes
each mechanism and prepares what children only have to switch on:

- a mount namespace of the worker's own (private propagation, so nothing reaches the host)
  with a fresh ``/proc`` that hides other users' processes and an empty read-only ``/dev/shm``;
- a Landlock ruleset: read-only access beneath the interpreter's paths, nothing else (no
  writes anywhere, no TCP, no signals or abstract sockets outside the child's own domain);
- a seccomp program compiled by libseccomp (``pyseccomp``) in a throwaway helper process, so
  the worker never loads ``threading`` (which ``ctypes.util`` pulls in); children load the
  ready BPF program with one ``prctl``.

Around each fork the worker gives the child a PID namespace of its own (``before_fork`` /
``after_fork``): the child is pid 1 there and can name no other process. The child, still
root, calls ``isolate`` (its own IPC namespace; its uid ``UID_BASE + host pid``, unique among
live processes, mapping to no account) and, once unprivileged, ``seal`` (Landlock domain,
seccomp filter). ``limits.lock_down`` runs both, so the child's code does not change.

Every step either works or raises: a child whose walls failed never runs model code (the
caller fails closed). A mechanism the kernel lacks is probed at ``install``, left out and
reported in ``report()`` (the pool's ``protections()``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2

# uids of children: UID_BASE + the child's pid on the host. Pids stay below PID_LIMIT
# (PID_MAX_LIMIT on 64-bit Linux), so the block is [2**30, 2**30 + 2**22): no account,
# and far from the container sub-uid ranges (100000 + 65536 k) and systemd's dynamic users.
UID_BASE = 1 << 30
PID_LIMIT = 1 << 22

# Landlock (linux/landlock.h); the syscall numbers are the same on every architecture.
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS_READ_FILE, _FS_READ_DIR = 1 << 2, 1 << 3
# Every filesystem right each ABI version knows: handling one means denying it unless a
# rule grants it, and we grant only reading.
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_BIND_CONNECT_TCP = 0b11  # ABI 4
_SCOPE_ABSTRACT_UNIX_AND_SIGNAL = 0b11  # ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]  # fmt: skip


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


# Syscalls a child never needs and an escaped one could use against its siblings or the
# host. A denylist, not an allowlist: the runners (numpy, numba) use a wide, changing set of
# syscalls, and the layers above already refuse what this list is the backstop for.
DENIED_SYSCALLS = (
    # other processes: see, signal, trace, read their memory
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open",
    "pidfd_send_signal", "pidfd_getfd", "ptrace", "process_vm_readv", "process_vm_writev",
    "process_madvise", "kcmp",
    # new programs and processes (RLIMIT_NPROC is the other wall)
    "execve", "execveat", "fork", "vfork", "clone", "clone3",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "name_to_handle_at", "open_by_handle_at",
    # identity (no capabilities are left, this is a backstop)
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid", "capset",
    # kernel attack surface no strategy needs
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot", "acct", "syslog",
    "personality", "quotactl", "swapon", "swapoff", "iopl", "ioperm", "modify_ldt",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname", "vhangup",
)  # fmt: skip
# Sockets: the network namespace has no route out, but AF_UNIX abstract sockets would let
# siblings of one worker talk. EAFNOSUPPORT: "no such address family here".
DENIED_SOCKET_SYSCALLS = ("socket", "socketpair")
# SysV and POSIX message-queue IPC: private to the child in its IPC namespace; denied only
# when the kernel gave no namespace.
IPC_SYSCALLS = (
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop",
    "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr",
)  # fmt: skip
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C  # push input into a terminal


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


@dataclass
class Walls:
    """What the worker prepared; children inherit it through the fork."""

    libc: ctypes.CDLL
    pid_namespace: bool = False
    ipc_namespace: bool = False
    mount_namespace: bool = False
    proc_hidepid: bool = False
    private_dev_shm: bool = False
    uid_per_child: bool = False
    landlock_abi: int = 0
    seccomp: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    own_pid_ns: int = -1  # the worker's PID namespace, to return to after each fork
    worker_pidfd: int = -1  # lets a child in its own PID namespace see the worker die
    ruleset_fd: int = -1
    worker_pid: int = 0
    host_pid: int = 0  # in a child: its pid as the host sees it
    _program: Any = None  # (buffer, sock_fprog) of the seccomp filter
    _functions: dict[str, Any] = field(default_factory=dict)

    def call(self, name: str, *args: Any) -> int:
        """A libc function resolved in the worker (resolving it in a child costs faults)."""
        return self._functions[name](*args)

    # around each fork (worker) --------------------------------------------------------------
    def before_fork(self) -> None:
        """The next child gets a PID namespace of its own (it will be its pid 1)."""
        if self.pid_namespace:
            _check(self.call("unshare", CLONE_NEWPID), "unshare(CLONE_NEWPID)")

    def after_fork(self) -> None:
        """Back to the worker's own namespace for its next children (unshare refuses to
        nest a second one otherwise)."""
        if self.pid_namespace:
            _check(self.call("setns", self.own_pid_ns, CLONE_NEWPID), "setns(pid)")

    # in the child ---------------------------------------------------------------------------
    def parent_alive(self, parent_pid: int) -> bool:
        """In its own PID namespace getppid() is 0; the worker's pidfd says it exited."""
        if self.pid_namespace and self.worker_pidfd >= 0:
            return not select.select([self.worker_pidfd], [], [], 0)[0]
        return os.getppid() == parent_pid

    def isolate(self) -> None:
        """Still root: an IPC namespace of its own (its SysV objects and message queues die
        with it) and the host pid its uid is derived from."""
        if self.ipc_namespace:
            _check(self.call("unshare", CLONE_NEWIPC), "unshare(CLONE_NEWIPC)")
        if self.uid_per_child:
            # /proc here is the worker's instance, of the host's PID namespace
            self.host_pid = int(os.readlink("/proc/self"))
            if not 0 < self.host_pid < PID_LIMIT:
                raise OSError(errno.ERANGE, f"host pid {self.host_pid} outside the uid block")

    def child_ids(self, fallback: tuple[int, int] | None) -> tuple[int, int] | None:
        """The uid and gid to drop to: this child's own, or ``fallback`` (nobody)."""
        if fallback is None or not self.uid_per_child:
            return fallback
        return UID_BASE + self.host_pid, UID_BASE + self.host_pid

    def kept_fds(self) -> tuple[int, ...]:
        return (self.ruleset_fd,) if self.ruleset_fd >= 0 else ()

    def seal(self) -> None:
        """Unprivileged, with no_new_privs set: enter a Landlock domain of its own, then the
        seccomp filter (last: it denies calls the steps before need)."""
        if self.ruleset_fd >= 0:
            _check(self.call("syscall", _LANDLOCK_RESTRICT_SELF, self.ruleset_fd, 0),
                   "landlock_restrict_self")  # fmt: skip
            os.close(self.ruleset_fd)
            self.ruleset_fd = -1
        if self._program is not None:
            _check(self.call("prctl", PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                             ctypes.byref(self._program[1]), 0, 0), "seccomp")  # fmt: skip

    def report(self) -> dict[str, Any]:
        return {
            "pid_namespace_per_child": self.pid_namespace,
            "ipc_namespace_per_child": self.ipc_namespace,
            "mount_namespace": self.mount_namespace,
            "proc_hides_other_users": self.proc_hidepid,
            "dev_shm_read_only": self.private_dev_shm,
            "uid_per_child": self.uid_per_child,
            "uid_range": [UID_BASE, UID_BASE + PID_LIMIT] if self.uid_per_child else None,
            "landlock": self.landlock_abi > 0,
            "landlock_abi": self.landlock_abi,
            "seccomp": self.seccomp,
            "walls_unavailable": dict(self.errors),
        }


_ACTIVE: Walls | None = None


def current() -> Walls | None:
    """The walls the worker installed (inherited by its children), or None."""
    return _ACTIVE


def host_view() -> tuple[int, int]:
    """This process's pid and its parent's as the host sees them (getpid() is 1 and
    getppid() 0 inside a child's own PID namespace)."""
    walls = _ACTIVE
    if walls is not None and walls.host_pid and walls.pid_namespace:
        return walls.host_pid, walls.worker_pid
    return os.getpid(), os.getppid()


# install (worker, once, as root) ------------------------------------------------------------
def install(cwd: str, read_paths: Iterable[str]) -> Walls:
    """Probe and prepare every wall; what the kernel refuses is recorded, not fatal."""
    global _ACTIVE
    walls = Walls(_libc(), worker_pid=os.getpid())
    for name in ("unshare", "setns", "mount", "syscall", "prctl"):
        walls._functions[name] = getattr(walls.libc, name)
    if os.geteuid() == 0:
        _try(walls, "mount_namespace", _private_mounts)
        _try(walls, "pid_namespace", _probe_pid_namespace)
        _try(walls, "ipc_namespace", _probe_ipc_namespace)
        walls.uid_per_child = _readable_proc()
        if not walls.uid_per_child:
            walls.errors["uid_per_child"] = "/proc/self unreadable: children share nobody"
    _try(walls, "landlock", lambda w: _landlock_ruleset(w, [cwd, *read_paths]))
    _try(walls, "seccomp", _seccomp_program)
    _ACTIVE = walls
    return walls


def _try(walls: Walls, name: str, step: Any) -> None:
    try:
        step(walls)
    except (OSError, ValueError, ImportError) as exc:
        walls.errors[name] = f"{type(exc).__name__}: {exc}"


def _mount(walls: Walls, source: str | None, target: str, kind: str | None, flags: int,
           data: str | None = None) -> None:  # fmt: skip
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    result = walls.call("mount", encode(source), encode(target), encode(kind), flags, encode(data))
    _check(result, f"mount {target}")


def _private_mounts(walls: Walls) -> None:
    """The worker's own mount namespace, private (its mounts never propagate to the host),
    with a /proc that shows a non-root reader only its own processes and an empty, read-only
    /dev/shm (no POSIX shared memory or semaphores to leave behind or share)."""
    _check(walls.call("unshare", CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(walls, None, "/", None, MS_REC | MS_PRIVATE)
    walls.mount_namespace = True
    try:
        _mount(
            walls, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible"
        )
        walls.proc_hidepid = True
    except OSError as exc:
        walls.errors["proc_hides_other_users"] = str(exc)
    if os.path.isdir("/dev/shm"):
        flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        _mount(walls, "tmpfs", "/dev/shm", "tmpfs", flags, "size=4k,mode=0755")
        walls.private_dev_shm = True


def _probe_pid_namespace(walls: Walls) -> None:
    """Unshare then return at once: with no fork in between nothing lasting is created."""
    walls.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    _check(walls.call("unshare", CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    _check(walls.call("setns", walls.own_pid_ns, CLONE_NEWPID), "setns(pid)")
    walls.worker_pidfd = os.pidfd_open(os.getpid())
    walls.pid_namespace = True


def _probe_ipc_namespace(walls: Walls) -> None:
    """The worker takes one too: what probes it also keeps the host's IPC objects away from
    the worker's children even before each enters its own."""
    _check(walls.call("unshare", CLONE_NEWIPC), "unshare(CLONE_NEWIPC)")
    walls.ipc_namespace = True


def _readable_proc() -> bool:
    try:
        return int(os.readlink("/proc/self")) == os.getpid()
    except (OSError, ValueError):
        return False


def _landlock_ruleset(walls: Walls, read_paths: list[str]) -> None:
    abi = walls.call("syscall", _LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    _check(abi, "landlock ABI")
    fs_rights = _FS_RIGHTS_BY_ABI[max(v for v in _FS_RIGHTS_BY_ABI if v <= abi)]
    attr = _RulesetAttr(fs_rights, _NET_BIND_CONNECT_TCP if abi >= 4 else 0,
                        _SCOPE_ABSTRACT_UNIX_AND_SIGNAL if abi >= 6 else 0)  # fmt: skip
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct as that ABI knows it
    fd = _check(walls.call("syscall", _LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0),
                "landlock_create_ruleset")  # fmt: skip
    for path in dict.fromkeys(os.path.abspath(p) for p in read_paths if p):
        _allow_reading(walls, fd, path)
    walls.ruleset_fd, walls.landlock_abi = fd, abi


def _allow_reading(walls: Walls, ruleset_fd: int, path: str) -> None:
    try:
        target = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a sys.path entry that does not exist: nothing to read there
    try:
        is_dir = stat.S_ISDIR(os.fstat(target).st_mode)
        rule = _PathBeneath(_FS_READ_FILE | (_FS_READ_DIR if is_dir else 0), target)
        _check(walls.call("syscall", _LANDLOCK_ADD_RULE, ruleset_fd, _LANDLOCK_RULE_PATH_BENEATH,
                          ctypes.byref(rule), 0), f"landlock rule for {path}")  # fmt: skip
    finally:
        os.close(target)


def interpreter_paths() -> list[str]:
    """What the interpreter may read after lock-down: its prefixes, the standard library,
    and the import path (runners import lazily). Nothing else of the host."""
    stdlib = os.path.dirname(os.__file__)
    package = sys.modules["strategy_gym"].__path__ if "strategy_gym" in sys.modules else []
    return [sys.prefix, sys.exec_prefix, stdlib, *sys.path, *package]


# seccomp --------------------------------------------------------------------------------------
def _seccomp_program(walls: Walls) -> None:
    """libseccomp compiles the filter in a forked helper (pyseccomp pulls in threading,
    which the worker must not load); the worker keeps the BPF bytes."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # helper: never returns
        os.close(read_end)
        _export_filter(write_end, deny_ipc=not walls.ipc_namespace)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    status = os.waitpid(pid, 0)[1]
    program = b"".join(chunks)
    if status != 0 or not program or len(program) % 8:
        raise ImportError("pyseccomp/libseccomp unavailable (helper failed)")
    buffer = ctypes.create_string_buffer(program, len(program))
    walls._program = (buffer, _SockFprog(len(program) // 8, ctypes.addressof(buffer)))
    walls.seccomp = True


def _export_filter(fd: int, deny_ipc: bool) -> None:
    status = 1
    try:
        import pyseccomp as sc

        flt = sc.SyscallFilter(sc.ALLOW)  # non-native ABIs (i386, x32) are killed
        for names, action in ((DENIED_SYSCALLS, sc.ERRNO(errno.EPERM)),
                              (DENIED_SOCKET_SYSCALLS, sc.ERRNO(errno.EAFNOSUPPORT)),
                              (IPC_SYSCALLS if deny_ipc else (), sc.ERRNO(errno.EPERM))):  # fmt: skip
            for name in names:
                _deny(sc, flt, action, name)
        for request in (_TIOCSTI, _TIOCLINUX):
            # the kernel reads the request as 32 bits: compare only those
            flt.add_rule(
                sc.ERRNO(errno.EPERM), "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request)
            )
        with os.fdopen(fd, "wb", closefd=False) as sink:
            flt.export_bpf(sink)
        status = 0
    finally:
        os._exit(status)


def _deny(sc: Any, flt: Any, action: int, name: str) -> None:
    try:
        flt.add_rule(action, name)
    except (ValueError, OSError, RuntimeError):
        pass  # a syscall this architecture does not have (e.g. iopl on arm64)
