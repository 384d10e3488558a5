"""One executor for model-written code: extraction, static checks, a pool of jailed workers.

See ARCHITECTURE.md ("Sandbox") for how tasks use it; ``sandbox`` knows no task.

A task plugs in through a *runner*, ``"package.module:function"``, imported inside each
worker (as root, before any limits) and called in the jailed child as ``runner(fn, payload)``
with ``fn`` the model's compiled entry point. It returns plain data (sent back as JSON) and
raises ``InvalidAction`` for a return value outside the task's contract. If the runner's
module defines ``sandbox_warmup()``, the worker calls it once after the import, so one-time
costs (numba kernels) are paid before the per-call fork instead of in every child.

Layers, outermost first: ``extract`` (find the code), ``static_checks`` (syntax, allowlisted
imports, forbidden names, RestrictedPython policy), ``pool`` (parent: dispatch, backstop
deadline, output size), ``worker`` (per-process: compile cache, pre-forked children,
wall-clock kill), ``child`` + ``limits`` + ``restricted`` (per call: privilege drop, rlimits,
network namespace, guarded namespace).
"""

from sandbox.errors import InvalidAction
from sandbox.extract import Extraction, extract_function
from sandbox.outcome import Outcome, SandboxResult
from sandbox.policy import DEFAULT_ALLOWED_IMPORTS, Job, SandboxPolicy
from sandbox.pool import SandboxPool
from sandbox.static_checks import check_source

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
