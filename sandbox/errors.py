"""Exceptions shared by the sandbox and the runners that execute inside it."""

from __future__ import annotations


class InvalidAction(Exception):  # noqa: N818 - public name fixed by the architecture
    """Raised by a runner when the model's code returns something outside the task contract.

    The worker turns it into the ``invalid_action`` outcome; it never reaches the caller.
    """
