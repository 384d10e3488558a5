"""Which training backend runs: Unsloth (+ vLLM) on a GPU when installed, else transformers+PEFT.

Both read the same config. The Unsloth path is import-guarded and only reachable on CUDA; its
loading and LoRA attachment live in :mod:`strategy_gym.training.unsloth_backend`.
"""

from __future__ import annotations

from importlib.util import find_spec


class BackendError(ValueError):
    """A backend that was asked for but cannot run here; ``str()`` says why and what to do."""


def unsloth_available() -> bool:
    return find_spec("unsloth") is not None


def vllm_available() -> bool:
    return find_spec("vllm") is not None


def choose_backend(requested: str, device: str, use_vllm: bool) -> tuple[str, bool, str]:
    """(backend, use_vllm, reason) for ``trainer.backend`` = auto | transformers | unsloth."""
    if requested not in {"auto", "transformers", "unsloth"}:
        raise BackendError(f"trainer.backend must be auto, transformers or unsloth, got "
                           f"{requested!r}")
    on_gpu = device.startswith("cuda")
    if requested == "unsloth" and not (on_gpu and unsloth_available()):
        raise BackendError(
            "trainer.backend=unsloth needs a CUDA device and the unsloth package "
            f"(device {device}, unsloth {'installed' if unsloth_available() else 'missing'}). "
            "Install the extra with pip install -e '.[unsloth]' on a GPU machine, or use "
            "trainer.backend=transformers. Nothing was written.")
    if requested == "unsloth" or (requested == "auto" and on_gpu and unsloth_available()):
        vllm = use_vllm and vllm_available()
        why = "unsloth on CUDA" + ("" if vllm or not use_vllm else " (vLLM missing: HF generation)")
        return "unsloth", vllm, why
    why = "transformers + PEFT" + ("" if on_gpu else " on CPU")
    if use_vllm and not on_gpu:
        why += " (vLLM needs CUDA: HF generation)"
    vllm = use_vllm and on_gpu and vllm_available()
    return "transformers", vllm, why
