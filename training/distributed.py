"""Several processes of one host (``accelerate launch`` / ``torchrun``): rank helpers.

Every helper is a no-op in a single process, so ``python train_env.py`` is unchanged. Under a
launcher (``WORLD_SIZE`` > 1) :func:`init` joins the process group early (gloo on CPU, NCCL on
GPUs, through accelerate's ``PartialState`` so TRL's trainer reuses the same group), and rank 0
("main") owns the run directory: preflight samples, evaluations, plots, step log and report;
the other ranks train and wait at barriers. Collectives must be entered by every rank in the
same order, so each helper here is called unconditionally on all ranks.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from strategy_gym.core.processes import cores_per_rank, world_size  # noqa: F401 (re-exported)

# Rank 0 evaluates (before / after priming / after) while the others wait at a barrier; the
# default 30-minute collective timeout would kill a long evaluation of a large model.
TIMEOUT = timedelta(hours=float(os.environ.get("STRATEGY_GYM_DIST_TIMEOUT_H", "4")))


def rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def is_main() -> bool:
    return rank() == 0


def _active() -> bool:
    import torch.distributed as dist

    return world_size() > 1 and dist.is_available() and dist.is_initialized()


def init() -> None:
    """Join the process group when launched with several processes (no-op otherwise)."""
    if world_size() <= 1 or _active():
        return
    import torch
    from accelerate import PartialState

    cpu = not torch.cuda.is_available() or os.environ.get("ACCELERATE_USE_CPU", "").lower() in (
        "1", "true", "yes")
    PartialState(cpu=cpu, timeout=TIMEOUT)


def barrier() -> None:
    if _active():
        import torch.distributed as dist

        dist.barrier()


def broadcast_from_main(value: Any = None) -> Any:
    """Rank 0's ``value`` on every rank (any picklable object)."""
    if not _active():
        return value
    import torch.distributed as dist

    box = [value if is_main() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_to_main(value: Any) -> list[Any] | None:
    """Every rank's ``value`` by rank, on rank 0 (None elsewhere); ``[value]`` in one process."""
    if not _active():
        return [value]
    import torch.distributed as dist

    out = [None] * dist.get_world_size() if is_main() else None
    dist.gather_object(value, out, dst=0)
    return out


def all_ok(ok: bool) -> bool:
    """True on every rank when ``ok`` is true on every rank (e.g. each rank's preflight)."""
    if not _active():
        return ok
    import torch
    import torch.distributed as dist

    flag = torch.tensor([1 if ok else 0], dtype=torch.int64)
    if dist.get_backend() == "nccl":
        flag = flag.cuda()
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def finish() -> None:
    """The last barrier, then leave the process group (quiet exit under the launcher)."""
    if _active():
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()


def describe() -> str | None:
    """One line for the report, or None in a single process."""
    if world_size() <= 1:
        return None
    return (f"{world_size()} processes (data parallel; rank 0 wrote this directory), "
            f"{cores_per_rank()} cores per rank for its sandbox pool")
