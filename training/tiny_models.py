"""Tiny randomly initialised stand-ins for the real target models, built offline.

No model hub is reachable on the development machines or in CI, so tests and smoke runs use
models of the *same architecture* as each real target (same transformers classes, same chat
format, same special tokens) but under 100k parameters and a byte-level BPE
tokenizer trained in-process on a small built-in corpus. ``save_tiny_model`` writes a complete
local checkpoint so the real loading code (``AutoModelForCausalLM.from_pretrained``,
``AutoModelForImageTextToText.from_pretrained``, ``AutoProcessor.from_pretrained``) runs on it
exactly as it would on the real model.

The chat templates here are our own short renditions of each family's wire format (role markers
and special tokens as in the real models); they are not the vendors' templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    GenerationConfig,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

# Real checkpoints each tiny architecture stands in for.
REAL_MODEL_IDS: dict[str, tuple[str, ...]] = {
    "llama": ("meta-llama/Llama-3.1-8B-Instruct", "unsloth/meta-Llama-3.1-8B-Instruct"),
    "qwen3": ("Qwen/Qwen3-8B", "unsloth/Qwen3-8B"),
    "qwen3_base": ("Qwen/Qwen3-4B-Base", "unsloth/Qwen3-4B-Base"),
    "gpt_oss": ("openai/gpt-oss-20b", "unsloth/gpt-oss-20b"),
    "gemma3_vlm": ("google/gemma-3-4b-it", "unsloth/gemma-3-4b-it"),
}

# Kept small so every tokenizer trains in milliseconds; the byte alphabet means any text encodes.
_VOCAB_SIZE = 512
# Gemma-3 tiny vision tower: 32 px / 8 px patches = 4x4 patches, pooled to 2x2 = 4 soft tokens.
GEMMA3_IMAGE_SIZE = 32
GEMMA3_IMAGE_TOKENS = 4
_HIDDEN = 32
_CORPUS = (
    "You are given a problem. Think about the problem and provide your working out.",
    "Respond in the following format: <reasoning> ... </reasoning> <answer> ... </answer>",
    "<start_working_out> Let me add the numbers. <end_working_out> <SOLUTION>42</SOLUTION>",
    "<REASONING> There are 3 red circles and 2 blue squares. </REASONING> <SOLUTION>3</SOLUTION>",
    "How many red circles are in the image? What is the sum of the numbers shown?",
    "Which bar is the tallest? What is the area of the rectangle? The answer is 12.5",
    "def strategy(board):\n    return \"W\"\n",
    "```python\ndef strategy(board):\n    for row in board:\n        if 0 in row:\n            return 'A'\n",
    "The quick brown fox jumps over the lazy dog. 0 1 2 3 4 5 6 7 8 9 10 100 1000",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many in May.",
    "width height radius triangle square circle bar chart value total count colour green yellow",
)

_GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='', first_user=true) %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}"
    "{% if m['content'] is string %}{% set ns.system = m['content'] + '\\n\\n' %}"
    "{% else %}{% set ns.system = (m['content'] | map(attribute='text') | join('')) + '\\n\\n' %}"
    "{% endif %}"
    "{% else %}"
    "<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
    "{% if m['role'] == 'user' and ns.first_user %}{{ ns.system }}"
    "{% set ns.first_user = false %}{% endif %}"
    "{% if m['content'] is string %}{{ m['content'] | trim }}"
    "{% else %}{% for part in m['content'] %}"
    "{% if part['type'] == 'image' %}<start_of_image>"
    "{% elif part['type'] == 'text' %}{{ part['text'] | trim }}{% endif %}"
    "{% endfor %}{% endif %}"
    "<end_of_turn>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)

# Text of a message whose content is a string or a list of {"type": "text"} parts.
_TEXT_OF = (
    "{% macro text_of(c) %}{% if c is string %}{{ c }}{% else %}"
    "{% for p in c %}{% if p['type'] == 'text' %}{{ p['text'] }}{% endif %}{% endfor %}"
    "{% endif %}{% endmacro %}"
)

_LLAMA_TEMPLATE = (
    _TEXT_OF + "{{ bos_token }}"
    "{% for m in messages %}"
    "<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{{ text_of(m['content']) | trim }}<|eot_id|>"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)

_QWEN_TEMPLATE = (
    _TEXT_OF + "{% for m in messages %}"
    "<|im_start|>{{ m['role'] }}\n{{ text_of(m['content']) }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "<think>\n\n</think>\n\n{% endif %}{% endif %}"
)

_GPT_OSS_TEMPLATE = (
    _TEXT_OF + "<|start|>system<|message|>You are a helpful assistant.\n"
    "Reasoning: {{ reasoning_effort | default('medium') }}\n\n"
    "# Valid channels: analysis, commentary, final.<|end|>"
    "{% for m in messages %}"
    "{% if m['role'] in ('system', 'developer') %}"
    "<|start|>developer<|message|># Instructions\n\n{{ text_of(m['content']) }}<|end|>"
    "{% elif m['role'] == 'user' %}<|start|>user<|message|>{{ text_of(m['content']) }}<|end|>"
    "{% elif m['role'] == 'assistant' %}"
    "<|start|>assistant<|channel|>final<|message|>{{ text_of(m['content']) }}<|end|>"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|start|>assistant{% endif %}"
)


@dataclass(frozen=True)
class _TokenizerSpec:
    special_tokens: tuple[str, ...]  # ids 0.. in this order
    named: dict[str, str]  # bos_token / eos_token / pad_token / unk_token -> token
    chat_template: str
    generation_eos: tuple[str, ...]  # tokens that end generation
    extra: dict[str, str] = field(default_factory=dict)  # model-specific named tokens


_LLAMA_TOKENS = _TokenizerSpec(
    special_tokens=(
        "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
        "<|eot_id|>", "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>",
    ),
    named={"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
           "pad_token": "<|finetune_right_pad_id|>"},
    chat_template=_LLAMA_TEMPLATE,
    generation_eos=("<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"),
)
_QWEN3_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")
_QWEN3_TOKENS = _TokenizerSpec(
    special_tokens=_QWEN3_SPECIALS,
    named={"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    chat_template=_QWEN_TEMPLATE,
    generation_eos=("<|im_end|>", "<|endoftext|>"),
)
_QWEN3_BASE_TOKENS = _TokenizerSpec(
    special_tokens=_QWEN3_SPECIALS,
    named={"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"},
    chat_template=_QWEN_TEMPLATE,
    generation_eos=("<|endoftext|>",),
)
_GPT_OSS_TOKENS = _TokenizerSpec(
    special_tokens=(
        "<|startoftext|>", "<|endoftext|>", "<|start|>", "<|end|>", "<|message|>",
        "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>",
    ),
    named={"bos_token": "<|startoftext|>", "eos_token": "<|return|>",
           "pad_token": "<|endoftext|>"},
    chat_template=_GPT_OSS_TEMPLATE,
    generation_eos=("<|return|>", "<|endoftext|>", "<|call|>"),
)
_GEMMA3_TOKENS = _TokenizerSpec(
    special_tokens=(
        "<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>",
        "<start_of_image>", "<end_of_image>", "<image_soft_token>",
    ),
    named={"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>",
           "unk_token": "<unk>"},
    chat_template=_GEMMA_TEMPLATE,
    generation_eos=("<eos>", "<end_of_turn>"),
    extra={"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
           "image_token": "<image_soft_token>"},
)
def build_tokenizer(spec: _TokenizerSpec) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on the built-in corpus, with the family's specials."""
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=_VOCAB_SIZE,
        special_tokens=list(spec.special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(_CORPUS, trainer)
    kwargs: dict[str, Any] = dict(spec.named)
    if spec.extra:
        kwargs["extra_special_tokens"] = dict(spec.extra)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, model_max_length=4096, **kwargs)
    tokenizer.chat_template = spec.chat_template
    return tokenizer


def _ids(tokenizer: PreTrainedTokenizerFast, tokens: tuple[str, ...]) -> list[int]:
    return [tokenizer.convert_tokens_to_ids(t) for t in tokens]


def _text_kwargs(tokenizer: PreTrainedTokenizerFast, spec: _TokenizerSpec) -> dict[str, Any]:
    """Vocabulary and special ids shared by every text config."""
    return {
        "vocab_size": len(tokenizer),
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": _ids(tokenizer, spec.generation_eos),
        "pad_token_id": tokenizer.pad_token_id,
        "max_position_embeddings": 2048,
    }


def _llama_config(tok: PreTrainedTokenizerFast, spec: _TokenizerSpec) -> PretrainedConfig:
    from transformers import LlamaConfig

    return LlamaConfig(
        hidden_size=_HIDDEN, intermediate_size=2 * _HIDDEN, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rope_theta=500000.0,
        tie_word_embeddings=False, **_text_kwargs(tok, spec),
    )


def _qwen3_config(tok: PreTrainedTokenizerFast, spec: _TokenizerSpec) -> PretrainedConfig:
    from transformers import Qwen3Config

    return Qwen3Config(
        hidden_size=_HIDDEN, intermediate_size=2 * _HIDDEN, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        tie_word_embeddings=True, **_text_kwargs(tok, spec),
    )


def _gpt_oss_config(tok: PreTrainedTokenizerFast, spec: _TokenizerSpec) -> PretrainedConfig:
    from transformers import GptOssConfig

    return GptOssConfig(
        hidden_size=_HIDDEN, intermediate_size=_HIDDEN, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=4,
        num_experts_per_tok=2, sliding_window=128,
        # YaRN as in the real model (factor 32), scaled down so max / original == factor.
        **{**_text_kwargs(tok, spec), "max_position_embeddings": 4096},
        rope_parameters={"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0,
                         "beta_slow": 1.0, "truncate": False, "rope_theta": 150000.0,
                         "original_max_position_embeddings": 128},
    )


def _gemma3_config(tok: PreTrainedTokenizerFast, spec: _TokenizerSpec) -> PretrainedConfig:
    from transformers import Gemma3Config

    text = _text_kwargs(tok, spec)
    text.update(hidden_size=_HIDDEN, intermediate_size=2 * _HIDDEN, num_hidden_layers=2,
                num_attention_heads=2, num_key_value_heads=1, head_dim=16, sliding_window=64)
    vision = dict(hidden_size=_HIDDEN, intermediate_size=2 * _HIDDEN, num_hidden_layers=1,
                  num_attention_heads=2, image_size=GEMMA3_IMAGE_SIZE, patch_size=8,
                  vision_use_head=False)
    return Gemma3Config(
        text_config=text, vision_config=vision, mm_tokens_per_image=GEMMA3_IMAGE_TOKENS,
        boi_token_index=tok.boi_token_id, eoi_token_index=tok.eoi_token_id,
        image_token_index=tok.image_token_id,
    )


def _gemma3_processor(tok: PreTrainedTokenizerFast) -> Any:
    # The PIL backend: the default Gemma3ImageProcessor needs torchvision, absent on CPU machines.
    from transformers import Gemma3Processor
    from transformers.models.gemma3.image_processing_pil_gemma3 import Gemma3ImageProcessorPil

    images = Gemma3ImageProcessorPil(
        size={"height": GEMMA3_IMAGE_SIZE, "width": GEMMA3_IMAGE_SIZE},
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    return Gemma3Processor(image_processor=images, tokenizer=tok,
                           chat_template=_GEMMA_TEMPLATE, image_seq_length=GEMMA3_IMAGE_TOKENS)


@dataclass(frozen=True)
class TinyArch:
    """How to build one tiny architecture; ``vision`` archs return a processor, not a tokenizer."""

    tokens: _TokenizerSpec
    config: Callable[[PreTrainedTokenizerFast, _TokenizerSpec], PretrainedConfig]
    model_class: str  # transformers class name
    vision: bool = False
    processor: Callable[[PreTrainedTokenizerFast], Any] | None = None


TINY_ARCHS: dict[str, TinyArch] = {
    "llama": TinyArch(_LLAMA_TOKENS, _llama_config, "LlamaForCausalLM"),
    "qwen3": TinyArch(_QWEN3_TOKENS, _qwen3_config, "Qwen3ForCausalLM"),
    "qwen3_base": TinyArch(_QWEN3_BASE_TOKENS, _qwen3_config, "Qwen3ForCausalLM"),
    "gpt_oss": TinyArch(_GPT_OSS_TOKENS, _gpt_oss_config, "GptOssForCausalLM"),
    "gemma3_vlm": TinyArch(_GEMMA3_TOKENS, _gemma3_config, "Gemma3ForConditionalGeneration",
                           vision=True, processor=_gemma3_processor),
}


def _arch(arch: str) -> TinyArch:
    if not isinstance(arch, str):
        raise TypeError(f"arch must be a str, got {type(arch).__name__}")
    if arch not in TINY_ARCHS:
        raise ValueError(f"unknown tiny arch {arch!r}; known: {', '.join(sorted(TINY_ARCHS))}")
    return TINY_ARCHS[arch]


def build_tiny_model(arch: str, seed: int = 0) -> tuple[PreTrainedModel, Any]:
    """A tiny random model of ``arch`` and its tokenizer (or processor for vision archs).

    The same ``seed`` gives the same weights; the global torch RNG is left untouched.
    """
    spec = _arch(arch)
    tokenizer = build_tokenizer(spec.tokens)
    config = spec.config(tokenizer, spec.tokens)
    import transformers

    model_class = getattr(transformers, spec.model_class)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=_ids(tokenizer, spec.tokens.generation_eos),
        pad_token_id=tokenizer.pad_token_id,
    )
    model.eval()
    companion = spec.processor(tokenizer) if spec.processor else tokenizer
    return model, companion


def save_tiny_model(arch: str, directory: str | Path, seed: int = 0) -> Path:
    """Write a complete local checkpoint (config, safetensors, tokenizer/processor, template)."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    model, companion = build_tiny_model(arch, seed)
    model.save_pretrained(path, safe_serialization=True)
    companion.save_pretrained(path)
    return path


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
