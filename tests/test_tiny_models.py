"""The tiny stand-in models build, save, reload through the Auto* classes and generate."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from transformers import (
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
)

from strategy_gym.training.tiny_models import (
    GEMMA3_IMAGE_TOKENS,
    REAL_MODEL_IDS,
    TINY_ARCHS,
    build_tiny_model,
    parameter_count,
    save_tiny_model,
)

# Markers the family's real chat format puts around a user turn and the generation prompt.
EXPECTED_MARKERS = {
    "llama": ("<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>",
              "<|start_header_id|>assistant<|end_header_id|>\n\n"),
    "qwen3": ("<|im_start|>user\n", "<|im_end|>\n", "<|im_start|>assistant\n"),
    "qwen3_base": ("<|im_start|>user\n", "<|im_end|>\n", "<|im_start|>assistant\n"),
    "gpt_oss": ("<|start|>user<|message|>", "<|end|>", "<|start|>assistant"),
    "gemma3_vlm": ("<start_of_turn>user\n", "<end_of_turn>\n", "<start_of_turn>model\n"),
}


def _messages(vision: bool) -> list[dict]:
    question = "What is 2 + 3?"
    content = [{"type": "image"}, {"type": "text", "text": question}] if vision else question
    return [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": content}]


def _inputs(companion, vision: bool) -> dict:
    text = companion.apply_chat_template(_messages(vision), tokenize=False,
                                         add_generation_prompt=True)
    if vision:
        image = Image.new("RGB", (48, 40), (200, 30, 30))
        return companion(text=[text], images=[[image]], return_tensors="pt")
    return companion(text, return_tensors="pt", add_special_tokens=False)


def _greedy(model, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model.generate(**inputs, max_new_tokens=4, do_sample=False, min_new_tokens=4)


def test_every_real_target_has_a_tiny_arch():
    assert set(EXPECTED_MARKERS) == set(TINY_ARCHS) == set(REAL_MODEL_IDS)


@pytest.mark.parametrize("arch", sorted(TINY_ARCHS))
def test_save_reload_generate_matches(arch, tmp_path):
    spec = TINY_ARCHS[arch]
    model, companion = build_tiny_model(arch, seed=3)
    assert type(model).__name__ == spec.model_class
    assert 10_000 < parameter_count(model) < 500_000
    inputs = _inputs(companion, spec.vision)
    first = _greedy(model, inputs)
    assert first.shape[1] == inputs["input_ids"].shape[1] + 4
    assert torch.equal(first, _greedy(model, inputs))  # greedy decoding is deterministic

    path = save_tiny_model(arch, tmp_path / arch, seed=3)
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    auto_model = AutoModelForImageTextToText if spec.vision else AutoModelForCausalLM
    reloaded = auto_model.from_pretrained(path)
    reloaded_companion = (AutoProcessor if spec.vision else AutoTokenizer).from_pretrained(path)
    assert type(reloaded).__name__ == spec.model_class
    assert torch.equal(_inputs(reloaded_companion, spec.vision)["input_ids"],
                       inputs["input_ids"])
    assert torch.equal(_greedy(reloaded, inputs), first)


@pytest.mark.parametrize("arch", sorted(TINY_ARCHS))
def test_seed_fixes_weights_and_leaves_global_rng_alone(arch):
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, _ = build_tiny_model(arch, seed=1)
    assert torch.equal(torch.rand(1), expected_next)
    b, _ = build_tiny_model(arch, seed=1)
    c, _ = build_tiny_model(arch, seed=2)
    weights = [dict(m.named_parameters()) for m in (a, b, c)]
    name = next(n for n in weights[0] if "q_proj" in n)
    assert torch.equal(weights[0][name], weights[1][name])
    assert not torch.equal(weights[0][name], weights[2][name])


@pytest.mark.parametrize("arch", sorted(TINY_ARCHS))
def test_chat_template_renders_family_format(arch):
    spec = TINY_ARCHS[arch]
    _, companion = build_tiny_model(arch)
    text = companion.apply_chat_template(_messages(spec.vision), tokenize=False,
                                         add_generation_prompt=True)
    user_open, turn_close, generation_prompt = EXPECTED_MARKERS[arch]
    assert user_open in text and turn_close in text
    assert text.endswith(generation_prompt)
    assert "Answer briefly." in text and "What is 2 + 3?" in text
    without_prompt = companion.apply_chat_template(_messages(spec.vision), tokenize=False)
    assert not without_prompt.endswith(generation_prompt)
    tokenizer = getattr(companion, "tokenizer", companion)
    # Special tokens must be single ids, never split into bytes.
    for token in spec.tokens.special_tokens:
        assert len(tokenizer.encode(token, add_special_tokens=False)) == 1, token


def test_generation_stops_on_family_eos_tokens():
    model, tokenizer = build_tiny_model("llama")
    eos = model.generation_config.eos_token_id
    assert tokenizer.convert_tokens_to_ids("<|eot_id|>") in eos
    assert tokenizer.eos_token == "<|eot_id|>"
    assert tokenizer.pad_token_id is not None and tokenizer.pad_token_id not in eos


def test_gemma3_processor_expands_image_into_soft_tokens():
    model, processor = build_tiny_model("gemma3_vlm")
    assert type(processor).__name__ == "Gemma3Processor"
    assert type(processor.image_processor).__name__ == "Gemma3ImageProcessorPil"
    inputs = _inputs(processor, vision=True)
    ids = inputs["input_ids"][0].tolist()
    image_id = model.config.image_token_index
    assert ids.count(image_id) == GEMMA3_IMAGE_TOKENS
    assert inputs["pixel_values"].shape[-2:] == (32, 32)
    assert ids.count(processor.tokenizer.convert_tokens_to_ids("<start_of_image>")) == 1


def test_unknown_arch_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown tiny arch 'mistral'.*gemma3_vlm"):
        build_tiny_model("mistral")
    with pytest.raises(TypeError, match="arch must be a str"):
        build_tiny_model(3)  # type: ignore[arg-type]
