"""Files of one evaluation: games.jsonl, summary.json, summary.png and report.html."""

from __future__ import annotations

import json
from pathlib import Path

from strategy_gym.agents.evaluation.engine import EvaluationRun
from strategy_gym.agents.evaluation.html import write_html
from strategy_gym.agents.report import plot_summaries


def write_outputs(run: EvaluationRun, out: Path, html: bool = True) -> dict:
    """Writes every file under ``out``; returns the summary. Same run, same bytes."""
    out.mkdir(parents=True, exist_ok=True)
    summary = run.summary()
    write_games(run, out / "games.jsonl")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot_summaries(summary["strategies"], out / "summary.png", title(run))
    if html:
        write_html(run, summary, out / "summary.png", out / "report.html", title(run))
    return summary


def write_games(run: EvaluationRun, path: Path) -> Path:
    """One line per (strategy, seed) trial, with the unit (which completion / file) it belongs to."""
    with path.open("w") as handle:
        for name, units in run.units.items():
            for unit in units:
                for trial in unit.trials:
                    row = {"strategy": name, "unit": unit.index, "group": unit.group,
                           "stage": unit.stage, **trial.to_dict()}
                    handle.write(json.dumps(row, default=repr) + "\n")
    return path


def write_completions(run: EvaluationRun, path: Path) -> Path:
    """The texts evaluated (model samples included), replayable as a JSONL target."""
    with path.open("w") as handle:
        for c in run.candidates:
            for i, text in enumerate(c.texts):
                row = {"strategy": c.name, "unit": i, "prompt": c.groups[i], "completion": text}
                if c.seeds is not None:
                    row["seed"] = c.seeds[i]
                handle.write(json.dumps(row) + "\n")
    return path


def title(run: EvaluationRun) -> str:
    env = run.task.env_kwargs
    board = f" ({env['size']}x{env['size']} to {env['target']})" if {"size", "target"} <= set(env) else ""
    return f"task {run.task.name}{board} on {len(run.seed_set)} seeds ({run.seed_set.name})"
