"""Checkers, contracts and extraction are total: any completion gives a verdict, quickly.

Each case here was a crash or a stall before (issue #19): an OverflowError out of the reward on
``1e400``, seconds in Fraction on ``1e-8000000``, quadratic bare-code extraction, and a
RecursionError on deeply nested messages. Time bounds are loose (a shared 2-core machine);
the old code missed each of them by an order of magnitude or more.
"""

from __future__ import annotations

import time

import pytest

from strategy_gym.core.messages import completion_text
from strategy_gym.rewards.math import layered_rewards, llama31_rewards, qwen3_rewards
from strategy_gym.sandbox.extract import extract_function
from strategy_gym.text_tasks.answers import (
    answers_match,
    format_number,
    numbers_match,
    parse_number,
)
from strategy_gym.text_tasks.contracts import CONTRACTS, get_contract

HUGE_NUMBERS = ["1e400", "-1e400", "1e-8000000", "1e30000000", "9" * 5000, str(10**400),
                "1e400%", "1/1e-400", "\\frac{1e400}{3}", "3 1/0", "1" * 4301]


def _timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


@pytest.mark.parametrize("number", HUGE_NUMBERS)
def test_huge_and_tiny_numbers_are_a_verdict_within_a_bound(number):
    verdict, seconds = _timed(answers_match, number, "12")
    assert verdict is False and seconds < 0.5
    rewards = [fn([f"<answer>{number}</answer>"], answer=["12"])
               for fn in layered_rewards(partial_credit=True)]
    assert rewards == [[1.0], [0.0]]


def test_big_values_compare_exactly_instead_of_overflowing():
    assert numbers_match("1e400", str(10**400))  # exact: float() would give inf or raise
    assert not numbers_match("1e400", "1e401")
    assert numbers_match("2e-400", "0." + "0" * 399 + "2")
    assert parse_number("1e-8000000") is None  # exponent beyond MAX_EXPONENT: not an answer
    assert parse_number("1e1000") == 10**1000


def test_partial_credit_bands_use_exact_ratios():
    correctness = layered_rewards(partial_credit=True)[1]
    got = correctness(["<answer>105</answer>", "<answer>115</answer>", "<answer>1e400</answer>"],
                      answer=["100", "100", "100"])
    assert got == [0.5, 0.25, 0.0]


def test_program_answers_of_any_size_format_or_refuse():
    assert format_number(10**400) == str(10**400)
    assert format_number(10**5000) is None  # str() would raise past Python's digit limit
    assert format_number(float("inf")) is None


@pytest.mark.slow
def test_program_mode_solve_returning_huge_values_scores_a_number():
    from strategy_gym.tasks.registry import TaskRegistry

    task = TaskRegistry().get("math-program")
    rewards = task.rewards("program")
    returns = ["10 ** 400", "10 ** 5000", "float('inf')", "1e308 * 10", "-(10 ** 400)", "12"]
    completions = [f"```python\ndef solve():\n    return {r}\n```" for r in returns]
    try:
        scores = [fn(completions, answer=["12"] * len(returns)) for fn in rewards]
    finally:
        for fn in rewards:
            fn.close()
    assert all(isinstance(s, float) for column in scores for s in column)
    assert scores[1][-1] == 2.0 and scores[1][:-1] == [0.0] * 5


def test_deeply_nested_messages_give_their_text():
    node = "deep"
    for _ in range(100_000):
        node = [node]
    text, seconds = _timed(completion_text, node)
    assert text == "deep" and seconds < 2
    message = {"role": "assistant", "content": "x"}
    for _ in range(50_000):
        message = [message, {"content": [{"type": "text", "text": "y"}]}]
    assert completion_text(message) == "x" + "y" * 50_000


def test_a_list_containing_itself_ends():
    loop: list = ["a"]
    loop.append(loop)
    text, seconds = _timed(completion_text, loop)
    assert text.startswith("a") and seconds < 5


def test_odd_shapes_are_empty_text():
    assert [completion_text(c) for c in (None, 7, b"<answer>1</answer>", {"content": 3},
                                         [{"content": [{"type": "text", "text": 5}]}])] == [""] * 5


def test_bare_code_extraction_is_linear():
    """15 KB of statements without a fence took 8 s (every line re-joined and re-parsed)."""
    body = "x = 1\n" * 2_500
    prose = "Here is my plan: x = 1 then play\n"
    found, small = _timed(extract_function, prose + body + "def strategy(board):\n    return 'W'\n",
                          "strategy")
    assert found.ok and found.code.startswith("x = 1") and small < 1.0
    found, large = _timed(extract_function, prose + body * 10 + "def strategy(b):\n    return 1\n",
                          "strategy")
    assert found.ok and large < 10.0


@pytest.mark.parametrize("code", [
    '@cache\ndef helper(x):\n    return x\n\ndef strategy(board):\n    return "W"',
    '@first\n@second(1)\ndef helper(x):\n    return x\n\ndef strategy(board):\n    return "W"',
    'class Memo:\n    pass\n\nimport math\nfrom math import floor\nLIMIT = 3\n\ndef strategy(board):\n'
    '    if LIMIT:\n        return "W"\n    else:\n        return "A"',
])
def test_bare_code_keeps_whole_statements(code):
    found = extract_function("Sure, x = 2 below:\n" + code + "\nThat is all.", "strategy")
    assert found.ok and found.code == code


HOSTILE = ["final answer: " + "*" * 20_000 + "x", "<answer>" * 30_000, "\\boxed{" * 20_000,
           "<SOLUTION>" + "1a" * 50_000, ("Final answer: 1\n" * 5_000) + "tail",
           "<" + "a" * 40 + ">" * 10_000, "".join(f"<tag{i}>" for i in range(20_000))]


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_every_contract_parses_hostile_text_within_a_bound(name):
    contract = get_contract(name)
    for text in HOSTILE:
        start = time.perf_counter()
        parsed = contract.parse(text)
        contract.progress(text)
        assert time.perf_counter() - start < 2.0, (name, text[:40])
        assert isinstance(parsed.ok, bool)


def test_notebook_stacks_score_hostile_text():
    fns = llama31_rewards() + qwen3_rewards() + qwen3_rewards("advanced_llama32")
    for text in [*HOSTILE, *(f"<SOLUTION>{n}</SOLUTION>" for n in HUGE_NUMBERS)]:
        for fn in fns:
            start = time.perf_counter()
            kwargs = {"answer": ["12"]}
            scores = fn([text], **kwargs)
            assert time.perf_counter() - start < 2.0, (fn.__name__, text[:40])
            assert all(isinstance(s, float) for s in scores)
