"""The library versions strategy-gym's training stack was tested with (one table, one place).

``pyproject.toml``'s ``train`` extra states the same ranges; a test keeps the two in step.
Preflight compares the installed versions against this table before any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

# package -> (lowest tested, first untested): the half-open range [low, high).
TESTED_PINS: dict[str, tuple[str, str]] = {
    "torch": ("2.6", "2.14"),
    "transformers": ("5.17", "5.24"),
    "trl": ("1.16", "1.17"),
    "peft": ("0.21", "0.22"),
    "accelerate": ("1.15", "1.16"),
    "datasets": ("5.2", "5.3"),
    "gguf": ("0.19", "0.20"),
}
# The Unsloth backend's set (pyproject's ``unsloth`` extra, installed instead of ``train``):
# unsloth 2026.10.9 pins trl and datasets below the transformers backend's ranges; this set
# imported and ran TRL's GRPOTrainer on an H200 (torch 2.11, transformers 5.17, peft 0.21).
UNSLOTH_PINS: dict[str, tuple[str, str]] = {
    **TESTED_PINS,
    "trl": ("1.15", "1.16"),
    "datasets": ("4.8", "4.9"),
    "unsloth": ("2026.10.9", "2026.10.10"),
    "unsloth_zoo": ("2026.10.9", "2026.10.10"),
    "bitsandbytes": ("0.50", "0.51"),
}
BACKEND_PINS = {"transformers": TESTED_PINS, "unsloth": UNSLOTH_PINS}
BACKEND_EXTRAS = {"transformers": "train", "unsloth": "unsloth"}
# Pins never required: reported when present, ignored when absent.
OPTIONAL_PACKAGES = ("unsloth", "vllm", "bitsandbytes")


@dataclass(frozen=True)
class PinCheck:
    package: str
    installed: str | None
    tested: str  # ">=low,<high"
    ok: bool


def _as_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def within(installed: str, low: str, high: str) -> bool:
    """True when ``low <= installed < high`` (local build tags such as ``+cpu`` ignored)."""
    return _as_tuple(low) <= _as_tuple(installed) < _as_tuple(high)


def installed_version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def pins_for(backend: str = "transformers") -> dict[str, tuple[str, str]]:
    if backend not in BACKEND_PINS:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKEND_PINS)}")
    return BACKEND_PINS[backend]


def check_pins(backend: str = "transformers") -> list[PinCheck]:
    """One row per package pinned for ``backend``: installed version, and whether it is in
    the tested range."""
    rows = []
    for package, (low, high) in pins_for(backend).items():
        found = installed_version(package)
        ok = found is not None and within(found, low, high)
        rows.append(PinCheck(package, found, f">={low},<{high}", ok))
    return rows


def pyproject_spec(package: str, backend: str = "transformers") -> str:
    """The requirement string this table implies, as written in the backend's extra."""
    low, high = pins_for(backend)[package]
    return f"{package.replace('_', '-')}>={low},<{high}"
