"""Named, versioned, disjoint seed sets and the ``seeds=`` spec syntax.

A seed fully determines a game, so a seed set plus a strategy fully determines an evaluation.
The built-in sets live in disjoint blocks of the integers so no training seed ever leaks into an
evaluation or test number. Bump ``SEED_SETS_VERSION`` (and add a new table entry) instead of
editing an existing block: reports name the version they used.

Spec syntax (the value of ``seeds=`` in configs and ``--seeds`` on the command line):

- ``eval`` / ``train`` / ``test``: a whole built-in set;
- ``eval:64``: the first 64 seeds of a built-in set;
- ``eval@v1`` or ``eval@v1:64``: pin the version explicitly;
- ``0:1000``: the half-open integer range [0, 1000);
- ``path/to/seeds.txt`` (one integer per line, ``#`` comments) or ``.json`` (a list of integers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SEED_SETS_VERSION = 1
MAX_SEED = 2**32 - 1  # game RNGs take 32-bit seeds

# version -> name -> (first seed, count). Blocks are disjoint by construction (checked below).
_BLOCKS: dict[int, dict[str, tuple[int, int]]] = {
    1: {
        "train": (0, 1_000_000),
        "eval": (10_000_000, 1_000),
        "test": (20_000_000, 1_000),
    },
}


@dataclass(frozen=True)
class SeedSet(Sequence[int]):
    """An ordered, duplicate-free collection of game seeds with a name saying where it came from."""

    name: str
    seeds: Sequence[int]  # a ``range`` for built-in sets, a tuple otherwise

    def __len__(self) -> int:
        return len(self.seeds)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return SeedSet(f"{self.name}[{index.start}:{index.stop}]", self.seeds[index])
        return int(self.seeds[index])

    def __iter__(self) -> Iterator[int]:
        return (int(s) for s in self.seeds)

    def __contains__(self, seed: object) -> bool:
        return seed in self.seeds

    def first(self, n: int) -> SeedSet:
        """The first ``n`` seeds (all of them if the set is shorter)."""
        if n < 0:
            raise ValueError(f"seed count must be >= 0, got {n}")
        return SeedSet(f"{self.name}:{n}", self.seeds[:n])

    def window(self, start_seed: int, k: int) -> list[int]:
        """``k`` seeds of this set beginning at ``start_seed`` (a member), wrapping around.

        Lets one dataset row carry a single seed while a reward plays ``k`` games on it.
        """
        if k < 1:
            raise ValueError(f"window size must be >= 1, got {k}")
        position = self._position(start_seed)
        return [int(self.seeds[(position + j) % len(self.seeds)]) for j in range(k)]

    def _position(self, seed: int) -> int:
        if isinstance(self.seeds, range):
            if seed not in self.seeds:
                raise ValueError(f"seed {seed} is not in seed set {self.name!r}")
            return (seed - self.seeds.start) // self.seeds.step
        try:
            return list(self.seeds).index(seed)
        except ValueError:
            raise ValueError(f"seed {seed} is not in seed set {self.name!r}") from None


def seed_set_spec(seeds: Sequence[int], name: str | None = None) -> dict | list[int]:
    """What a run records for one seed set: its spec, not its seeds.

    A contiguous set (every built-in set and its prefixes: a ``range``) is recorded as
    ``{"name", "start", "stop", "step", "count", "sha256"}``: a few hundred bytes instead of
    the 1,000,000 train seeds. Other sets (seed files, plug-ins' lists) have no shorter form
    and are recorded as their list. :func:`seed_set_from_spec` rebuilds either and checks the
    hash.
    """
    label = name or getattr(seeds, "name", None) or "seeds"
    inner = seeds.seeds if isinstance(seeds, SeedSet) else seeds
    if not isinstance(inner, range):
        return [int(s) for s in inner]
    return {"name": label, "start": inner.start, "stop": inner.stop, "step": inner.step,
            "count": len(inner), "sha256": seeds_digest(inner)}


def seed_set_from_spec(spec: dict | Sequence[int], name: str = "recorded") -> SeedSet:
    """The seed set a recorded spec describes; raises ValueError if it does not hash the same."""
    if not isinstance(spec, dict):
        return _explicit(name, [int(s) for s in spec])
    try:
        seeds = range(int(spec["start"]), int(spec["stop"]), int(spec.get("step", 1)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"seed-set spec {spec!r} needs integer start and stop ({exc})") from None
    if "count" in spec and len(seeds) != spec["count"]:
        raise ValueError(f"seed-set spec {spec!r}: the range holds {len(seeds)} seeds, "
                         f"the spec says {spec['count']}")
    if "sha256" in spec and seeds_digest(seeds) != spec["sha256"]:
        raise ValueError(f"seed-set spec {spec.get('name', name)!r}: the rebuilt seeds do not "
                         "match the recorded sha256")
    return SeedSet(str(spec.get("name", name)), seeds)


def seeds_digest(seeds: Sequence[int]) -> str:
    """SHA-256 of the seeds in order, each as 4 little-endian bytes (seeds are 32-bit)."""
    import hashlib

    import numpy as np

    if isinstance(seeds, range):
        values = np.arange(seeds.start, seeds.stop, seeds.step, dtype=np.int64)
    else:
        values = np.fromiter((int(s) for s in seeds), dtype=np.int64)
    return hashlib.sha256(values.astype("<u4").tobytes()).hexdigest()


def builtin_seed_set(name: str, version: int = SEED_SETS_VERSION) -> SeedSet:
    """One of the built-in sets (``train``, ``eval``, ``test``) of a given version."""
    if version not in _BLOCKS:
        raise ValueError(f"unknown seed-set version {version}; known: {sorted(_BLOCKS)}")
    table = _BLOCKS[version]
    if name not in table:
        raise ValueError(f"unknown seed set {name!r}; built-in sets: {', '.join(table)}")
    start, count = table[name]
    return SeedSet(f"{name}@v{version}", range(start, start + count))


def builtin_seed_sets(version: int = SEED_SETS_VERSION) -> dict[str, SeedSet]:
    """All built-in sets of one version, by name."""
    if version not in _BLOCKS:
        raise ValueError(f"unknown seed-set version {version}; known: {sorted(_BLOCKS)}")
    return {name: builtin_seed_set(name, version) for name in _BLOCKS[version]}


def parse_seed_spec(spec: str | Sequence[int] | SeedSet) -> SeedSet:
    """Turn a ``seeds=`` value into a :class:`SeedSet` (see the module docstring for the syntax)."""
    if isinstance(spec, SeedSet):
        return spec
    if not isinstance(spec, str):
        if isinstance(spec, Sequence) and all(isinstance(s, int) for s in spec):
            return _explicit("explicit", list(spec))
        raise TypeError(f"seed spec must be a string or a sequence of ints, got {type(spec).__name__}")
    text = spec.strip()
    if text.startswith("seeds="):
        text = text[len("seeds=") :].strip()
    if not text:
        raise ValueError("empty seed spec; expected e.g. 'eval', 'eval:64', '0:1000' or a file path")
    path = Path(text)
    if path.suffix in {".txt", ".json"} or "/" in text:
        return _from_file(path)
    try:
        return _from_name_or_range(text)
    except ValueError:
        if path.is_file():  # a seed file without a suffix; built-in names win over files
            return _from_file(path)
        raise


def _from_name_or_range(text: str) -> SeedSet:
    head, _, tail = text.partition(":")
    if head.isdigit():
        if not tail.isdigit():
            raise ValueError(f"seed range {text!r} must look like 'START:STOP' with integers")
        start, stop = int(head), int(tail)
        if stop <= start or stop - 1 > MAX_SEED:
            raise ValueError(f"seed range {text!r} must satisfy 0 <= START < STOP <= {MAX_SEED + 1}")
        return SeedSet(f"{start}:{stop}", range(start, stop))
    name, _, version_text = head.partition("@")
    version = _parse_version(version_text, text) if version_text else SEED_SETS_VERSION
    seed_set = builtin_seed_set(name, version)
    if not tail:
        return seed_set
    if not tail.isdigit():
        raise ValueError(f"seed count in {text!r} must be a non-negative integer")
    return seed_set.first(int(tail))


def _parse_version(version_text: str, text: str) -> int:
    if not (version_text.startswith("v") and version_text[1:].isdigit()):
        raise ValueError(f"seed-set version in {text!r} must look like '@v1'")
    return int(version_text[1:])


def _from_file(path: Path) -> SeedSet:
    if not path.is_file():
        raise ValueError(f"seed file {str(path)!r} does not exist")
    raw = path.read_text()
    if path.suffix == ".json":
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError(f"seed file {str(path)!r} must hold a JSON list of integers")
    else:
        lines = (line.split("#", 1)[0].strip() for line in raw.splitlines())
        values = [_int_or_error(line, path) for line in lines if line]
    return _explicit(path.name, values)


def _int_or_error(token: str, path: Path) -> int:
    try:
        return int(token)
    except ValueError:
        raise ValueError(f"seed file {str(path)!r}: {token!r} is not an integer") from None


def _explicit(name: str, values: list) -> SeedSet:
    if not values:
        raise ValueError(f"seed set {name!r} is empty")
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEED:
            raise ValueError(f"seed set {name!r}: {value!r} is not an integer in [0, {MAX_SEED}]")
    if len(set(values)) != len(values):
        raise ValueError(f"seed set {name!r} contains duplicate seeds")
    return SeedSet(name, tuple(values))


def _check_disjoint() -> None:
    for version, table in _BLOCKS.items():
        spans = sorted((start, start + count, name) for name, (start, count) in table.items())
        for (_, end, name), (start, _, other) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise AssertionError(f"seed sets {name!r} and {other!r} overlap in v{version}")


_check_disjoint()
