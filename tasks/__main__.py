"""``python -m strategy_gym.tasks list`` and ``python -m strategy_gym.tasks check NAME``: the registry from the command line.

``list`` prints every registered task (built-in or plug-in) with its env id, modality and reward
presets, then every plug-in that failed to load, by name with the reason; it exits 0 even
then, since the other tasks still work. ``check`` runs :func:`strategy_gym.tasks.check.check_task` and exits 1
when any check fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from strategy_gym.tasks.check import FAIL, PASS, SKIP, WARN, CheckReport, check_task
from strategy_gym.tasks.registry import PluginError, TaskRegistry

_STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}


@dataclass(frozen=True)
class TaskSummary:
    name: str
    env_id: str
    modality: str
    presets: list[str]
    default_preset: str
    code_entry: str | None
    description: str


def list_tasks(registry: TaskRegistry) -> tuple[list[TaskSummary], list[PluginError]]:
    """Build every registered task; the ones that fail end up in the second list."""
    summaries = []
    for name in registry.names():
        try:
            task = registry.get(name)
        except LookupError:
            continue  # recorded in registry.errors with its reason
        summaries.append(TaskSummary(name, task.env_id, task.modality, sorted(task.reward_presets),
                                     task.default_preset, task.sandbox_entry, task.description))
    return summaries, [registry.errors[name] for name in sorted(registry.errors)]


def print_listing(console: Console, tasks: list[TaskSummary], errors: list[PluginError]) -> None:
    table = Table(title=f"strategy-gym tasks ({len(tasks)})")
    for column in ("task", "env id", "modality", "reward presets", "code entry", "description"):
        table.add_column(column, overflow="fold")
    for t in tasks:
        presets = ", ".join(f"{p}*" if p == t.default_preset else p for p in t.presets)
        cells = (t.name, t.env_id, t.modality, presets, t.code_entry or "-", t.description)
        table.add_row(*map(escape, cells))
    console.print(table)
    console.print("* default preset", style="dim")
    for error in errors:  # one unwrapped line each, so the reason stays greppable
        console.print(f"[bold red]plug-in {escape(repr(error.name))} failed to load[/] "
                      f"({escape(error.source)}): {escape(error.reason)}", soft_wrap=True,
                      highlight=False)


def print_report(console: Console, report: CheckReport) -> None:
    table = Table(title=escape(f"check {report.task}"))
    table.add_column("step")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for result in report.results:
        status = f"[{_STYLE[result.status]}]{result.status}[/]"
        table.add_row(escape(result.step), status, escape(result.detail))
    console.print(table)
    for preset, scores in report.scores.items():
        console.print(_scores_table(preset, report.labels, scores))
    for result in report.results:  # failures again as plain lines: easy to read and to grep
        if result.status == FAIL:
            console.print(f"FAIL {report.task} {result.step}: {result.detail}", soft_wrap=True,
                          markup=False, highlight=False)
    verdict = "[green]all checks passed[/]" if report.ok else "[bold red]some checks failed[/]"
    console.print(f"{escape(report.task)}: {verdict}", soft_wrap=True)


def _scores_table(preset: str, labels: list[str], scores: dict[str, list]) -> Table:
    table = Table(title=escape(f"rewards[{preset}] on hand-written completions"))
    table.add_column("completion")
    for name in scores:
        table.add_column(escape(name), justify="right")
    table.add_column("total", justify="right")
    for i, label in enumerate(labels):
        values = [scores[name][i] for name in scores]
        cells = ["-" if v is None else f"{v:.2f}" for v in values]
        table.add_row(escape(label), *cells, f"{sum(v or 0.0 for v in values):.2f}")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    registry = TaskRegistry()
    if args.command == "list":
        print_listing(console, *list_tasks(registry))
        return 0
    with console.status(f"checking {escape(args.name)} (env, prompts, rewards, sandbox)"):
        report = check_task(args.name, registry, n_prompts=args.prompts)
    print_report(console, report)
    return 0 if report.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m strategy_gym.envs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list registered tasks and plug-in load errors")
    check = commands.add_parser("check", help="check one task end to end")
    check.add_argument("name", help="task name, as shown by `list`")
    check.add_argument("--prompts", type=_positive_int, default=3,
                       help="dataset rows to build (default 3)")
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
