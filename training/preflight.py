"""Preflight: everything the playbook checks before a GRPO run, as one readable report.

Each check returns :class:`Check` rows; a ``fail`` row stops the run before anything is written.
The model-dependent checks (memory, a short generation, the contract's format rate, prompt
lengths) run once the model is loaded and set ``max_prompt_length`` / ``max_completion_length``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strategy_gym.core.messages import completion_text
from strategy_gym.training.generation import Generated, Sampling, generate, prompt_lengths
from strategy_gym.training.pins import (
    BACKEND_EXTRAS,
    OPTIONAL_PACKAGES,
    check_pins,
    installed_version,
)
from strategy_gym.training.tasks import format_flags, format_summary, prompts_of


class PreflightError(RuntimeError):
    """A failed preflight check; ``str()`` is one paragraph naming the check and the fix."""


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail"
    detail: str


@dataclass
class PreflightResult:
    checks: list[Check] = field(default_factory=list)
    samples: list[Generated] = field(default_factory=list)
    format_rate: float | None = None
    format_detail: str = ""
    max_prompt_length: int = 0
    max_completion_length: int = 0

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]


def version_checks(allow_untested: bool = False, backend: str = "transformers") -> list[Check]:
    """The backend's pinned set (pins.BACKEND_PINS): each package installed and in range."""
    rows = []
    extra = BACKEND_EXTRAS.get(backend, "train")
    for pin in check_pins(backend):
        if pin.installed is None:
            rows.append(Check(f"version {pin.package}", "fail",
                              f"not installed; tested {pin.tested} for the {backend} backend "
                              f"(pip install -e '.[{extra}]')"))
            continue
        status = "ok" if pin.ok else ("warn" if allow_untested else "fail")
        rows.append(Check(f"version {pin.package}", status,
                          f"{pin.installed} (tested {pin.tested})"))
    for package in OPTIONAL_PACKAGES:
        found = installed_version(package)
        if found:
            rows.append(Check(f"version {package}", "ok", f"{found} (optional)"))
    return rows


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise PreflightError(
            f"run.device={requested!r} but no CUDA device is visible to torch "
            f"(torch {torch.__version__}). Use run.device=cpu or auto. Nothing was written."
        )
    return requested


def backend_env_checks(backend: str, use_vllm: bool, sleep_mode: bool) -> list[Check]:
    """Unsloth's standby flag must be set before unsloth is imported; we set it and say so."""
    rows = [Check("backend", "ok", backend + (" + vLLM" if use_vllm else ""))]
    if backend == "unsloth" and use_vllm:
        os.environ.setdefault("UNSLOTH_VLLM_STANDBY", "1")
        value = os.environ["UNSLOTH_VLLM_STANDBY"]
        rows.append(Check("UNSLOTH_VLLM_STANDBY", "ok" if value == "1" else "warn", value))
    if use_vllm:
        rows.append(Check("vLLM sleep mode", "ok" if sleep_mode else "warn",
                          "on" if sleep_mode else "off (trainer.vllm_sleep_mode=true frees VRAM)"))
    return rows


def free_memory_gb(device: str) -> float:
    if device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return free / 2**30
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def estimate_memory_gb(model: Any, generations: int, seq_len: int) -> float:
    """Weights + the KV cache of one generation batch + training activations, rough but safe.

    Activations: per token and layer ~ 16 hidden-size values (attention + MLP inputs kept for
    backward), in the model's dtype; LoRA optimizer state is negligible next to the weights.
    """
    params = sum(p.numel() for p in model.parameters())
    first = next(model.parameters())
    width = first.element_size()
    config = getattr(model.config, "text_config", model.config)
    hidden = getattr(config, "hidden_size", 1024)
    layers = getattr(config, "num_hidden_layers", 24)
    tokens = generations * seq_len
    kv_cache = 2 * layers * hidden * tokens * width
    activations = 16 * layers * hidden * tokens * width
    return (params * width + kv_cache + activations) / 2**30 + 0.5  # + runtime overhead


def memory_check(model: Any, device: str, generations: int, seq_len: int) -> Check:
    need = estimate_memory_gb(model, generations, seq_len)
    free = free_memory_gb(device)
    kind = "VRAM" if device.startswith("cuda") else "RAM"
    detail = f"{device}: {free:.1f} GiB {kind} free, ~{need:.1f} GiB needed"
    if free < need:
        return Check("memory", "fail", detail + " (fewer generations, shorter completions, "
                     "quantization or a smaller model)")
    return Check("memory", "warn" if free < 1.5 * need else "ok", detail)


def demo_completion_tokens(tokenizer: Any, demonstrations: Sequence[dict]) -> int | None:
    """Longest demonstration completion in tokens: what a well-formed answer needs."""
    texts = [completion_text(d.get("completion")) for d in demonstrations]
    texts = [t for t in texts if t]
    if not texts:
        return None
    text_tok = getattr(tokenizer, "tokenizer", tokenizer)
    return max(len(text_tok(t, add_special_tokens=False)["input_ids"]) for t in texts)


def measure_lengths(tokenizer: Any, rows: Sequence[dict], completion_cap: int,
                    max_seq_length: int, fixed_prompt: int | None,
                    demo_tokens: int | None = None, headroom: float = 1.25
                    ) -> tuple[int, int, Check]:
    """max_prompt_length = longest prompt + 1 (the notebooks' rule); completion gets the rest,
    capped by the trainer's limit and by ``headroom`` x the longest demonstration (when the task
    has demonstrations: longer completions than a worked example only cost time)."""
    lengths = prompt_lengths(tokenizer, prompts_of(rows))
    longest = max(lengths)
    max_prompt = int(fixed_prompt) if fixed_prompt else longest + 1
    completion = min(int(completion_cap), max_seq_length - max_prompt)
    from_demos = ""
    if demo_tokens:
        by_demo = int(-(-demo_tokens * headroom // 16) * 16)  # round up to a multiple of 16
        completion = min(completion, max(by_demo, 48))
        from_demos = f", demos <= {demo_tokens} tokens"
    detail = (f"prompts {min(lengths)}..{longest} tokens -> max_prompt_length {max_prompt}, "
              f"max_completion_length {completion} (cap {completion_cap}, seq {max_seq_length}"
              f"{from_demos})")
    status = "ok" if completion >= 16 else "fail"
    if longest >= max_prompt:
        status, detail = "warn", detail + f"; prompts above {max_prompt} tokens are dropped"
    return max_prompt, completion, Check("lengths", status, detail)


def tokenizer_check(contract: Any, tokenizer: Any) -> Check | None:
    """The contract's own tokenizer checks (its tags survive TRL's decode, the chat template
    keeps the system prompt and adds a generation prompt), for contracts that have them.
    A warning, not a failure: the sampled format rate is what stops a run."""
    check = getattr(contract, "check_tokenizer", None)
    if check is None:
        return None
    problems = check(tokenizer)
    name = f"tokenizer ({contract.name})"
    if not problems:
        return Check(name, "ok", "tags survive decoding; the chat template renders the prompt")
    return Check(name, "warn", "; ".join(problems))


def sample_check(task: Any, model: Any, tokenizer: Any, rows: Sequence[dict],
                 sampling: Sampling, min_rate: float) -> tuple[list[Generated], float, str, Check]:
    """Generate on the first training prompts and check the contract on the samples."""
    samples = generate(model, tokenizer, prompts_of(rows), sampling)
    texts = [s.text for s in samples]
    flags = format_flags(task, texts)
    rate = sum(flags) / len(flags)
    summary = format_summary(task, texts)
    detail = f"format rate {rate:.0%} on {len(flags)} samples ({task.contract.name})"
    status = "ok" if rate > 0 else "warn"
    if rate < min_rate:
        status = "fail"
        detail += f" < required {min_rate:.0%}: the parser does not match what the model writes"
    return samples, rate, summary, Check("contract", status, detail)


def render(result: PreflightResult, console: Any, title: str = "Preflight") -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in ("check", "status", "detail"):
        table.add_column(col)
    colours = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    for check in result.checks:
        table.add_row(check.name, f"[{colours[check.status]}]{check.status}[/]", check.detail)
    console.print(table)


def raise_on_failure(result: PreflightResult) -> None:
    failed = result.failures()
    if failed:
        reasons = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        raise PreflightError(f"Preflight failed ({reasons}). Nothing was written.")
