"""Checks that the host is unharmed after hostile code ran: files, processes, memory, pool."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from strategy_gym.sandbox import Job, SandboxPolicy, SandboxPool

PROBE_CODE = "def solve(x):\n    return x + 1\n"
PROBE_POLICY = SandboxPolicy(entry_point="solve", time_limit_s=5.0)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []
    return found


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Host:
    """A root-owned canary (mode 0644) in a directory anyone may enter, plus baselines."""

    directory: Path
    canary: Path
    canary_digest: str
    listing: list[str]
    rss_baseline_mb: float

    @classmethod
    def create(cls) -> Host:
        directory = Path(tempfile.mkdtemp(prefix="sandbox-canary-"))
        directory.chmod(0o755)
        canary = directory / "canary.txt"
        canary.write_text("the host is fine\n")
        canary.chmod(0o644)
        return cls(directory, canary, _digest(canary), sorted(os.listdir(directory)), rss_mb())

    def assert_unharmed(self, pool: SandboxPool, rss_slack_mb: float = 150.0) -> None:
        assert self.canary.exists(), "canary deleted"
        assert _digest(self.canary) == self.canary_digest, "canary modified"
        assert sorted(os.listdir(self.directory)) == self.listing, "files appeared"
        assert rss_mb() < self.rss_baseline_mb + rss_slack_mb, "caller memory grew"
        self._assert_no_leftover_processes(pool)
        result = pool.run(Job(PROBE_CODE, "strategy_gym.sandbox.runners:call", {"args": [41]}, PROBE_POLICY))
        assert result.ok and result.value == 42, result

    @staticmethod
    def _assert_no_leftover_processes(pool: SandboxPool, settle_s: float = 2.0) -> None:
        """Each worker may hold one idle pre-forked child, and that child has no children."""
        deadline = time.monotonic() + settle_s
        while True:
            trees = {w: children(w) for w in pool.worker_pids()}
            grandchildren = [g for kids in trees.values() for k in kids for g in children(k)]
            if all(len(k) <= 1 for k in trees.values()) and not grandchildren:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"leftover processes: {trees}, grandchildren {grandchildren}")
            time.sleep(0.02)
