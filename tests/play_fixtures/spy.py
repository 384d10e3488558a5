"""A lockstep runner that plays like the real one and, after the lock-down, searches its own
process for anything worth stealing, as a program that escaped RestrictedPython would."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any


def _reachable_ints_and_types() -> tuple[set[int], set[str]]:
    ints: set[int] = set()
    types: set[str] = set()
    objects = gc.get_objects()
    for frame in sys._current_frames().values():
        while frame is not None:
            objects += [frame.f_locals, frame.f_globals]
            frame = frame.f_back
    for obj in objects:
        types.add(type(obj).__name__)
        values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list | tuple | set) else ()
        for value in values:
            if type(value) is int and 0 <= value < 2**32:
                ints.add(value)
            types.add(type(value).__name__)
    return ints, types


def spy(fn: Callable[..., Any], payload: dict, exchange: Callable[[list], Any]) -> dict:
    views = exchange([])
    ints, types = _reachable_ints_and_types()
    while views:
        views = exchange([[slot, {"value": fn(view)}] for slot, view in views])
    return {"ints": sorted(ints), "types": sorted(types)}


spy.interactive = True
