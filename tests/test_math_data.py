"""Answer checking, the procedural generator, real-schema loaders, length filtering."""

import json
from fractions import Fraction

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from strategy_gym.text_tasks.answers import (
    Band,
    answers_match,
    format_number,
    parse_number,
    ratio_band,
)
from strategy_gym.text_tasks.contracts import get_contract
from strategy_gym.text_tasks.math_data import (
    generate_problems,
    load_dapo_math,
    load_gsm8k,
    load_openmath_sft,
    reasoning_gym_rows,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234", 1234),
        ("$12", 12),
        ("12 apples", 12),
        ("50%", 50),
        ("3/4", Fraction(3, 4)),
        ("1 1/2", Fraction(3, 2)),
        ("\\frac{3}{4}", Fraction(3, 4)),
        ("-\\frac{1}{2}", Fraction(-1, 2)),
        ("5 km/h", 5),
        ("1e3", 1000),
        ("-.5", Fraction(-1, 2)),
        ("12.", 12),
        ("seven", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("pred", "gold", "mode", "match"),
    [
        ("1,000", "1000", "numeric", True),
        ("1,000", "1000", "exact", False),
        ("50%", "0.5", "numeric", True),
        ("0.5", "50%", "numeric", True),
        ("0.3333333", "1/3", "numeric", True),
        ("0.3333", "1/3", "numeric", False),
        ("12 dollars", "12", "numeric", True),
        ("Paris", "paris", "numeric", True),
        ("\\frac{1}{2}", "0.5", "symbolic", True),
        ("x^2+2x+1", "(x+1)^2", "symbolic", True),
        ("x+1", "(x+1)^2", "symbolic", False),
        (None, "1", "numeric", False),
    ],
)
def test_answers_match(pred, gold, mode, match):
    assert answers_match(pred, gold, mode) is match


def test_ratio_band_and_format_number():
    assert [ratio_band(g, "100") for g in ("100", " 100", "105", "115", "150", "x")] == [
        Band.exact,
        Band.stripped,
        Band.within_10pct,
        Band.within_20pct,
        Band.far,
        Band.not_a_number,
    ]
    assert ratio_band("1", "0") is Band.not_a_number
    assert [format_number(v) for v in (12, 12.0, 0.5, True, None, float("nan"), "7 ")] == [
        "12",
        "12",
        "0.5",
        None,
        None,
        None,
        "7",
    ]


def test_generator_is_seeded_and_answers_are_right():
    a, b = generate_problems(200, 5, 3), generate_problems(200, 5, 3)
    assert a == b and a != generate_problems(200, 6, 3)
    for problem in generate_problems(300, 1, 2, kinds=["arithmetic"]):
        expression = problem.question.removeprefix("What is ").removesuffix("?")
        assert eval(expression.replace("/", "//")) == int(problem.answer)  # noqa: S307
    for problem in generate_problems(300, 2, 3):
        # each worked step is "a op b = c."; the last result is the answer
        assert problem.steps[-1].split("= ")[1].split(" ")[0].rstrip(".") == problem.answer
    levels = {d: max(len(p.steps) for p in generate_problems(100, 0, d)) for d in (1, 2, 3)}
    assert levels == {1: 1, 2: 2, 3: 3}
    with pytest.raises(ValueError, match="difficulty"):
        generate_problems(1, 0, 4)


def test_reasoning_gym_adapter():
    rows = reasoning_gym_rows("basic_arithmetic", 5, seed=3)
    assert len(rows) == 5 and rows == reasoning_gym_rows("basic_arithmetic", 5, seed=3)
    assert rows[0]["source"] == "reasoning_gym:basic_arithmetic"
    expression = rows[0]["question"].removeprefix("Calculate ").rstrip(".")
    assert str(eval(expression.replace("/", "//"))) == rows[0]["answer"]  # noqa: S307
    with pytest.raises(ValueError, match="reasoning-gym cannot create 'no_such_task'"):
        reasoning_gym_rows("no_such_task", 1, 0)


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_gsm8k_from_local_jsonl_and_parquet(tmp_path):
    records = [
        {"question": "Tom has 3 apples and buys 4. How many?", "answer": "3 + 4 = 7\n#### 7"},
        {"question": "A pen costs 2. Cost of 5?", "answer": "2 * 5 = 10\n#### 10"},
    ]
    rows = load_gsm8k(write_jsonl(tmp_path / "gsm8k.jsonl", records))
    assert [r["answer"] for r in rows] == ["7", "10"]
    assert rows[0]["prompt"][0]["content"] == get_contract("llama31").system_prompt
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "gsm8k.parquet")
    assert load_gsm8k(tmp_path / "gsm8k.parquet") == rows


@pytest.mark.parametrize(
    ("record", "error", "message"),
    [
        (
            {"question": "Q", "answer": "no marker"},
            ValueError,
            r"gsm8k row 1: no '####' final answer",
        ),
        (
            {"question": 42, "answer": "#### 1"},
            TypeError,
            r"gsm8k row 1: 'question' must be a string",
        ),
        ({"answer": "#### 1"}, ValueError, r"gsm8k row 1: missing 'question'"),
        ({"question": "Q", "answer": "####  "}, ValueError, r"gsm8k row 1: answer is empty"),
    ],
)
def test_malformed_gsm8k_rows_name_the_row(tmp_path, record, error, message):
    good = {"question": "Q0", "answer": "#### 0"}
    with pytest.raises(error, match=message):
        load_gsm8k(write_jsonl(tmp_path / "bad.jsonl", [good, record]))


def test_dapo_and_openmath_schemas(tmp_path):
    dapo = [
        {"prompt": "Find x if 2x = 6.", "solution": "3", "data_source": "d", "ability": "MATH"},
        {"prompt": "Compute 1/2 + 1/4.", "solution": "\\frac{3}{4}", "data_source": "d"},
    ]
    rows = load_dapo_math(write_jsonl(tmp_path / "dapo.jsonl", dapo))
    assert [r["answer"] for r in rows] == ["3", "\\frac{3}{4}"]
    with pytest.raises(ValueError, match="dapo_math row 0: missing answer"):
        load_dapo_math(write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "Q"}]))
    openmath = [
        {
            "problem": "What is 2+2?",
            "expected_answer": "4",
            "generated_solution": "<think>2 plus 2 is 4.</think>",
        },
        {
            "problem": "Simplify x/x.",
            "expected_answer": "1 for x != 0",
            "generated_solution": "...",
        },
    ]
    sft = load_openmath_sft(write_jsonl(tmp_path / "om.jsonl", openmath))
    assert len(sft) == 1  # the non-numeric expected_answer is dropped, as in the notebook
    assert sft[0]["completion"][0]["content"] == (
        "2 plus 2 is 4.<end_working_out><SOLUTION>4</SOLUTION>"
    )
    (tmp_path / "x.csv").write_text("question,answer\n")
    with pytest.raises(ValueError, match="unsupported dataset file type '.csv'"):
        load_gsm8k(tmp_path / "x.csv")
