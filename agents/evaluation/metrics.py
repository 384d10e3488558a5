"""Numbers of one candidate: success over (strategy, seed) and per strategy with Wilson 95%
intervals, pass@k / pass^k, mean score, task-specific distributions and outcome classes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from strategy_gym.agents.evaluation.records import Trial, Unit
from strategy_gym.core.stats import k_ladder, pass_at_k, pass_hat_k, wilson_interval

MAX_DISTINCT = 32  # a detail key with more distinct values is not shown as a distribution


def rate(successes: int, trials: int) -> dict:
    low, high = wilson_interval(successes, trials)
    return {"successes": successes, "trials": trials,
            "rate": successes / trials if trials else 0.0, "wilson95": [low, high]}


def summarize_candidate(units: Sequence[Unit], threshold: float, per_unit: bool = True) -> dict:
    """``per_unit``: strategy tasks, where each unit plays many seeds (answer units hold one)."""
    trials = [t for u in units for t in u.trials]
    overall = rate(sum(t.success for t in trials), len(trials))
    tiles = distributions(trials).get("max_tile", {})
    summary = {
        # the first keys keep the layout of the earlier 2048 evaluator's summary.json
        "games": len(trials), "successes": overall["successes"],
        "success_rate": overall["rate"], "wilson95": overall["wilson95"],
        "mean_score": _mean([t.score for t in trials]),
        "mean_moves": _mean([t.moves for t in trials]),
        "best_tiles": tiles,
        "outcomes": dict(sorted(Counter(t.outcome for t in trials).items())),
        "units": len(units),
        "stages": dict(sorted(Counter(u.stage for u in units).items())),
        "format_rate": _mean([float(u.format_ok) for u in units]),
        "distributions": distributions(trials),
        "pass": pass_table(units, threshold, per_unit),
    }
    if per_unit:
        summary["per_strategy"] = [
            {"unit": u.index, "group": u.group, "stage": u.stage,
             **rate(u.successes, len(u.trials)), "mean_score": u.mean_score,
             "passed": u.passed(threshold)} for u in units]
    return summary


def pass_table(units: Sequence[Unit], threshold: float, strategies: bool = True) -> dict:
    """pass@k and pass^k for k = 1, 2, 4, ... up to the samples per group, averaged over groups.

    A group is one prompt (strategy tasks) or one problem (answer tasks); ``n`` is its number of
    samples and ``c`` how many pass. Groups with fewer than ``k`` samples leave that ``k`` out.
    """
    groups: dict[str, list[bool]] = defaultdict(list)
    for unit in units:
        groups[unit.group].append(unit.passed(threshold))
    counts = [(len(v), sum(v)) for v in groups.values()]
    n_min = min((n for n, _ in counts), default=0)
    ladder = k_ladder(n_min)
    return {
        "threshold": threshold,
        "rule": (f"a sample passes when its success rate over its seeds is >= {threshold:g}"
                 if strategies else "a sample passes when its checked answer is correct"),
        "groups": len(counts), "samples_per_group": n_min,
        "pass_at_k": {str(k): _mean([pass_at_k(n, c, k) for n, c in counts]) for k in ladder},
        "pass_hat_k": {str(k): _mean([pass_hat_k(n, c, k) for n, c in counts]) for k in ladder},
    }


def distributions(trials: Sequence[Trial]) -> dict[str, dict[str, int]]:
    """Counts of each task-specific detail value (2048: best tile), keys sorted naturally."""
    values: dict[str, Counter] = defaultdict(Counter)
    for trial in trials:
        for key, value in trial.detail.items():
            if isinstance(value, int):  # counts, tiles, flags; answers and messages are not
                values[key][value] += 1
    for key, counts in values.items():  # games that never started still count, as "-"
        missing = sum(key not in t.detail for t in trials)
        if missing:
            counts["-"] = missing
    out = {}
    for key, counts in values.items():
        if len(counts) <= MAX_DISTINCT:
            ordered = sorted(counts, key=lambda v: (isinstance(v, str), v))
            out[key] = {str(v): counts[v] for v in ordered}
    return out


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
