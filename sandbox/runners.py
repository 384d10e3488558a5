"""Built-in runners. A runner is ``def runner(fn, payload) -> plain data``; it executes in
the sandbox child with ``fn`` the model's compiled entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strategy_gym.sandbox.errors import InvalidAction
from strategy_gym.sandbox.plain import NotPlainData, to_plain


def call(fn: Callable[..., Any], payload: dict[str, Any]) -> Any:
    """Call ``fn(*payload["args"], **payload["kwargs"])`` and return its value as plain data.

    For program-style tasks such as math's ``def solve()``. A return value that is not plain
    data (str, int, float, bool, None, and lists/tuples/dicts of them) is an invalid action.
    """
    args = payload.get("args", [])
    kwargs = payload.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise TypeError("payload must be {'args': [...], 'kwargs': {...}}")
    value = fn(*args, **kwargs)
    try:
        return to_plain(value)
    except NotPlainData as exc:
        raise InvalidAction(f"return value is not plain data: {exc}") from None
