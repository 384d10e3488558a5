"""The run's view of a Task: look it up, build its rows, check completions against its contract.

``train_env.py`` only ever talks to an ``envs.registry.Task``; nothing here knows a specific
environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strategy_gym.tasks.registry import Task, TaskRegistry


class TaskError(ValueError):
    """A task that cannot be found or used; ``str()`` is one paragraph."""


def load_task(name: str, options: dict | None = None,
              registry: TaskRegistry | None = None) -> Task:
    """The named task; ``options`` (``env.task_options``) go to the task's factory."""
    registry = registry or TaskRegistry()
    try:
        return registry.build(str(name), options)
    except LookupError as exc:
        raise TaskError(
            f"Cannot use env={name!r}: {exc}. Built-in tasks are 2048, math and vision; a "
            "plug-in task is selected with env=task env.name=NAME once its package declares a "
            "`strategy_gym.tasks` entry point. Nothing was written."
        ) from None


@dataclass
class TaskRows:
    train: list[dict]
    eval: list[dict]
    demonstrations: list[dict]


def build_rows(task: Task, train_n: int, eval_n: int, demo_n: int, seed: int) -> TaskRows:
    """Training rows, the fixed evaluation prompts and priming demonstrations, all seeded."""
    train = _checked(task, task.build_dataset("train", train_n, seed), "train")
    evaluation = _checked(task, task.build_dataset("eval", eval_n, seed + 1), "eval")
    demos: list[dict] = []
    if task.demonstrations is not None and demo_n > 0:
        demos = list(task.demonstrations(demo_n, seed + 2))
    return TaskRows(train, evaluation, demos)


def _checked(task: Task, rows: Sequence[dict], split: str) -> list[dict]:
    rows = list(rows)
    if not rows:
        raise TaskError(f"task {task.name!r} built no {split} rows")
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "prompt" not in row:
            raise TaskError(f"task {task.name!r} {split} row {i} has no 'prompt' column")
    return rows


def format_flags(task: Task, completions: Sequence[str]) -> list[bool]:
    """Whether each completion satisfies the task's output contract."""
    flags = []
    for text in completions:
        try:
            flags.append(bool(task.contract.parse(text).ok))
        except Exception:  # a contract must not take the run down on odd model output
            flags.append(False)
    return flags


def format_summary(task: Task, completions: Sequence[str]) -> str:
    """The contract's own report (rate + nearest-miss reasons) when it has one."""
    reporter = getattr(task.contract, "format_report", None)
    if callable(reporter):
        try:
            return str(reporter(list(completions)))
        except Exception as exc:  # report, never raise, on model output
            return f"format_report failed: {type(exc).__name__}: {exc}"
    reasons = []
    for text in completions:
        try:
            parsed = task.contract.parse(text)
            reasons.append("ok" if parsed.ok else str(getattr(parsed, "reason", "no reason")))
        except Exception as exc:
            reasons.append(f"parse raised {type(exc).__name__}")
    return "; ".join(reasons)


def prompts_of(rows: Sequence[dict]) -> list[Any]:
    return [row["prompt"] for row in rows]
