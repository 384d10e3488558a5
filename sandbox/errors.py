"""Exceptions shared by the sandbox and the runners that execute inside it."""

from __future__ import annotations


class InvalidAction(Exception):  # noqa: N818 - public name fixed by the architecture
    """Raised by a runner when the model's code returns something outside the task contract.

    The worker turns it into the ``invalid_action`` outcome; it never reaches the caller.
    """


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception raised by model code, never raising itself (a hostile
    exception can make ``str()`` fail) and cut to 300 characters."""
    try:
        text = str(exc)
    except BaseException:
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__
