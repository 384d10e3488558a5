"""The ``chatml_tools`` template: TRL's own checks accept it, tool calls round-trip through the
parser, and the embedded model (whose template has no tools) gets it in play mode."""

from __future__ import annotations

import pytest
from trl.chat_template_utils import (
    is_chat_template_prefix_preserving,
    parse_response,
    supports_tool_calling,
)

from strategy_gym.envs.text_play import Game2048Play
from strategy_gym.training.chat_templates import install_tool_template
from strategy_gym.training.environments import ensure_tool_template, environment_class
from strategy_gym.training.tiny_models import build_tiny_model


@pytest.fixture(scope="module")
def move():
    return environment_class(Game2048Play(size=4, target=256))().move


def _conversation() -> list[dict]:
    call = {"type": "function", "function": {"name": "move", "arguments": {"direction": "up"}}}
    return [{"role": "user", "content": "Play."},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "name": "move", "content": "Board (score 4):"}]


def _check_tokenizer(tokenizer, move) -> None:
    install_tool_template(tokenizer)
    assert supports_tool_calling(tokenizer)
    assert is_chat_template_prefix_preserving(tokenizer)
    text = tokenizer.apply_chat_template(_conversation(), tools=[move], tokenize=False,
                                         add_generation_prompt=True)
    assert '"name": "move"' in text and "One of up, down, left or right." in text
    assert ('<|im_start|>assistant\n<tool_call>\n{"name": "move", "arguments": '
            '{"direction": "up"}}\n</tool_call><|im_end|>\n<|im_start|>tool\nBoard (score 4):'
            '<|im_end|>\n<|im_start|>assistant\n') in text
    prompt = tokenizer.apply_chat_template(_conversation()[:1], tools=[move], tokenize=True,
                                           add_generation_prompt=True, return_dict=False)
    generated = tokenizer('<tool_call>\n{"name": "move", "arguments": {"direction": "left"}}\n'
                          "</tool_call><|im_end|>", add_special_tokens=False)["input_ids"]
    parsed = parse_response(tokenizer, generated, prefix=prompt, tools=[move])
    assert parsed["tool_calls"] == [{"type": "function", "function": {
        "name": "move", "arguments": {"direction": "left"}}}]
    plain = tokenizer("I move left.<|im_end|>", add_special_tokens=False)["input_ids"]
    assert parse_response(tokenizer, plain, prefix=prompt, tools=[move]) == {
        "role": "assistant", "content": "I move left."}


def test_tiny_chatml_tokenizer_gets_a_template_trl_accepts(move):
    _, tokenizer = build_tiny_model("qwen3")
    _check_tokenizer(tokenizer, move)


def test_without_tools_it_is_plain_chatml_with_a_system_turn():
    _, tokenizer = build_tiny_model("qwen3")
    install_tool_template(tokenizer)
    text = tokenizer.apply_chat_template([{"role": "system", "content": "Be brief."},
                                          {"role": "user", "content": "Hi"}], tokenize=False)
    assert text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"


def test_ensure_tool_template_keeps_a_template_trl_knows_and_refuses_non_chatml():
    _, tokenizer = build_tiny_model("qwen3")
    assert not supports_tool_calling(tokenizer)  # the tiny Qwen template has no tools
    assert "chatml_tools" in ensure_tool_template(tokenizer)
    assert ensure_tool_template(tokenizer) is None  # already fine: left alone
    _, llama = build_tiny_model("llama")
    with pytest.raises(ValueError, match="not ChatML"):
        ensure_tool_template(llama)


@pytest.mark.slow
def test_embedded_smollm2_tokenizer(move):
    from strategy_gym.training.models import load_tokenizer

    tokenizer = load_tokenizer("smollm2-135m")
    assert not supports_tool_calling(tokenizer)  # SmolLM2's own template: no tools
    _check_tokenizer(tokenizer, move)
