"""Every branch of every math reward function, with the notebooks' exact values."""

import pytest

from strategy_gym.rewards.math import (
    correctness_reward_func,
    int_reward_func,
    layered_rewards,
    llama31_rewards,
    qwen3_rewards,
    soft_format_reward_func,
    strict_format_reward_func,
    xmlcount_reward_func,
)

PERFECT_L31 = "<reasoning>\nadd them\n</reasoning>\n<answer>\n7\n</answer>\n"
MULTILINE_L31 = "<reasoning>\nline1\nline2\n</reasoning>\n<answer>\n7\n</answer>"


def scores(fn, completions, answers=None):
    if answers is None:
        return fn(completions)
    return fn(completions, answer=answers)


# ------------------------------------------------------------------ Llama-3.1 stack


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PERFECT_L31, 0.5),
        # tail "abc": -0.003 after "\n</answer>\n", -(4 - 1) * 0.001 after "\n</answer>"
        (PERFECT_L31 + "abc", 0.494),
        # no "\n</answer>\n": the whole 57-char text is tail (-0.057); ends at "\n</answer>": +0.001
        (MULTILINE_L31, 0.444),
        ("no tags at all", 0.0),
        ("<reasoning>\n<reasoning>\nx\n</reasoning>\n", 0.125),  # opening twice: no credit
    ],
)
def test_xmlcount_branches(text, expected):
    assert scores(xmlcount_reward_func, [text]) == [pytest.approx(expected)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<reasoning>one line</reasoning>\n<answer>7</answer>", 0.5),
        (PERFECT_L31, 0.0),  # the prompt's own multi-line frame fails: no DOTALL
        ("Sure. <reasoning>r</reasoning><answer>7</answer>", 0.0),  # re.match: no preamble
        ("<answer>7</answer>", 0.0),
    ],
)
def test_soft_format_branches(text, expected):
    assert scores(soft_format_reward_func, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PERFECT_L31, 0.5),
        (PERFECT_L31 + "\n", 0.5),  # "$" also matches before one more trailing newline
        (PERFECT_L31.rstrip("\n"), 0.0),  # ends at </answer> (EOS stripped): fails
        (MULTILINE_L31 + "\n", 0.0),  # reasoning on two lines: no DOTALL
    ],
)
def test_strict_format_branches(text, expected):
    assert scores(strict_format_reward_func, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<answer>\n42\n</answer>", 0.5),
        ("<answer>-3</answer>", 0.0),
        ("<answer>1,000</answer>", 0.0),
        ("<answer>2.5</answer>", 0.0),
        ("42", 0.5),  # no tag: the whole text is "the answer"
    ],
)
def test_int_reward_branches(text, expected):
    assert scores(int_reward_func, [text]) == [expected]


def test_correctness_branches():
    completions = [PERFECT_L31, PERFECT_L31, "<answer>1,000</answer>", "7", PERFECT_L31]
    answers = ["7", "8", "1000", "7", None]
    assert scores(correctness_reward_func, completions, answers) == [2.0, 0.0, 0.0, 2.0, None]


def test_llama31_stack_order_names_and_total_on_conversational_completion(capsys):
    fns = llama31_rewards()
    assert [f.__name__ for f in fns] == [
        "xmlcount_reward_func",
        "soft_format_reward_func",
        "strict_format_reward_func",
        "int_reward_func",
        "correctness_reward_func",
    ]
    single_line = "<reasoning>\n3 plus 4\n</reasoning>\n<answer>\n7\n</answer>\n"
    conversational = [[{"role": "assistant", "content": single_line}]]
    totals = [f(conversational, answer=["7"])[0] for f in fns]
    assert totals == [0.5, 0.0, 0.5, 0.5, 2.0]
    assert capsys.readouterr().out == ""  # the notebook prints on every call; we do not


# ------------------------------------------------------------------ Qwen3 stack

Q_OK = "work<end_working_out><SOLUTION>7</SOLUTION>"


def qwen3(name, variant="qwen3"):
    return next(f for f in qwen3_rewards(variant) if f.__name__ == name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (Q_OK, 3.0),
        (Q_OK + "<|endoftext|>\n", 3.0),
        (Q_OK + "\nmore text on the next line", 3.0),  # MULTILINE "$" quirk
        (Q_OK + " trailing words", 0.0),
        ("work<SOLUTION>7</SOLUTION>", 0.0),
    ],
)
def test_match_format_exactly(text, expected):
    assert qwen3("match_format_exactly")([text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (Q_OK, 1.5),
        ("<start_working_out>" * 2 + Q_OK, 1.5),  # the pre-filled start tag is not scored
        ("nothing", -3.0),
        ("<end_working_out><SOLUTION>7</SOLUTION><SOLUTION>", 0.0),
    ],
)
def test_match_format_approximately(text, expected):
    assert qwen3("match_format_approximately")([text]) == [expected]


def solution(value):
    return f"w<end_working_out><SOLUTION>{value}</SOLUTION>"


@pytest.mark.parametrize(
    ("text", "gold", "expected"),
    [
        ("no format", "7", -2.0),
        (solution("7"), "7", 5.0),
        (solution(" 7 "), "7", 3.5),
        (solution("7.35"), "7", 2.0),  # ratio 1.05
        (solution("8.2"), "7", 1.5),  # ratio 1.17
        (solution("100"), "7", -2.5),
        (solution("seven"), "7", -4.5),
        (solution("1"), "0", -4.5),  # gold 0: ZeroDivisionError lands in the except branch
        (solution("7"), None, None),
    ],
)
def test_check_answer(text, gold, expected):
    assert qwen3("check_answer")([text], answer=[gold]) == [expected]


@pytest.mark.parametrize(
    ("text", "gold", "expected"),
    [
        ("no solution tag 7", "7", -2.5),
        (solution("1,000"), "1000", 3.5),
        (solution("-5"), "-5", 3.5),
        (solution("6"), "7", -1.5),
        (solution("The answer."), "7", 0.0),  # "." matches the number pattern, float fails
        ("<SOLUTION>x</SOLUTION> 7", "7", 3.5),  # ".*?" runs past </SOLUTION>
        (solution("0.5"), "\\frac{1}{2}", 0.0),
    ],
)
def test_check_numbers(text, gold, expected):
    assert qwen3("check_numbers")([text], answer=[gold]) == [expected]


AL_OK = "<start_working_out>w<end_working_out><SOLUTION>{}</SOLUTION>"


@pytest.mark.parametrize(
    ("name", "text", "gold", "expected"),
    [
        ("match_format_exactly", AL_OK.format(7), None, 3.0),
        ("match_format_exactly", Q_OK, None, 0.0),  # the start tag is required here
        ("match_format_approximately", AL_OK.format(7), None, 2.0),
        ("match_format_approximately", "none", None, -4.0),
        ("check_answer", "none", "7", 0.0),
        ("check_answer", AL_OK.format(7), "7", 3.0),
        ("check_answer", AL_OK.format(" 7"), "7", 1.5),
        ("check_answer", AL_OK.format(7.35), "7", 1.0),
        ("check_answer", AL_OK.format(8.2), "7", 0.5),
        ("check_answer", AL_OK.format(100), "7", -1.5),
        ("check_answer", AL_OK.format("x"), "7", -1.5),
        ("check_numbers", "none", "7", 0.0),
        ("check_numbers", AL_OK.format(7), "7", 1.5),
        ("check_numbers", AL_OK.format(6), "7", -0.5),
        ("check_numbers", AL_OK.format(-5), "-5", -0.5),  # no minus sign in its pattern
        ("check_numbers", AL_OK.format("."), "7", 0.0),
    ],
)
def test_advanced_llama32_values(name, text, gold, expected):
    fn = qwen3(name, "advanced_llama32")
    result = fn([text], answer=[gold]) if gold is not None else fn([text])
    assert result == [expected]


def test_qwen3_stack_names_and_custom_eos():
    assert [f.__name__ for f in qwen3_rewards()] == [
        "match_format_exactly",
        "match_format_approximately",
        "check_answer",
        "check_numbers",
    ]
    exact = qwen3_rewards(eos_token="<|im_end|>")[0]
    assert exact([Q_OK + "<|im_end|>"]) == [3.0]
    with pytest.raises(ValueError, match="unknown variant"):
        qwen3_rewards("nope")


# ------------------------------------------------------------------ layered default


def test_layered_format_reward_full_partial_none():
    fmt, _ = layered_rewards("llama31")
    assert fmt.__name__ == "format_reward"
    partial = "<reasoning>\nx\n</reasoning>\n<answer>7"  # 3 of 4 tags
    assert fmt([MULTILINE_L31, partial, "none"]) == [1.0, 0.375, 0.0]


def test_layered_correctness_is_gated_and_tolerant():
    _, correct = layered_rewards("answer_tag")
    completions = [
        "so <answer>1,000</answer>",
        "<answer>999</answer>",
        "1000",
        "<answer>7</answer>",
    ]
    assert correct(completions, answer=["1000", "1000", "1000", None]) == [2.0, 0.0, 0.0, None]


def test_layered_partial_credit_bands():
    _, correct = layered_rewards("answer_tag", partial_credit=True)
    completions = [
        "<answer>105</answer>",
        "<answer>118</answer>",
        "<answer>300</answer>",
        "<answer>1</answer>",
    ]
    assert correct(completions, answer=["100", "100", "100", "0"]) == [0.5, 0.25, 0.0, 0.0]


def test_layered_symbolic_mode():
    _, numeric = layered_rewards("boxed")
    _, symbolic = layered_rewards("boxed", mode="symbolic")
    text = ["so \\boxed{(x+1)^2}"]
    assert numeric(text, answer=["x^2+2x+1"]) == [0.0]
    assert symbolic(text, answer=["x^2+2x+1"]) == [2.0]


def test_reward_arguments_are_validated():
    with pytest.raises(TypeError, match="answer"):
        correctness_reward_func(["x"])
    with pytest.raises(ValueError, match="2 answers for 1 completions"):
        qwen3("check_answer")(["x"], answer=["1", "2"])
