"""How many processes share this host, read from the launcher's environment (torchrun and
accelerate set WORLD_SIZE / LOCAL_WORLD_SIZE); no torch needed, so any layer may ask."""

from __future__ import annotations

import os


def world_size() -> int:
    """Processes in this run, from the launcher's environment (1 without a launcher)."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1") or 1))


def cores_per_rank() -> int:
    """This process's share of the host's cores (at least 1): each rank sizes its own
    sandbox pool from it, so N ranks do not start N pools on all cores."""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "0") or 0) or world_size()
    return max(1, (os.cpu_count() or 1) // local)
