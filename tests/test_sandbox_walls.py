"""Kernel walls, through real workers: an "escaped child" (trusted Python run after lock-down,
as code that got out of RestrictedPython) against its siblings, its worker and the host.

Each check that needs one mechanism skips, with the reason, only when the pool reports that
mechanism missing (not root, or a kernel without it); the reason is then in protections()."""

from __future__ import annotations

import os
import random
import textwrap
import time
from pathlib import Path

import pytest
from sandbox_fixtures import runners as probe
from sandbox_fixtures.host import children

from strategy_gym.sandbox import Job, SandboxPolicy, SandboxPool, walls

ESCAPED = f"{probe.__name__}:escaped"
NOOP = "def solve():\n    return 0\n"
POLICY = SandboxPolicy(entry_point="solve", time_limit_s=5.0)


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2, preload=[ESCAPED]) as shared:
        yield shared


def _needs(pool: SandboxPool, *walls_needed: str) -> None:
    missing = [w for w in walls_needed if not pool.protections().get(w)]
    if missing:
        why = pool.protections().get("walls_unavailable", {})
        pytest.skip(f"this host gives no {', '.join(missing)} ({why or 'not root'})")


# What an escaped script calls to try one thing: "done", or the error's name.
ATTEMPT = """
def attempt(action):
    try:
        action()
        return "done"
    except OSError as exc:
        return type(exc).__name__
"""


def _escape(pool: SandboxPool, script: str, **payload) -> object:
    script = ATTEMPT + textwrap.dedent(script)  # scripts may define their own attempt
    job = Job(NOOP, ESCAPED, {"script": script, **payload}, POLICY)
    result = pool.run(job)
    assert result.ok, result
    return result.value


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def _spares(workers: list[int], timeout_s: float = 5.0) -> list[int]:
    """The one waiting child of each worker, once every worker has exactly one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        trees = [children(w) for w in workers]
        if all(len(kids) == 1 for kids in trees):
            return [kids[0] for kids in trees]
        time.sleep(0.02)
    raise AssertionError(f"workers did not settle on one spare each: {trees}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


KILL_ALL = """
import os, time
time.sleep(payload["delay"])
outcomes = {}
for pid in payload["targets"]:
    try:
        os.kill(pid, 9)
        outcomes[str(pid)] = "killed"
    except OSError as exc:
        outcomes[str(pid)] = type(exc).__name__
result = {"pid": os.getpid(), "outcomes": outcomes}
"""
SLEEP = "import time\ntime.sleep(payload['delay'])\nresult = 'survived'\n"


def test_an_escaped_child_cannot_signal_its_sibling_the_spares_or_the_workers(pool, host):
    _needs(pool, "pid_namespace_per_child", "uid_per_child")
    workers = pool.worker_pids()
    spares = _spares(workers)  # the two jobs below run in exactly these children
    targets = workers + spares + [os.getpid()]
    sibling = Job(NOOP, ESCAPED, {"script": SLEEP, "delay": 1.0}, POLICY)
    killer = Job(NOOP + "\n", ESCAPED, {"script": KILL_ALL, "delay": 0.3, "targets": targets},
                 POLICY)  # fmt: skip  (other code: its own bundle, so the other worker)
    survivor, report = pool.run_batch([sibling, killer])
    assert survivor.ok and survivor.value == "survived", survivor
    assert report.ok, report
    assert report.value["pid"] == 1  # its own PID namespace: it is the only process there
    assert set(report.value["outcomes"].values()) <= {"ProcessLookupError", "PermissionError"}
    assert all(_alive(w) for w in workers)
    host.assert_unharmed(pool)


def test_an_escaped_child_sees_no_other_process(pool):
    _needs(pool, "pid_namespace_per_child")
    worker = pool.worker_pids()[0]
    value = _escape(pool, """
        import os
        def attempt(action):
            try:
                return ["ok", action()]
            except OSError as exc:
                return ["denied", type(exc).__name__]
        result = {
            "listing": attempt(lambda: sorted(n for n in os.listdir("/proc") if n.isdigit())),
            "worker_cmdline": attempt(lambda: open(f"/proc/{payload['worker']}/cmdline").read()),
            "probe_worker": attempt(lambda: os.kill(payload["worker"], 0)),
            "pid": os.getpid(),
            "ppid": os.getppid(),
        }
    """, worker=worker)  # fmt: skip
    assert value["pid"] == 1 and value["ppid"] == 0
    listing = value["listing"]  # Landlock: no /proc at all; else hidepid shows only itself
    assert listing[0] == "denied" or len(listing[1]) <= 1, listing
    assert value["worker_cmdline"][0] == "denied"
    assert value["probe_worker"] == ["denied", "ProcessLookupError"] or (
        value["probe_worker"] == ["denied", "PermissionError"]
    )


READ_FILES = """
import os
outcomes = {}
for path in payload["paths"]:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        outcomes[path] = "read"
    except OSError as exc:
        outcomes[path] = type(exc).__name__
result = outcomes
"""


def test_an_escaped_child_reads_no_host_file_beyond_the_interpreter(pool):
    _needs(pool, "landlock")
    worker = pool.worker_pids()[0]
    secret_files = ["/etc/passwd", "/etc/hostname", "/proc/self/environ",
                    f"/proc/{worker}/cmdline", "/proc/cpuinfo", str(Path.home() / ".bashrc")]  # fmt: skip
    # the import path stays readable (the stdlib too, where the file modes let the uid in)
    needed = [probe.__file__, walls.__file__]
    outcomes = _escape(pool, READ_FILES, paths=secret_files + needed)
    assert {outcomes[p] for p in secret_files} <= {"PermissionError", "FileNotFoundError"}
    assert outcomes["/etc/passwd"] == "PermissionError"
    assert [outcomes[p] for p in needed] == ["read", "read"]


def test_an_escaped_child_can_create_nothing_anywhere(pool, host):
    _needs(pool, "landlock")
    name = f"walls-{random.getrandbits(40):x}"
    outcomes = _escape(pool, """
        import os
        name = payload["name"]
        result = {
            "tmp_file": attempt(lambda: open(f"/tmp/{name}", "x").close()),
            "tmp_fifo": attempt(lambda: os.mkfifo(f"/tmp/{name}.fifo")),
            "dev_shm": attempt(lambda: open(f"/dev/shm/{name}", "x").close()),
            "canary_dir": attempt(lambda: os.mkdir(payload["canary_dir"] + "/x")),
        }
    """, name=name, canary_dir=str(host.directory))  # fmt: skip
    assert set(outcomes.values()) <= {"PermissionError", "OSError"}, outcomes
    assert not any(p.name.startswith(name) for p in Path("/tmp").iterdir())
    assert not Path(f"/dev/shm/{name}").exists()
    host.assert_unharmed(pool)


SYSV_SHM = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000
key = payload["key"]
shmid = libc.shmget(key, 4096, IPC_CREAT | 0o666 if payload["create"] else 0)
result = {"shmid": shmid, "errno": ctypes.get_errno() if shmid < 0 else 0}
"""


def _host_shm_keys() -> set[int]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(line.split()[0]) for line in lines}


def test_a_sysv_segment_never_reaches_the_host_or_the_next_child(pool):
    _needs(pool, "ipc_namespace_per_child")
    key = random.randrange(1 << 20, 1 << 30)
    made = _escape(pool, SYSV_SHM, key=key, create=True)
    assert made["shmid"] >= 0, made  # it could create one: in its own IPC namespace
    assert key not in _host_shm_keys()  # which the host never sees, and which died with it
    later = _escape(pool, SYSV_SHM, key=key, create=False)
    assert later["shmid"] == -1 and later["errno"] == 2, later  # ENOENT: nothing left over


def test_posix_shared_memory_cannot_be_created(pool):
    _needs(pool, "dev_shm_read_only")
    name = f"/walls-{random.getrandbits(40):x}"
    value = _escape(pool, """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.shm_open(payload["name"].encode(), os.O_CREAT | os.O_RDWR, 0o600)
        result = os.strerror(ctypes.get_errno()) if fd < 0 else "created"
    """, name=name)  # fmt: skip
    assert value in ("Permission denied", "Read-only file system"), value
    assert not Path(f"/dev/shm{name}").exists()


def test_every_child_runs_as_its_own_unprivileged_uid(pool):
    _needs(pool, "uid_per_child", "privilege_drop")
    script = "import os\nresult = [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]\n"
    jobs = [Job(NOOP + "#" * i, ESCAPED, {"script": script}, POLICY) for i in range(6)]
    ids = [r.value for r in pool.run_batch(jobs)]
    uids = [uid for uid, *_ in ids]
    assert len(set(uids)) == len(uids), uids  # distinct across children and workers
    low, high = pool.protections()["uid_range"]
    for uid, euid, gid, groups in ids:
        assert low <= uid < high and uid == euid == gid and groups == []
    worker_uids = {_uid_of(w) for w in pool.worker_pids()}
    assert worker_uids == {os.geteuid()} and not worker_uids & set(uids)


ROOT_ONLY = """
import os, socket
def attempt(action):
    try:
        action()
        return "done"
    except (OSError, ValueError) as exc:  # setrlimit says ValueError for EPERM
        return type(exc).__name__
result = {
    "setuid_0": attempt(lambda: os.setuid(0)),
    "chown_cwd": attempt(lambda: os.chown(".", 0, 0)),
    "nice_up": attempt(lambda: os.nice(-5)),
    "read_shadow": attempt(lambda: open("/etc/shadow").read()),
    "bind_low_port": attempt(lambda: socket.socket().bind(("127.0.0.1", 80))),
    "raise_nofile": attempt(lambda: __import__("resource").setrlimit(7, (4096, 4096))),
    "chroot": attempt(lambda: os.chroot("/")),
}
"""


def test_an_escaped_child_cannot_do_what_root_could(pool):
    _needs(pool, "privilege_drop")
    outcomes = _escape(pool, ROOT_ONLY)
    assert "done" not in outcomes.values(), outcomes
    assert outcomes["setuid_0"] == outcomes["read_shadow"] == "PermissionError"


def test_seccomp_refuses_new_programs_and_tracing(pool):
    _needs(pool, "seccomp")
    outcomes = _escape(pool, """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        PTRACE_TRACEME = 0
        result = {
            "execve": attempt(lambda: os.execv("/bin/true", ["true"])),
            "ptrace": libc.ptrace(PTRACE_TRACEME, 0, 0, 0) == 0,
            "unshare": libc.unshare(0x10000000) == 0,  # CLONE_NEWUSER: root-free namespaces
        }
    """)  # fmt: skip
    assert outcomes == {"execve": "PermissionError", "ptrace": False, "unshare": False}


def test_the_walls_are_reported(pool):
    walls_report = pool.protections()
    for key in ("pid_namespace_per_child", "ipc_namespace_per_child", "mount_namespace",
                "uid_per_child", "landlock", "seccomp", "module_allowlist"):  # fmt: skip
        assert key in walls_report
    if os.geteuid() == 0:  # as root every namespace is ours to make; what failed says why
        unavailable = walls_report["walls_unavailable"]
        for key in ("pid_namespace_per_child", "ipc_namespace_per_child", "uid_per_child"):
            assert walls_report[key] or unavailable, key


def test_seccomp_kills_a_call_through_another_syscall_abi(pool, host):
    # x32 numbering (bit 30) would dodge a filter written for x86-64 numbers: libseccomp's
    # architecture check kills the child instead
    _needs(pool, "seccomp")
    if os.uname().machine != "x86_64":
        pytest.skip("the x32 ABI exists only on x86-64")
    script = "import ctypes\nctypes.CDLL(None).syscall(0x40000000 | 62, 1, 0)\nresult = 'ran'\n"
    result = pool.run(Job(NOOP, ESCAPED, {"script": script}, POLICY))
    assert result.outcome == "crashed" and "SIGSYS" in result.message, result
    host.assert_unharmed(pool)
