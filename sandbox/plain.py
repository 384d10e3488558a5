"""Strict conversion of a runner's return value to plain JSON data.

Exact type checks (not isinstance) so that a subclass with an overridden ``__eq__`` or
``__str__`` never leaves the worker; tuples become lists.
"""

from __future__ import annotations

from typing import Any

_SCALARS = (str, int, float, bool, type(None))
MAX_DEPTH = 64


class NotPlainData(TypeError):
    """The value holds something other than str/int/float/bool/None/list/tuple/dict."""


def to_plain(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise NotPlainData(f"value nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list or kind is tuple:
        return [to_plain(item, depth + 1) for item in value]
    if kind is dict:
        plain = {}
        for key, item in value.items():
            if type(key) is not str:
                raise NotPlainData(f"dict key of type {type(key).__name__} is not a str")
            plain[key] = to_plain(item, depth + 1)
        return plain
    raise NotPlainData(f"value of type {kind.__name__} is not plain data")
