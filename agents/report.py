"""Summaries, tables and plots of seed-set evaluations (pure functions of game records)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from strategy_gym.agents.playout import GameRecord
from strategy_gym.core.stats import wilson_interval


def summarize(games: Sequence[GameRecord]) -> dict:
    """Success rate with its Wilson 95% interval, mean score, best-tile and outcome counts."""
    n = len(games)
    successes = sum(g.success for g in games)
    low, high = wilson_interval(successes, n)
    tiles = Counter(g.max_tile for g in games)
    return {
        "games": n,
        "successes": successes,
        "success_rate": successes / n if n else 0.0,
        "wilson95": [low, high],
        "mean_score": sum(g.score for g in games) / n if n else 0.0,
        "mean_moves": sum(g.moves for g in games) / n if n else 0.0,
        "best_tiles": {str(t): tiles[t] for t in sorted(tiles)},
        "outcomes": dict(sorted(Counter(g.outcome for g in games).items())),
    }


def summary_table(summaries: Mapping[str, dict], title: str):
    """A rich table: one row per strategy."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("strategy", "games", "success", "95% CI", "mean score", "best tiles", "outcomes"):
        table.add_column(column)
    for name, s in summaries.items():
        low, high = s["wilson95"]
        table.add_row(
            name, str(s["games"]), f"{s['success_rate']:.1%}", f"[{low:.1%}, {high:.1%}]",
            f"{s['mean_score']:.0f}", _compact(s["best_tiles"]), _compact(s["outcomes"]),
        )  # fmt: skip
    return table


def _compact(counts: Mapping[str, int]) -> str:
    return " ".join(f"{k}:{v}" for k, v in counts.items())


def plot_summaries(summaries: Mapping[str, dict], path: Path, title: str) -> Path:
    """PNG: best-tile histogram per strategy (left), success rate with Wilson interval (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summaries)
    tiles = sorted({int(t) for s in summaries.values() for t in s["best_tiles"]})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        counts = [summaries[name]["best_tiles"].get(str(t), 0) for t in tiles]
        left.bar([i + k * width for i in range(len(tiles))], counts, width, label=name)
    left.set_xticks([i + 0.4 - width / 2 for i in range(len(tiles))], [str(t) for t in tiles])
    left.set_xlabel("best tile")
    left.set_ylabel("games")
    left.set_title("best-tile distribution")
    left.legend(fontsize="small")
    rates = [summaries[n]["success_rate"] for n in names]
    errors = [  # clamped: float rounding must not make a bar's error negative
        [max(0.0, r - summaries[n]["wilson95"][0]) for n, r in zip(names, rates, strict=True)],
        [max(0.0, summaries[n]["wilson95"][1] - r) for n, r in zip(names, rates, strict=True)],
    ]
    right.bar(names, rates, yerr=errors, capsize=6, color="tab:green")
    right.set_ylim(0, 1)
    right.set_ylabel("success rate (Wilson 95%)")
    right.set_title("success rate")
    right.tick_params(axis="x", labelrotation=20)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
