"""One executor for model-written code: extraction, static checks, a pool of jailed workers.

See ARCHITECTURE.md ("Sandbox") for how tasks use it; ``sandbox`` knows no task.
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
