"""A runner module that fails at import: a plug-in author's bug."""

raise ImportError("this plug-in's runner cannot be imported")


def play(fn, payload):  # pragma: no cover - never reached
    return None
