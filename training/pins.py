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


def check_pins() -> list[PinCheck]:
    """One row per pinned package: installed version and whether it is in the tested range."""
    rows = []
    for package, (low, high) in TESTED_PINS.items():
        found = installed_version(package)
        ok = found is not None and within(found, low, high)
        rows.append(PinCheck(package, found, f">={low},<{high}", ok))
    return rows


def pyproject_spec(package: str) -> str:
    """The requirement string this table implies, as written in pyproject's train extra."""
    low, high = TESTED_PINS[package]
    return f"{package}>={low},<{high}"
