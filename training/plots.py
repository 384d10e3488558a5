"""Matplotlib PNGs of the step log (rewards, lengths, KL/learning rate, step time)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a window
import matplotlib.pyplot as plt  # noqa: E402


def plot_steps(rows: Sequence[dict], path: Path) -> Path:
    """Four panels from step-log rows; rewritten after every step so it is always current."""
    steps = [r["step"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    _rewards(axes[0][0], rows, steps)
    _series(axes[0][1], steps, rows, ["completion_length_mean", "completion_length_max",
                                       "completion_length_min"], "completion length (tokens)")
    _series(axes[1][0], steps, rows, ["kl", "learning_rate"], "KL / learning rate")
    _series(axes[1][1], steps, rows, ["step_seconds"], "seconds per step")
    for ax in axes.flat:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(path)  # atomic: a viewer never sees half a PNG
    return path


def _rewards(ax: plt.Axes, rows: Sequence[dict], steps: list) -> None:
    mean = [r.get("reward") for r in rows]
    std = [r.get("reward_std") or 0.0 for r in rows]
    ax.plot(steps, mean, label="total", color="black", linewidth=2)
    ax.fill_between(steps, [m - s for m, s in zip(mean, std, strict=True)],
                    [m + s for m, s in zip(mean, std, strict=True)], color="grey", alpha=0.2)
    names = sorted({k for r in rows for k in r if k.startswith("reward/") and k.endswith("/mean")})
    for name in names:
        ax.plot(steps, [r.get(name) for r in rows], label=name[len("reward/"):-len("/mean")])
    ax.set_title("reward (mean, ±std band)")
    ax.legend(fontsize=7)


def _series(ax: plt.Axes, steps: list, rows: Sequence[dict], keys: list[str], title: str) -> None:
    for key in keys:
        values = [r.get(key) for r in rows]
        if any(v is not None for v in values):
            ax.plot(steps, [float("nan") if v is None else v for v in values], label=key)
    ax.set_title(title)
    ax.legend(fontsize=7)


def plot_eval(summaries: dict[str, dict], path: Path) -> Path:
    """Bars of format rate and success rate (with Wilson intervals) per evaluation phase."""
    phases = list(summaries)
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.38
    for offset, key, label in ((-width / 2, "format", "format rate"),
                               (width / 2, "success", "success rate")):
        values = [summaries[p][key]["rate"] for p in phases]
        low = [v - summaries[p][key]["low"] for v, p in zip(values, phases, strict=True)]
        high = [summaries[p][key]["high"] - v for v, p in zip(values, phases, strict=True)]
        ax.bar([i + offset for i in range(len(phases))], values, width, yerr=[low, high],
               capsize=4, label=label)
    ax.set_xticks(range(len(phases)), phases)
    ax.set_ylim(0, 1.05)
    ax.set_title("fixed eval prompts (95% Wilson intervals)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
