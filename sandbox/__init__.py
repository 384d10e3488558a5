"""One executor for model-written code: extraction, static checks, a pool of jailed workers.

See ARCHITECTURE.md ("Sandbox") for how tasks use it; ``sandbox`` knows no task.

A task plugs in through a *runner*, ``"package.module:function"``, imported inside each
worker (as root, before any limits) and called in the jailed child as ``runner(fn, payload)``
with ``fn`` the model's compiled entry point. It returns plain data (sent back as JSON) and
raises ``InvalidAction`` for a return value outside the task's contract. If the runner's
module defines ``sandbox_warmup()``, the worker calls it once after the import, so one-time
costs (numba kernels) are paid before the per-call fork instead of in every child.

Layers, outermost first: ``extract`` (find the code), ``static_checks`` (syntax, allowlisted
imports, forbidden names, RestrictedPython policy), ``pool`` + ``link`` (parent: dispatch,
compile cache, jobs straight to pre-forked children, wall-clock kill, output size),
``worker`` (fork server: runners, compiling, one locked-down child at a time, exit statuses),
``child`` + ``limits`` + ``restricted`` (per call: privilege drop, rlimits, network
namespace, guarded namespace).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from strategy_gym.sandbox.errors import InvalidAction
from strategy_gym.sandbox.outcome import Outcome, SandboxResult
from strategy_gym.sandbox.policy import DEFAULT_ALLOWED_IMPORTS, Job, SandboxPolicy
from strategy_gym.sandbox.static_checks import check_source

if TYPE_CHECKING:
    from strategy_gym.sandbox.extract import Extraction, extract_function
    from strategy_gym.sandbox.pool import SandboxPool

# Imported on first use: the worker imports this package too, and the pool's modules would
# bring ``threading`` along, whose fork hook costs every jailed child ~170 page faults.
_LAZY = {"SandboxPool": "strategy_gym.sandbox.pool", "Extraction": "strategy_gym.sandbox.extract",
         "extract_function": "strategy_gym.sandbox.extract"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'strategy_gym.sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_ALLOWED_IMPORTS",
    "Extraction",
    "InvalidAction",
    "Job",
    "Outcome",
    "SandboxPolicy",
    "SandboxPool",
    "SandboxResult",
    "check_source",
    "extract_function",
]
