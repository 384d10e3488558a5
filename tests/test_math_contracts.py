"""Output contracts: parsing, nearest-miss reasons, the format report and tokenizer checks."""

import copy

import pytest

from strategy_gym.text_tasks.contracts import (
    CONTRACTS,
    FormatMismatchError,
    MissKind,
    get_contract,
)

# 20 completions a small model might write for the answer_tag contract.
TWENTY_SAMPLES = [
    "3 + 4 = 7.\n<answer>7</answer>",  # ok
    "<answer>12</answer>",  # ok
    "First 5 * 2 = 10. <answer>10</answer> Done.",  # ok: trailing text tolerated
    "The total is 9 <answer>9",  # missing closing tag
    "So <answer>14",  # missing closing tag
    "<answer>8\nand then more",  # missing closing tag
    "Result: <answer>30</answr>",  # closing tag misspelled... but <answer> opened
    "<Answer>5</Answer>",  # tag spelled differently
    "<answers>6</answers>",  # tag spelled differently
    "< answer >2</ answer >",  # tag spelled differently
    "<answer></answer> 11",  # answer outside the tag
    "<answer> </answer>\nThe answer is 4",  # answer outside the tag
    "The answer is 3.",  # no tags
    "",  # empty
    "   ",  # empty
    "</answer>7",  # missing opening tag
    "<answer>1</answer><answer>2</answer>",  # repeated
    "</answer>3<answer>",  # out of order
    "<answer></answer>",  # empty answer
    "I think it is 17",  # no tags
]


def test_format_report_on_twenty_samples_gives_rate_and_nearest_misses():
    report = get_contract("answer_tag").format_report(TWENTY_SAMPLES)
    assert report.total == 20 and report.ok_count == 3
    assert report.rate == pytest.approx(0.15)
    assert report.miss_counts == {
        "missing_closing_tag": 3,
        "misspelled_tag": 4,
        "answer_outside_tag": 2,
        "no_tags": 2,
        "empty": 2,
        "missing_opening_tag": 1,
        "repeated_tag": 1,
        "tags_out_of_order": 1,
        "empty_answer": 1,
    }
    assert report.nearest_miss == "misspelled_tag"
    lines = report.nearest_miss_reasons
    assert lines[0].startswith("misspelled_tag x4: tag spelled differently")
    assert "'</answr>' where '</answer>' was expected (sample 6)" in lines[0]
    assert any("missing closing tag </answer>" in line for line in lines)
    assert any(
        "answer outside the tag" in line and "'11' follows </answer>" in line for line in lines
    )
    summary = report.summary()
    assert "3/20 completions parse (format rate 15%)" in summary
    report.raise_if_unusable()  # 15% > 0: usable


def test_format_report_with_zero_rate_fails_loudly():
    samples = ["The answer is 4", "<Answer>4</Answer>", "<answer>4"] * 7
    report = get_contract("answer_tag").format_report(samples[:20])
    assert report.rate == 0.0
    with pytest.raises(FormatMismatchError, match="format rewards would stay at 0") as err:
        report.raise_if_unusable()
    assert "tag spelled differently" in str(err.value)
    with pytest.raises(FormatMismatchError, match="no sample completions"):
        get_contract("answer_tag").format_report([]).raise_if_unusable()


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("<reasoning>\nmany\nlines\n</reasoning>\n<answer>\n7\n</answer>\n", MissKind.ok, "7"),
        ("<reasoning>x</reasoning><answer>7</answer> extra", MissKind.trailing_text, None),
        ("<reasoning>x<answer>7</answer>", MissKind.missing_closing_tag, None),
        ("<reason>x</reason><answer>7</answer>", MissKind.misspelled_tag, None),
        ("<reasoning>x</reasoning> 7", MissKind.answer_outside_tag, None),
        ("<answer>7</answer><reasoning>x</reasoning>", MissKind.tags_out_of_order, None),
    ],
)
def test_llama31_contract(text, kind, value):
    result = get_contract("llama31").parse(text)
    assert (result.kind, result.value, result.ok) == (kind, value, kind is MissKind.ok)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("think<end_working_out><SOLUTION>7</SOLUTION><|endoftext|>", MissKind.ok, "7"),
        ("<start_working_out>think<end_working_out><SOLUTION> 7 </SOLUTION>", MissKind.ok, "7"),
        ("think<end_working_out><SOLUTION>7", MissKind.missing_closing_tag, None),
        ("think<end_working_out><solution>7</solution>", MissKind.misspelled_tag, None),
        ("think<end_working_out>7", MissKind.answer_outside_tag, None),
        ("think<end_working_out><SOLUTION>7</SOLUTION>\nmore", MissKind.trailing_text, None),
    ],
)
def test_qwen3_contract(text, kind, value):
    result = get_contract("qwen3").parse(text)
    assert (result.kind, result.value) == (kind, value)


@pytest.mark.parametrize(
    ("name", "text", "kind", "value"),
    [
        ("boxed", "so \\boxed{\\frac{1}{2}}.", MissKind.ok, "\\frac{1}{2}"),
        ("boxed", "\\boxed{1} then \\boxed{2}", MissKind.ok, "2"),
        ("boxed", "\\boxed{12", MissKind.missing_closing_tag, None),
        ("boxed", "\\fbox{3}", MissKind.misspelled_tag, None),
        ("boxed", "\\boxed{} 4", MissKind.answer_outside_tag, None),
        ("boxed", "\\boxed{ }", MissKind.empty_answer, None),
        ("boxed", "it is 4", MissKind.no_tags, None),
        ("final_line", "2 + 2 = 4\nFinal answer: 4", MissKind.ok, "4"),
        ("final_line", "**Final Answer:** 4", MissKind.ok, "4"),
        ("final_line", "Final answer: 4\nHope that helps", MissKind.trailing_text, None),
        ("final_line", "The answer is 4", MissKind.misspelled_tag, None),
        ("final_line", "Final answer:", MissKind.empty_answer, None),
        ("final_line", "four", MissKind.no_tags, None),
    ],
)
def test_boxed_and_final_line_contracts(name, text, kind, value):
    result = get_contract(name).parse(text)
    assert (result.kind, result.value) == (kind, value)
    assert result.reason  # every miss says why


def test_contracts_render_what_they_parse_and_accept_conversational_input():
    for name in CONTRACTS:
        contract = get_contract(name)
        text = contract.render("2 + 3 = 5.", "5")
        assert contract.parse(text).value == "5", name
        assert contract.parse([{"role": "assistant", "content": text}]).ok
        assert contract.progress(text) == 1.0
        messages = contract.prompt("What is 2 + 3?")
        assert messages[0] == {"role": "system", "content": contract.system_prompt}


def test_get_contract_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown contract 'xml'"):
        get_contract("xml")
    with pytest.raises(TypeError):
        get_contract(3)


@pytest.fixture(scope="module")
def smol_tokenizer():
    from strategy_gym.training.models import load_tokenizer

    return load_tokenizer("smollm2-135m")


def test_default_contracts_fit_the_embedded_tokenizer(smol_tokenizer):
    assert get_contract("answer_tag").check_tokenizer(smol_tokenizer) == []
    assert get_contract("llama31").check_tokenizer(smol_tokenizer) == []
    assert get_contract("boxed").check_tokenizer(smol_tokenizer) == []


def test_qwen3_contract_reports_missing_prefill_and_odd_splits(smol_tokenizer):
    tokenizer = copy.deepcopy(smol_tokenizer)
    contract = get_contract("qwen3")
    problems = contract.check_tokenizer(tokenizer)
    assert any("does not pre-fill '<start_working_out>'" in p for p in problems)
    # SmolLM2's BPE fuses "." with "<" and ">" with "<" around these tags.
    assert any("'<end_working_out>' is split oddly" in p for p in problems)
    tokenizer.chat_template = contract.chat_template
    assert not any("pre-fill" in p for p in contract.check_tokenizer(tokenizer))
    rendered = tokenizer.apply_chat_template(
        contract.prompt("Q?"), tokenize=False, add_generation_prompt=True
    )
    assert rendered == contract.system_prompt + tokenizer.eos_token + "Q?<start_working_out>"


def test_tokenizer_check_catches_special_token_tags_and_missing_generation_prompt(smol_tokenizer):
    tokenizer = copy.deepcopy(smol_tokenizer)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<answer>"]})
    problems = get_contract("answer_tag").check_tokenizer(tokenizer)
    assert any("'<answer>' does not survive encode -> decode" in p for p in problems)
    tokenizer = copy.deepcopy(smol_tokenizer)
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    problems = get_contract("answer_tag").check_tokenizer(tokenizer)
    assert problems == [
        "the chat template lacks a generation prompt: add_generation_prompt=True "
        "adds nothing, so the model would continue the user's turn"
    ]
    tokenizer.chat_template = None
    assert "no chat template" in get_contract("answer_tag").check_tokenizer(tokenizer)[0]


def test_qwen3_template_matches_the_training_template_registry(smol_tokenizer):
    from strategy_gym.training.chat_templates import chat_template

    ours, theirs = copy.deepcopy(smol_tokenizer), copy.deepcopy(smol_tokenizer)
    ours.chat_template = get_contract("qwen3").chat_template
    theirs.chat_template = chat_template("qwen3_reasoning")
    for messages in (
        [{"role": "user", "content": "Q"}],
        [*get_contract("qwen3").prompt("Q"), {"role": "assistant", "content": "A"}],
    ):
        for gen in (True, False):
            kwargs = {"tokenize": False, "add_generation_prompt": gen}
            assert ours.apply_chat_template(messages, **kwargs) == theirs.apply_chat_template(
                messages, **kwargs
            )


def test_preflight_reports_the_contracts_tokenizer_problems(smol_tokenizer):
    from strategy_gym.play.contract import StrategyContract
    from strategy_gym.training.preflight import tokenizer_check

    check = tokenizer_check(get_contract("qwen3"), smol_tokenizer)
    assert check.status == "warn" and "does not pre-fill '<start_working_out>'" in check.detail
    assert tokenizer_check(get_contract("answer_tag"), smol_tokenizer).status == "ok"
    assert tokenizer_check(StrategyContract.__new__(StrategyContract), smol_tokenizer) is None
