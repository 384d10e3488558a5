"""Extraction and static checks: no process involved."""

from __future__ import annotations

import random

import pytest

from strategy_gym.sandbox import (
    DEFAULT_ALLOWED_IMPORTS,
    Job,
    Outcome,
    SandboxPolicy,
    check_source,
    extract_function,
)

POLICY = SandboxPolicy(entry_point="strategy")
GOOD = "def strategy(board):\n    return 'W'\n"


# extraction ------------------------------------------------------------------------------
def test_extracts_fenced_python_block_inside_reasoning():
    text = f"<think>Let me think. Corners are good.</think>\nHere you go:\n```python\n{GOOD}```\nDone."
    ext = extract_function(text, "strategy")
    assert ext.code == GOOD.strip("\n")
    assert ext.reason == "fenced block"


def test_last_defining_block_wins_and_helper_blocks_are_kept():
    text = (
        "```python\nimport math\ndef helper(x):\n    return x + 1\n```\n"
        "first try:\n```python\ndef strategy(board):\n    return 'A'\n```\n"
        "better:\n```py\ndef strategy(board):\n    return 'S' if helper(1) else 'W'\n```"
    )
    code = extract_function(text, "strategy").code
    assert "return 'S'" in code and "return 'A'" not in code
    assert code.startswith("import math\ndef helper")


def test_unclosed_fence_from_a_truncated_completion():
    text = "```python\ndef strategy(board):\n    return 'D'\n"
    assert extract_function(text, "strategy").code == "def strategy(board):\n    return 'D'"


def test_bare_code_between_prose():
    text = "Sure! Here is my plan.\nimport random\n\ndef strategy(board):\n    return random.choice('WASD')\n\nThis picks randomly."
    code = extract_function(text, "strategy").code
    assert code == "import random\n\ndef strategy(board):\n    return random.choice('WASD')"
    assert check_source(code, POLICY).ok


def test_entry_point_is_a_parameter():
    text = "```python\ndef solve():\n    return 42\n```"
    assert extract_function(text, "solve").code == "def solve():\n    return 42"
    ext = extract_function(text, "strategy")
    assert ext.code is None and "strategy" in ext.reason


def test_no_code_and_empty_text():
    assert extract_function("I would go up.", "strategy").code is None
    assert extract_function("   ", "strategy").reason == "empty completion"


def test_other_language_blocks_are_ignored():
    text = "```bash\ndef strategy(board): rm -rf /\n```"
    ext = extract_function(text, "strategy")
    assert ext.reason == "bare code"  # not taken as a python block; the text fallback finds it
    assert check_source(ext.code, POLICY).outcome is Outcome.SYNTAX_ERROR
    assert extract_function("```json\n{}\n```", "strategy").code is None


def test_extract_rejects_bad_arguments():
    with pytest.raises(TypeError, match="completion text"):
        extract_function(None, "strategy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="entry_point"):
        extract_function("x", "not an identifier")


# static checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "outcome", "needle"),
    [
        (GOOD, Outcome.OK, ""),
        ("def strategy(board):\n    return 'W'\n  oops", Outcome.SYNTAX_ERROR, "line"),
        ("def strategy(board)\n    return 'W'", Outcome.SYNTAX_ERROR, "line 1"),
        ("x = 1", Outcome.NO_FUNCTION, "def strategy"),
        ("def helper(board):\n    return 'W'", Outcome.NO_FUNCTION, "def strategy"),
        ("if True:\n    def strategy(b):\n        return 'W'", Outcome.NO_FUNCTION, ""),
        (None, Outcome.NO_FUNCTION, "no code"),
        ("import os\n" + GOOD, Outcome.IMPORT_VIOLATION, "'os'"),
        ("from os import path\n" + GOOD, Outcome.IMPORT_VIOLATION, "'os'"),
        ("import collections.abc\n" + GOOD, Outcome.IMPORT_VIOLATION, "collections.abc"),
        ("from . import x\n" + GOOD, Outcome.IMPORT_VIOLATION, "relative"),
        ("from math import *\n" + GOOD, Outcome.IMPORT_VIOLATION, "star"),
        (GOOD + "x = __import__('os')", Outcome.IMPORT_VIOLATION, "__import__"),
        (GOOD + "x = open('/etc/passwd')", Outcome.FORBIDDEN, "open"),
        (GOOD + "x = eval('1')", Outcome.FORBIDDEN, "eval"),
        (GOOD + "x = ().__class__", Outcome.FORBIDDEN, "__class__"),
        (GOOD + "x = getattr(1, 'real')", Outcome.FORBIDDEN, "getattr"),
        (GOOD + "x = '{0.__class__}'.format(1)", Outcome.FORBIDDEN, "format"),
        (GOOD + "g = (i for i in [])\nf = g.gi_frame", Outcome.FORBIDDEN, "gi_frame"),
        (GOOD + "class A:\n    pass", Outcome.FORBIDDEN, "class"),
        (GOOD + "_secret = 1", Outcome.FORBIDDEN, "_secret"),
        ("x" * 200_000 + "\n" + GOOD, Outcome.FORBIDDEN, "bytes"),
        ("def strategy(b):\n    return " + "(" * 5000 + ")" * 5000, Outcome.SYNTAX_ERROR, ""),
        ("def strategy(b):\n    return " + "-" * 50_000 + "1", Outcome.SYNTAX_ERROR, ""),
        ("def strategy(b):\n    return 1\x00", Outcome.SYNTAX_ERROR, ""),
    ],
)
def test_check_source_outcomes(code, outcome, needle):
    result = check_source(code, POLICY)
    assert result.outcome is outcome, result.message
    assert needle in result.message
    assert result.timings["check_s"] >= 0


def test_constant_folding_bombs_compile_quickly():
    # CPython's folder refuses large results, so compiling these cannot hang the caller.
    for body in ("10**10**8", "'a' * 10**10", "(1,) * 10**9", "2 << 10**9"):
        result = check_source(f"def strategy(b):\n    return {body}", POLICY)
        assert result.ok and result.timings["check_s"] < 1.0


def test_allowlist_is_configurable():
    code = "import json\n" + GOOD
    assert check_source(code, POLICY).outcome is Outcome.IMPORT_VIOLATION
    wider = SandboxPolicy(allowed_imports=DEFAULT_ALLOWED_IMPORTS | {"json"})
    assert check_source(code, wider).ok


def test_policy_and_job_validation():
    with pytest.raises(ValueError, match="entry_point"):
        SandboxPolicy(entry_point="_hidden")
    with pytest.raises(TypeError, match="single str"):
        SandboxPolicy(allowed_imports="math")
    with pytest.raises(ValueError, match="time_limit_s"):
        SandboxPolicy(time_limit_s=0)
    with pytest.raises(ValueError, match="memory_limit_mb"):
        SandboxPolicy(memory_limit_mb=1)
    with pytest.raises(ValueError, match="module:function"):
        Job(GOOD, "no_colon_here")
    with pytest.raises(TypeError, match="payload"):
        Job(GOOD, "strategy_gym.sandbox.runners:call", payload=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="code must be"):
        check_source(b"def strategy(): pass", POLICY)  # type: ignore[arg-type]


def test_outcome_enum_is_exactly_the_contract():
    assert {o.value for o in Outcome} == {
        "ok", "syntax_error", "no_function", "import_violation", "forbidden", "build_error",
        "runtime_error", "invalid_action", "timeout", "memory_limit", "crashed",
        "output_too_large", "success", "game_over", "max_moves", "stalled", "unfinished", "task_error",
        "infra_error",
    }  # fmt: skip
    assert Outcome.OK == "ok" and str(Outcome.TIMEOUT) == "timeout"


# fuzz ------------------------------------------------------------------------------------
FRAGMENTS = [
    "```python\n", "```\n", "def strategy(board):\n", "    return 'W'\n", "import os\n",
    "<think>", "</think>", "    for r in board:\n", "        pass\n", "(", ")", "[", "]",
    "\x00", "'''", '"', "lambda: ", "__class__", "\t", "\n", "    ", "é∂ƒ", "`", "@x\n",
    "class A:\n", "yield\n", "def solve():\n", "print('x' * 10)\n", "if x:\n", "else:\n",
]  # fmt: skip


def _random_completion(rng: random.Random) -> str:
    if rng.random() < 0.3:  # truncate a good completion anywhere
        text = f"Thinking...\n```python\nimport math\n{GOOD}```\nThat's it."
        return text[: rng.randrange(len(text) + 1)]
    if rng.random() < 0.2:  # raw random characters
        return "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(200)))
    return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randrange(1, 30)))


def test_fuzz_extract_and_check_never_raise():
    rng = random.Random(1234)
    seen = set()
    for _ in range(3000):
        text = _random_completion(rng)
        ext = extract_function(text, "strategy")
        assert isinstance(ext.reason, str) and ext.reason
        result = check_source(ext.code, POLICY)
        assert isinstance(result.outcome, Outcome)
        seen.add(result.outcome)
    # the generator reaches every static outcome, so the fuzz exercises each branch
    assert {Outcome.OK, Outcome.SYNTAX_ERROR, Outcome.NO_FUNCTION, Outcome.IMPORT_VIOLATION} <= seen
