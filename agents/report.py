"""Summaries, tables and plots of seed-set evaluations (pure functions of records and summaries)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from strategy_gym.core.stats import wilson_interval


def summarize(games: Sequence[Any]) -> dict:
    """Success rate with its Wilson 95% interval, mean score, best-tile and outcome counts of
    2048 game records (the game master's ``GameRecord`` or expectimax's games)."""
    n = len(games)
    successes = sum(g.success for g in games)
    low, high = wilson_interval(successes, n)
    tiles = Counter(_best_tile(g) for g in games)
    return {
        "games": n,
        "successes": successes,
        "success_rate": successes / n if n else 0.0,
        "wilson95": [low, high],
        "mean_score": sum(g.score for g in games) / n if n else 0.0,
        "mean_moves": sum(g.moves for g in games) / n if n else 0.0,
        "best_tiles": {str(t): tiles[t] for t in sorted(tiles)},
        "outcomes": dict(sorted(Counter(str(g.outcome) for g in games).items())),
    }


def _best_tile(game: Any) -> int:
    detail = getattr(game, "detail", None)
    return int(detail["max_tile"]) if detail else int(game.max_tile)


def summary_table(summaries: Mapping[str, dict], title: str):
    """A rich table: one row per candidate (pass@k columns when there are several samples)."""
    from rich.table import Table

    ks = sorted({int(k) for s in summaries.values() for k in s.get("pass", {}).get("pass_at_k", {})})
    table = Table(title=title)
    for column in ("strategy", "games", "success", "95% CI", *[f"pass@{k}" for k in ks],
                   "mean score", "distribution", "outcomes"):  # fmt: skip
        table.add_column(column)
    for name, s in summaries.items():
        low, high = s["wilson95"]
        at_k = s.get("pass", {}).get("pass_at_k", {})
        table.add_row(
            name, str(s["games"]), f"{s['success_rate']:.1%}", f"[{low:.1%}, {high:.1%}]",
            *[f"{at_k[str(k)]:.1%}" if str(k) in at_k else "" for k in ks],
            f"{s['mean_score']:.1f}", _compact(_main_distribution(s)), _compact(s["outcomes"]),
        )  # fmt: skip
    return table


def _main_distribution(summary: Mapping[str, Any]) -> Mapping[str, int]:
    return summary.get("distributions", {}).get(distribution_key(summary) or "", {}) or summary.get(
        "best_tiles") or {}


def distribution_key(summary: Mapping[str, Any]) -> str | None:
    """The task-specific detail shown as a distribution: 2048's best tile, else the first one."""
    dists = summary.get("distributions") or {}
    return "max_tile" if "max_tile" in dists else next(iter(dists), None)


def _natural(key: str) -> tuple:
    """Numbers in numeric order (64 before 128), then words."""
    return (0, int(key), "") if key.lstrip("-").isdigit() else (1, 0, key)


def _compact(counts: Mapping[str, int]) -> str:
    return " ".join(f"{k}:{v}" for k, v in counts.items())


def plot_summaries(summaries: Mapping[str, dict], path: Path, title: str) -> Path:
    """PNG: success rate with Wilson interval; pass@k curves (when k > 1 was drawn); the
    task-specific distribution (2048: best tile) or, without one, the outcome classes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_k = {n: s for n, s in summaries.items() if len(s.get("pass", {}).get("pass_at_k", {})) > 1}
    panels = 3 if with_k else 2
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5))
    _success_panel(axes[0], summaries)
    if with_k:
        _pass_panel(axes[1], with_k)
    _distribution_panel(axes[-1], summaries)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _success_panel(ax: Any, summaries: Mapping[str, dict]) -> None:
    names = list(summaries)
    rates = [summaries[n]["success_rate"] for n in names]
    errors = [  # clamped: float rounding must not make a bar's error negative
        [max(0.0, r - summaries[n]["wilson95"][0]) for n, r in zip(names, rates, strict=True)],
        [max(0.0, summaries[n]["wilson95"][1] - r) for n, r in zip(names, rates, strict=True)],
    ]
    ax.bar(names, rates, yerr=errors, capsize=6, color="tab:green")
    ax.set_ylim(0, 1)
    ax.set_ylabel("success rate (Wilson 95%)")
    ax.set_title("success over (strategy, seed)")
    ax.tick_params(axis="x", labelrotation=20)


def _pass_panel(ax: Any, summaries: Mapping[str, dict]) -> None:
    for name, s in summaries.items():
        table = s["pass"]
        ks = [int(k) for k in table["pass_at_k"]]
        ax.plot(ks, list(table["pass_at_k"].values()), marker="o", label=f"{name} pass@k")
        ax.plot(ks, list(table["pass_hat_k"].values()), marker="x", linestyle="--",
                label=f"{name} pass^k")
    ax.set_xscale("log", base=2)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k")
    threshold = next(iter(summaries.values()))["pass"]["threshold"]
    ax.set_title(f"pass@k and pass^k (pass: success rate >= {threshold:g})")
    ax.legend(fontsize="small")


def _distribution_panel(ax: Any, summaries: Mapping[str, dict]) -> None:
    names = list(summaries)
    has_tiles = any(_main_distribution(s) for s in summaries.values())
    dists = {n: (_main_distribution(s) if has_tiles else s["outcomes"]) for n, s in summaries.items()}
    keys = sorted(dict.fromkeys(k for d in dists.values() for k in d), key=_natural)
    width = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        counts = [dists[name].get(k, 0) for k in keys]
        ax.bar([i + j * width for i in range(len(keys))], counts, width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(keys))], keys)
    key = next((distribution_key(s) for s in summaries.values() if distribution_key(s)), None)
    label = {"max_tile": "best tile"}.get(key or "", key or "outcome")
    ax.set_xlabel(label if has_tiles else "outcome")
    ax.set_ylabel("games")
    ax.set_title(f"{label} distribution" if has_tiles else "outcome classes")
    ax.tick_params(axis="x", labelrotation=20)
    ax.legend(fontsize="small")
