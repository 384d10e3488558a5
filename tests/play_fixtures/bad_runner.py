"""A plug-in runner with its author's bug: it returns a set, which is not plain data."""


def returns_a_set(fn, payload):
    return {fn()}
