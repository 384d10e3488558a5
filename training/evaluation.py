"""Before/after evaluation on the fixed prompt set with fixed (seeded) sampling, via task.assess."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strategy_gym.core.stats import wilson_interval
from strategy_gym.tasks.registry import Assessment, Task
from strategy_gym.training.generation import Generated, Sampling, generate
from strategy_gym.training.tasks import format_flags, prompts_of

SUCCESS_THRESHOLD = 0.5  # a completion "succeeds" when its task score is at least this


@dataclass
class EvalResult:
    phase: str
    generated: list[Generated]
    assessments: list[Assessment]
    summary: dict


def assess_safely(task: Task, texts: Sequence[str], rows: Sequence[dict]) -> list[Assessment]:
    """task.assess, or a format-only assessment naming the error if assess itself fails."""
    try:
        result = list(task.assess(list(texts), list(rows)))
        if len(result) == len(texts):
            return result
        reason = f"assess returned {len(result)} results for {len(texts)} completions"
    except Exception as exc:  # evaluation must report, not crash, on odd model output
        reason = f"assess raised {type(exc).__name__}: {exc}"
    flags = format_flags(task, texts)
    return [Assessment(ok, 0.0, "assess_error", {"error": reason}) for ok in flags]


def evaluate(phase: str, task: Task, model: Any, tokenizer: Any, rows: Sequence[dict],
             sampling: Sampling, progress: Any = None) -> EvalResult:
    generated = generate(model, tokenizer, prompts_of(rows), sampling, progress)
    texts = [g.text for g in generated]
    assessments = assess_safely(task, texts, rows)
    return EvalResult(phase, generated, assessments, summarize(generated, assessments, sampling))


def _rate(successes: int, trials: int) -> dict:
    low, high = wilson_interval(successes, trials)
    return {"count": successes, "n": trials, "rate": successes / trials if trials else 0.0,
            "low": low, "high": high}


def summarize(generated: Sequence[Generated], assessments: Sequence[Assessment],
              sampling: Sampling) -> dict:
    n = len(assessments)
    scores = [a.score for a in assessments]
    lengths = [g.tokens for g in generated]
    return {
        "n": n,
        "format": _rate(sum(a.format_ok for a in assessments), n),
        "success": _rate(sum(s >= SUCCESS_THRESHOLD for s in scores), n),
        "mean_score": sum(scores) / n if n else 0.0,
        **_game_stats(assessments),
        "outcomes": dict(Counter(a.outcome for a in assessments).most_common()),
        "length": {"mean": sum(lengths) / n if n else 0.0, "min": min(lengths, default=0),
                   "max": max(lengths, default=0)},
        "anomalies": length_anomalies(generated, sampling.max_new_tokens),
    }


def _game_stats(assessments: Sequence[Assessment]) -> dict:
    """Per-game numbers when the task reports games (2048: ``games``, ``outcomes``,
    ``best_tile`` in each assessment's detail): games won with a Wilson interval over games
    (games of one strategy are correlated: the per-strategy ``success`` is the honest rate),
    and the mean over strategies of each one's best tile (0 for code that never played)."""
    details = [a.detail for a in assessments if isinstance(a.detail, dict)]
    if not details or not any("games" in d for d in details):
        return {}
    games = sum(int(d.get("games", 0)) for d in details)
    won = sum(int((d.get("outcomes") or {}).get("success", 0)) for d in details)
    tiles = [int(d.get("best_tile", 0)) for d in details]
    return {"games": _rate(won, games), "mean_best_tile": sum(tiles) / len(tiles),
            "best_tiles": {str(k): v for k, v in sorted(Counter(tiles).items())}}


def length_anomalies(generated: Sequence[Generated], limit: int) -> dict:
    """Counts of completions that hit the token limit, are empty/tiny, or loop on one line."""
    return {
        "truncated": sum(g.truncated for g in generated),
        "empty": sum(not g.text.strip() for g in generated),
        "very_short": sum(0 < g.tokens < 8 for g in generated),
        "repetitive": sum(_repeats(g.text) for g in generated),
        "limit": limit,
    }


def _repeats(text: str, times: int = 4) -> bool:
    lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) > 3]
    if Counter(lines).most_common(1) and Counter(lines).most_common(1)[0][1] >= times:
        return True
    return bool(re.search(r"(.{8,}?)\1{" + str(times - 1) + ",}", text))


def write_eval(result: EvalResult, run_dir: Path) -> Path:
    path = run_dir / f"eval_{result.phase}.jsonl"
    with open(path, "w") as handle:
        for i, (g, a) in enumerate(zip(result.generated, result.assessments, strict=True)):
            handle.write(json.dumps({"index": i, "completion": g.text, "tokens": g.tokens,
                                     "truncated": g.truncated, "format_ok": a.format_ok,
                                     "score": a.score, "outcome": a.outcome,
                                     "detail": _plain(a.detail)}) + "\n")
    return path


def load_eval(run_dir: Path, phase: str) -> EvalResult | None:
    """An earlier invocation's evaluation of ``phase`` (a resumed run keeps its "before" and
    "after_priming" numbers), read back from ``eval_<phase>.jsonl`` and ``eval_summary.json``."""
    path, summary_path = run_dir / f"eval_{phase}.jsonl", run_dir / "eval_summary.json"
    if not path.exists() or not summary_path.exists():
        return None
    summary = json.loads(summary_path.read_text()).get(phase)
    if summary is None:
        return None
    generated, assessments = [], []
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            generated.append(Generated(row["completion"], row["tokens"], row["truncated"]))
            detail = row["detail"] if isinstance(row["detail"], dict) else {}
            assessments.append(Assessment(row["format_ok"], row["score"], row["outcome"], detail))
    return EvalResult(phase, generated, assessments, summary)


def lift(before: dict, after: dict, key: str = "success") -> dict:
    """Absolute change of a rate between two summaries, and whether the 95% intervals are
    disjoint (a change the evaluation can see, not sampling noise)."""
    b, a = before[key], after[key]
    return {"before": b["rate"], "after": a["rate"], "points": 100 * (a["rate"] - b["rate"]),
            "disjoint": a["low"] > b["high"] or b["low"] > a["high"]}


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)
