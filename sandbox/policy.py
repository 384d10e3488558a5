"""What a piece of code may do (SandboxPolicy) and one unit of work for the pool (Job)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from strategy_gym.sandbox.allowlist import MODULE_MEMBERS

# Pure-stdlib modules with no I/O; each is handed to the code as a proxy holding only its
# vetted members (sandbox/allowlist.py).
DEFAULT_ALLOWED_IMPORTS: frozenset[str] = frozenset(
    {"math", "itertools", "functools", "collections", "random", "heapq", "operator"}
)


def _check_identifier(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__}")
    if not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"{what} must be a public Python identifier, got {name!r}")
    return name


def _check_positive(value: object, what: str, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}")
    if not value >= minimum:  # also rejects NaN
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")


def _normalise_imports(modules: object) -> frozenset[str]:
    if isinstance(modules, str) or not isinstance(modules, Iterable):
        raise TypeError("allowed_imports must be an iterable of module names, not a single str")
    names = frozenset(modules)
    for name in names:
        if not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
            raise ValueError(f"allowed_imports holds an invalid module name: {name!r}")
        if name not in MODULE_MEMBERS:  # fail closed: an unvetted module is not allowed
            raise ValueError(
                f"allowed_imports holds {name!r}, which has no vetted member list; "
                f"vetted: {sorted(MODULE_MEMBERS)}"
            )
    return names


@dataclass(frozen=True)
class SandboxPolicy:
    """Static and runtime limits for one entry point.

    ``time_limit_s`` is wall-clock time for defining and running the code, ``memory_limit_mb``
    the address space the code may add on top of the worker, ``max_output_bytes`` the size of
    the returned JSON and, separately, of everything the code prints.
    """

    entry_point: str = "strategy"
    allowed_imports: frozenset[str] = DEFAULT_ALLOWED_IMPORTS
    time_limit_s: float = 2.0
    memory_limit_mb: int = 512
    max_output_bytes: int = 1_000_000
    max_source_bytes: int = 100_000

    def __post_init__(self) -> None:
        _check_identifier(self.entry_point, "entry_point")
        object.__setattr__(self, "allowed_imports", _normalise_imports(self.allowed_imports))
        _check_positive(self.time_limit_s, "time_limit_s", 0.01)
        _check_positive(self.memory_limit_mb, "memory_limit_mb", 16)
        _check_positive(self.max_output_bytes, "max_output_bytes", 16)
        _check_positive(self.max_source_bytes, "max_source_bytes", 16)


@dataclass(frozen=True, eq=False)
class Job:
    """Run ``code``'s entry point through ``runner`` ("module:function") with ``payload``.

    ``rng_seed`` seeds Python's ``random`` inside the worker (None: fresh OS entropy), through
    a keyed hash (see ``SandboxPool``), so a strategy that uses ``random`` can be reproducible
    while the code cannot work ``rng_seed`` back out, even when it equals the game's seed.
    """

    code: str | None
    runner: str
    payload: dict[str, Any] = field(default_factory=dict)
    policy: SandboxPolicy = field(default_factory=SandboxPolicy)
    rng_seed: int | None = None

    def __post_init__(self) -> None:
        if self.code is not None and not isinstance(self.code, str):
            raise TypeError(f"Job.code must be a str or None, got {type(self.code).__name__}")
        parse_runner(self.runner)
        if not isinstance(self.payload, dict):
            raise TypeError(f"Job.payload must be a dict, got {type(self.payload).__name__}")
        if not isinstance(self.policy, SandboxPolicy):
            raise TypeError(f"Job.policy must be a SandboxPolicy, got {type(self.policy).__name__}")
        if self.rng_seed is not None and (
            isinstance(self.rng_seed, bool) or not isinstance(self.rng_seed, int)
        ):
            raise TypeError(f"Job.rng_seed must be an int or None, got {self.rng_seed!r}")

    def payload_json(self) -> str:
        try:
            return json.dumps(self.payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Job.payload must be plain JSON data: {exc}") from None


def parse_runner(spec: object) -> tuple[str, str]:
    """Split "package.module:function" into its parts, or raise a clear error."""
    if not isinstance(spec, str):
        raise TypeError(f"runner must be a 'module:function' str, got {type(spec).__name__}")
    module, sep, function = spec.partition(":")
    parts_ok = sep and all(p.isidentifier() for p in module.split(".")) and function.isidentifier()
    if not parts_ok:
        raise ValueError(f"runner must look like 'package.module:function', got {spec!r}")
    return module, function
