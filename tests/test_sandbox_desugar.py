"""Augmented item assignment (common in model code) runs, and stays guarded."""

from __future__ import annotations

import pytest

from strategy_gym.sandbox import Job, Outcome, SandboxPolicy, SandboxPool, check_source

COUNTING = """
def solve():
    counts = [0, 0, 0]
    for i in range(7):
        counts[i % 3] += i
    table = {"a": 2}
    table["a"] **= 3
    grid = [[1, 2], [3, 4]]
    grid[1][0] -= 10
    return [counts, table["a"], grid[1][0]]
"""


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=1) as p:
        yield p


def test_augmented_item_assignment_passes_static_checks():
    assert check_source(COUNTING, SandboxPolicy(entry_point="solve")).outcome is Outcome.OK


def test_augmented_item_assignment_computes_like_python(pool):
    namespace: dict = {}
    exec(COUNTING, namespace)  # trusted reference: our own source, not model code
    result = pool.run(Job(COUNTING, "strategy_gym.sandbox.runners:call", {}, SandboxPolicy(entry_point="solve")))
    assert result.outcome is Outcome.OK, result.message
    assert result.value == namespace["solve"]()


def test_augmented_assignment_to_a_module_attribute_is_still_refused(pool):
    code = "import math\ndef solve():\n    math.pi += 1\n    return math.pi\n"
    result = pool.run(Job(code, "strategy_gym.sandbox.runners:call", {}, SandboxPolicy(entry_point="solve")))
    assert result.outcome is not Outcome.OK
    assert "pi" in result.message or "attribute" in result.message.lower()


def test_dunder_target_is_still_forbidden_statically():
    code = "def solve():\n    x = []\n    x.__class__ += 1\n    return 0\n"
    assert check_source(code, SandboxPolicy(entry_point="solve")).outcome is Outcome.FORBIDDEN
