"""The model resolver: embedded model (real weights), each target's loading path on a tiny
same-architecture checkpoint, and the one-paragraph errors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from strategy_gym.training import cache as cache_mod
from strategy_gym.training.lora import attach_lora
from strategy_gym.training.models import (
    ModelResolutionError,
    ModelSpec,
    known_model_names,
    load_tokenizer,
    model_spec,
    resolve_model,
)
from strategy_gym.training.tiny_models import save_tiny_model

ROOT = Path(__file__).resolve().parent.parent

# model= name -> the tiny architecture standing in for it, and what its recipe must do on CPU
TARGETS = {
    "gpt-oss-20b": ("gpt_oss", "GptOssForCausalLM", "4-bit loading skipped"),
    "qwen3-4b-base": ("qwen3_base", "Qwen3ForCausalLM", None),
    "llama-3.1-8b": ("llama", "LlamaForCausalLM", "4-bit loading skipped"),
    "qwen3-8b-fp8": ("qwen3", "Qwen3ForCausalLM", "FP8 loading skipped"),
    "gemma-3-4b": ("gemma3_vlm", "Gemma3ForConditionalGeneration", "4-bit loading skipped"),
}


@pytest.fixture(scope="module")
def embedded():
    return resolve_model("smollm2-135m")


@pytest.mark.slow
def test_embedded_model_generates_deterministically(embedded):
    tok = embedded.tokenizer
    messages = [{"role": "user", "content": "What is 2+3? Answer with a number."}]
    enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                  return_dict=True)
    outs = [embedded.model.generate(**enc, max_new_tokens=8, do_sample=False) for _ in range(2)]
    assert torch.equal(outs[0], outs[1])
    text = tok.decode(outs[0][0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "5" in text
    assert embedded.model.dtype == torch.float32
    assert not hasattr(embedded.model.config, "quantization_config")  # TRL would refuse it
    assert getattr(embedded.model, "hf_quantizer", None) is None


@pytest.mark.slow
def test_embedded_cache_is_reused(embedded, monkeypatch):
    checkpoint = Path(embedded.checkpoint)
    assert cache_mod.is_cached(checkpoint)
    assert sorted(p.name for p in checkpoint.glob("*.safetensors")) == ["model.safetensors"]

    def must_not_rebuild(target):
        raise AssertionError(f"cache miss: rebuilding {target}")

    monkeypatch.setattr(cache_mod, "_build_embedded", must_not_rebuild)
    start = time.perf_counter()
    again = resolve_model("smollm2-135m")
    assert again.checkpoint == embedded.checkpoint
    assert time.perf_counter() - start < 30  # a local load, not a download + GGUF conversion


def test_cache_root_follows_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv(cache_mod.CACHE_ENV_VAR, str(tmp_path))
    assert cache_mod.models_dir() == tmp_path / "models"
    monkeypatch.delenv(cache_mod.CACHE_ENV_VAR)
    assert cache_mod.models_dir() == Path.home() / ".cache" / "strategy-gym" / "models"


@pytest.mark.slow
def test_load_tokenizer_embedded():
    tok = load_tokenizer("smollm2-135m")
    assert tok.padding_side == "left" and tok.pad_token is not None
    ids = tok("def strategy(board):")["input_ids"]
    assert tok.decode(ids) == "def strategy(board):"


def test_every_config_name_has_a_spec():
    names = known_model_names()
    assert {"smollm2-135m", *TARGETS} <= set(names)
    for name in names:
        spec = model_spec(name)
        assert spec.name == name
        assert spec.source in {"embedded", "hub"}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_loading_path_on_tiny_checkpoint(name, tmp_path):
    arch, cls, note = TARGETS[name]
    save_tiny_model(arch, tmp_path / arch)
    loaded = resolve_model(name, path=str(tmp_path / arch))
    assert type(loaded.model).__name__ == cls
    assert loaded.checkpoint == str(tmp_path / arch)
    assert (note is None and not loaded.notes) or any(note in n for n in loaded.notes)
    spec = model_spec(name)
    peft_model = attach_lora(loaded.model, spec)
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    if spec.modality == "vision":  # the Gemma-3 recipe: language layers only
        assert not any("vision" in n for n in trainable)
    text_tok = loaded.text_tokenizer
    prompt = text_tok.apply_chat_template([{"role": "user", "content": "2+2?"}], tokenize=False,
                                          add_generation_prompt=True)
    enc = text_tok(prompt, return_tensors="pt", add_special_tokens=False)
    out = peft_model.generate(**enc, max_new_tokens=3, do_sample=False)
    assert out.shape[1] > enc["input_ids"].shape[1]


def test_qwen3_base_custom_template(tmp_path):
    save_tiny_model("qwen3_base", tmp_path)
    tok = load_tokenizer("qwen3-4b-base", path=str(tmp_path))
    text = tok.apply_chat_template([{"role": "user", "content": "What is 1+1?"}], tokenize=False,
                                   add_generation_prompt=True)
    assert text.startswith("You are given a problem.\nThink about the problem")
    assert text.endswith("What is 1+1?<start_working_out>")
    custom = tok.apply_chat_template([{"role": "system", "content": "SYS"},
                                      {"role": "user", "content": "Q"}], tokenize=False)
    assert custom == "SYS" + tok.eos_token + "Q"


def test_unknown_name_is_one_paragraph():
    with pytest.raises(ModelResolutionError) as err:
        resolve_model("no-such-model")
    message = str(err.value)
    assert "\n" not in message and "smollm2-135m" in message and "model.path" in message


def test_unreachable_hub_id_is_one_paragraph_and_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    start = time.perf_counter()
    with pytest.raises(ModelResolutionError) as err:
        resolve_model("gpt-oss-20b")
    assert time.perf_counter() - start < 10
    message = str(err.value)
    assert "\n" not in message and "openai/gpt-oss-20b" in message
    assert "model=gpt-oss-20b model.path=DIR" in message


def test_path_without_checkpoint_is_rejected(tmp_path):
    with pytest.raises(ModelResolutionError, match="no config.json"):
        resolve_model("llama-3.1-8b", path=str(tmp_path))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="non-empty"):
        resolve_model("")
    with pytest.raises(ValueError, match="unknown keys"):
        ModelSpec.from_mapping({"name": "x", "lora_rank": 4})


def _train_env(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, str(ROOT / "train_env.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_help_lists_groups(tmp_path):
    done = _train_env(["--help"], tmp_path)
    assert done.returncode == 0
    for group in ("env: 2048, math", "model: ", "trainer: cpu", "experiment: "):
        assert group in done.stdout
    assert "smollm2-135m" in done.stdout and "gpt-oss-2048" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_wrong_model_name_exits_cleanly_writing_nothing(tmp_path):
    done = _train_env(["env=2048", "model=nope"], tmp_path)
    assert done.returncode == 2
    assert "Unknown model 'nope'" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_unreachable_hub_exits_cleanly_writing_nothing(tmp_path):
    done = _train_env(["env=2048", "model=gpt-oss-20b"], tmp_path,
                      HF_ENDPOINT="http://127.0.0.1:9", HF_HUB_CACHE=str(tmp_path / "hub"))
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "model.path=DIR" in out and "Traceback" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == []
