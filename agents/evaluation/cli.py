"""The evaluator's command line, shared by ``strategy_gym.agents.evaluate`` (strategies,
completions, reference agents) and ``strategy_gym.training.evaluate_cli`` (which adds models)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from strategy_gym.agents.evaluation.engine import EvalSettings, EvaluationRun, run_evaluation
from strategy_gym.agents.evaluation.outputs import title, write_completions, write_outputs
from strategy_gym.agents.evaluation.records import Candidate
from strategy_gym.agents.evaluation.targets import resolve_targets
from strategy_gym.agents.evaluation.tasks import load_task
from strategy_gym.agents.report import summary_table
from strategy_gym.envs.seeds import SeedSet, parse_seed_spec
from strategy_gym.tasks.registry import Task

TARGET_HELP = ("strategy .py file, a directory of them, a JSONL of completions, a reference agent "
               "of the task by name ('reference' for all; 2048: random, corner, greedy, "
               "expectimax[:DEPTH])")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", help=TARGET_HELP)
    parser.add_argument("--task", default=None, help="registered task name (default: 2048)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="task factory option, e.g. --option target=512 (repeatable)")
    parser.add_argument("--size", type=int, help="2048 shorthand for --option size=N")
    parser.add_argument("--target", type=int, help="2048 shorthand for --option target=N")
    parser.add_argument("--p-four", type=float, help="2048 shorthand for --option p_four=X")
    parser.add_argument("--seeds", default=None, help="seed spec: eval, test:100, 0:1000, a file "
                        "(default: eval)")
    parser.add_argument("--threshold", type=float, default=0.5, help="a strategy passes (pass@k) "
                        "when its success rate over the seeds is at least this")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                        help="play the strategies on Ray actors (optional extra 'ray'): a cluster "
                             "address, or none to start a local Ray")  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per game")
    parser.add_argument("--out", type=Path, default=Path("eval_out"))
    parser.add_argument("--no-html", action="store_true", help="skip report.html")
    parser.add_argument("--no-replays", action="store_true", help="record no replay games")
    parser.add_argument("--no-progress", action="store_true")


def task_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--option wants KEY=VALUE, got {item!r}")
        options[key] = _value(value)
    for key in ("size", "target", "p_four"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    return options


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def prepare(args: argparse.Namespace, task_name: str | None = None,
            options: dict | None = None) -> tuple[Task, SeedSet, str]:  # fmt: skip
    """The task (``--task`` wins over ``task_name``, e.g. a run directory's) and the seed set."""
    name = args.task or task_name or "2048"
    task = load_task(name, {**(options or {}), **task_options(args)})
    spec = args.seeds or "eval"
    return task, parse_seed_spec(spec), spec


def settings_of(args: argparse.Namespace) -> EvalSettings:
    return EvalSettings(args.threshold, args.workers, args.time_limit, not args.no_replays,
                        not args.no_progress, getattr(args, "ray", None))


def execute(task: Task, candidates: Sequence[Candidate], seed_set: SeedSet, spec: str,
            args: argparse.Namespace, console: Any) -> tuple[EvaluationRun, dict]:  # fmt: skip
    """Evaluate, write the files, print the table; MisfitError propagates (exit 2)."""
    if not candidates:
        raise ValueError("nothing to evaluate: give a target (a file, a reference agent, a model)")
    start = time.perf_counter()
    run = run_evaluation(task, candidates, seed_set, spec, settings_of(args))
    summary = write_outputs(run, args.out, html=not args.no_html)
    if any(c.kind == "completions" for c in candidates):
        write_completions(run, args.out / "completions.jsonl")
    console.print(summary_table(summary["strategies"], title(run)))
    files = ", ".join(p.name for p in sorted(args.out.iterdir()))
    console.print(f"wrote {args.out}/ ({files}) in {time.perf_counter() - start:.1f}s")
    return run, summary


def main(argv: Sequence[str] | None = None, prog: str = "python -m strategy_gym.agents.evaluate") -> int:
    from rich.console import Console

    parser = argparse.ArgumentParser(prog=prog, description="Evaluate strategies, completions or "
                                     "reference agents on any registered task over a seed set.")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    console = Console()
    try:
        task, seed_set, spec = prepare(args)
        candidates = resolve_targets(args.targets, task)
        execute(task, candidates, seed_set, spec, args, console)
    except (ValueError, TypeError, LookupError) as exc:  # MisfitError is a ValueError
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    return 0
