"""Built-in runners. A runner is ``def runner(fn, payload) -> plain data``; it executes in
the sandbox child with ``fn`` the model's compiled entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strategy_gym.sandbox.errors import InvalidAction, describe
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


# What a lockstep answer holds when the strategy did not return a plain value.
ANSWER_ERRORS = ("invalid_action", "runtime_error")
Exchange = Callable[[list], "list | None"]


def lockstep(fn: Callable[..., Any], payload: dict[str, Any], exchange: Exchange) -> None:
    """Serve ``fn`` to the trusted game master, one round trip per move of k games.

    The first, empty exchange says the code built; every reply of the master is a list of
    views ``[[slot, view], ...]`` (None: done). For each view the child answers
    ``[slot, {"value": v}]`` or ``[slot, {"error": kind, "message": ...}]``; a failing game
    does not stop the others. ``payload["rng_seeds"]`` (one per slot, already keyed by the
    pool) gives every game its own ``random`` stream, so k games in one child draw what k
    separate children would. The child never sees a seed, a game or a game's RNG.
    """
    import random

    streams = [random.Random(seed).getstate() for seed in payload.get("rng_seeds") or ()]
    views = exchange([])
    while views:
        answers = []
        for slot, view in views:
            own = 0 <= slot < len(streams)
            if own:
                random.setstate(streams[slot])
            answers.append([slot, _answer(fn, view)])
            if own:
                streams[slot] = random.getstate()
        views = exchange(answers)


lockstep.interactive = True  # type: ignore[attr-defined]  (the child passes ``exchange``)


def _answer(fn: Callable[..., Any], view: Any) -> dict[str, Any]:
    try:
        return {"value": to_plain(fn(view))}
    except NotPlainData as exc:
        return {"error": "invalid_action", "message": f"return value is not plain data: {exc}"}
    except InvalidAction as exc:
        return {"error": "invalid_action", "message": str(exc)[:300]}
    except MemoryError:
        raise  # the child's memory wall: the whole session ends with memory_limit
    except RecursionError:
        return {"error": "runtime_error", "message": "RecursionError: maximum recursion depth"}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt raised by the code too
        return {"error": "runtime_error", "message": describe(exc)}
