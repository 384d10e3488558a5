"""Checks that a registered task (built-in or plug-in) is wired up correctly.

``check_task(name)`` loads the task through the registry and runs, in order: Gymnasium's
``check_env`` on its env, a few prompts from ``build_dataset``, hand-written completions (the
task's own demonstrations, plus text with no answer and, for code tasks, a function that
crashes) scored through every reward preset and through ``assess``, and, for code tasks, one
strategy run in the sandbox (a task with a ``strategy_game``: played by the game master on two
seeds). Every step returns a :class:`CheckResult`; an exception inside the
task becomes a failed check with its reason, never a crash of the checker.

This module imports no LLM libraries: ``python -m strategy_gym.tasks check NAME`` runs without torch.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from strategy_gym.tasks.registry import Assessment, Task, TaskRegistry, describe_exception

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
GOOD, BAD = "good", "bad"  # what a hand-written completion is expected to be


@dataclass(frozen=True)
class CheckResult:
    step: str
    status: str  # pass, warn, fail or skip
    detail: str


@dataclass(frozen=True)
class Sample:
    """A hand-written completion, the dataset columns it is scored with, and what it should be."""

    label: str
    completion: Any  # a string or TRL conversational messages
    columns: dict
    expect: str  # GOOD or BAD


@dataclass
class CheckReport:
    task: str
    results: list[CheckResult] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the hand-written completions, in order
    scores: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)  # preset -> fn

    @property
    def ok(self) -> bool:
        return all(r.status != FAIL for r in self.results)

    def add(self, step: str, status: str, detail: str) -> CheckResult:
        result = CheckResult(step, status, detail)
        self.results.append(result)
        return result


def check_task(name: str, registry: TaskRegistry | None = None, n_prompts: int = 3) -> CheckReport:
    """Run every check on task ``name``; see :attr:`CheckReport.ok` for the verdict."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"task name must be a non-empty string, got {name!r}")
    if not isinstance(n_prompts, int) or n_prompts < 1:
        raise ValueError(f"n_prompts must be a positive int, got {n_prompts!r}")
    report = CheckReport(name)
    task = _step(report, "load", lambda: _load(registry or TaskRegistry(), name))
    if task is None:
        return report
    _step(report, "check_env", lambda: _check_env(task))
    rows = _step(report, "prompts", lambda: _check_prompts(task, n_prompts))
    if rows is None:
        return report
    samples = _step(report, "completions", lambda: _samples(task, rows))
    if samples is None:
        return report
    report.labels = [f"{s.label} ({s.expect})" for s in samples]
    for preset in sorted(task.reward_presets):
        _step(report, f"rewards[{preset}]", partial(_check_rewards, task, preset, samples, report))
    _step(report, "assess", lambda: _check_assess(task, samples))
    _step(report, "sandbox", lambda: _check_sandbox(task, samples))
    return report


def _step(report: CheckReport, step: str, run: Callable[[], tuple[str, str, Any]]) -> Any:
    """Run one check; its exception is a failure with the reason. Returns the step's value."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status, detail, value = run()
    except Exception as exc:
        report.add(step, FAIL, describe_exception(exc))
        return None
    if status == PASS and caught:
        status, detail = WARN, f"{detail}; warning: {_first_line(caught[0].message)}"
    report.add(step, status, detail)
    return value if status != FAIL else None


def _load(registry: TaskRegistry, name: str) -> tuple[str, str, Task]:
    task = registry.get(name)  # LookupError carries the plug-in's reason
    code = f", code task ({task.sandbox_entry} via {task.runner})" if task.runner else ""
    if task.strategy_game is not None:
        code = f", strategy game ({task.sandbox_entry} played on {task.strategy_game.env_id})"
    return PASS, f"env {task.env_id}, modality {task.modality}{code}", task


def _check_env(task: Task) -> tuple[str, str, None]:
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env

    env = gym.make(task.env_id, **task.env_kwargs)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()
    return PASS, f"gymnasium check_env passed on {task.env_id}", None


def _check_prompts(task: Task, n: int) -> tuple[str, str, list[dict]]:
    rows = task.build_dataset("train", n, 0)
    eval_rows = task.build_dataset("eval", 1, 0)
    for row in [*rows, *eval_rows]:
        _check_row(row)
    if len(rows) != n:
        return FAIL, f"build_dataset('train', {n}, 0) returned {len(rows)} rows", None
    if rows != task.build_dataset("train", n, 0):
        return FAIL, "build_dataset is not deterministic for a fixed seed", None
    columns = sorted(rows[0])
    text = _message_text(rows[0]["prompt"][-1]["content"])
    return PASS, f"{n} rows, columns {columns}; last message: {_clip(text)}", rows


def _check_row(row: object) -> None:
    if not isinstance(row, dict) or "prompt" not in row:
        raise ValueError(f"a dataset row must be a dict with a 'prompt' column, got {row!r:.80}")
    prompt = row["prompt"]
    if not isinstance(prompt, list) or not prompt:
        raise ValueError("'prompt' must be a non-empty list of chat messages")
    for message in prompt:
        if not isinstance(message, dict) or {"role", "content"} - set(message):
            raise ValueError(f"each message needs 'role' and 'content', got {message!r:.80}")
    if prompt[-1]["role"] != "user" or not _message_text(prompt[-1]["content"]).strip():
        raise ValueError("the last prompt message must be a non-empty user message")


def _samples(task: Task, rows: list[dict]) -> tuple[str, str, list[Sample]]:
    columns = _columns(rows[0])
    samples = [Sample(f"demo {i}", row["completion"], _columns(row), GOOD)
               for i, row in enumerate(_demonstrations(task))]
    samples += [Sample("empty", "", columns, BAD), Sample("prose", "I am not sure.", columns, BAD)]
    if task.sandbox_entry:
        params = _parameters(task.sandbox_entry, samples)
        crash = f"```python\ndef {task.sandbox_entry}({params}):\n    raise RuntimeError('boom')\n```"
        samples.append(Sample("crashes", crash, columns, BAD))
    if not any(s.expect == GOOD for s in samples):
        return WARN, "the task has no demonstrations: only bad completions are scored", samples
    return PASS, ", ".join(s.label for s in samples), samples


def _parameters(entry: str, samples: list[Sample]) -> str:
    """The entry point's parameter list as a demonstration writes it (``*args`` without one)."""
    for sample in samples:
        match = re.search(rf"def {re.escape(entry)}\(([^)]*)\)", _plain(sample.completion))
        if match:
            return match.group(1)
    return "*args"


def _demonstrations(task: Task) -> list[dict]:
    if task.demonstrations is None:
        return []
    rows = task.demonstrations(2, 0)
    for row in rows:
        if not isinstance(row, dict) or "completion" not in row or "prompt" not in row:
            raise ValueError("demonstrations(n, seed) must return rows with prompt and completion")
    if rows != task.demonstrations(2, 0):
        raise ValueError("demonstrations(n, seed) is not deterministic for a fixed seed")
    return rows


def _check_rewards(
    task: Task, preset: str, samples: list[Sample], report: CheckReport
) -> tuple[str, str, None]:
    functions = task.rewards(preset)
    try:
        scores = {_fn_name(f): _score(f, samples) for f in functions}
    finally:
        for function in functions:
            getattr(function, "close", lambda: None)()
    report.scores[preset] = scores
    totals = [sum(s[i] or 0.0 for s in scores.values()) for i in range(len(samples))]
    good = [t for t, s in zip(totals, samples, strict=True) if s.expect == GOOD]
    bad = {s.label: t for t, s in zip(totals, samples, strict=True) if s.expect == BAD}
    beaten = [label for label, total in bad.items() if good and total >= min(good)]
    if beaten:
        # Demonstrations follow the task's default set-up; another preset may expect another
        # output contract, so there it is only a warning.
        status = FAIL if preset == task.default_preset else WARN
        return status, f"a demonstration scores no better than {beaten} ({_fmt(totals)})", None
    return PASS, f"{len(functions)} functions; totals {_fmt(totals)}", None


def _score(function: Callable, samples: list[Sample]) -> list[float | None]:
    """Call one reward function the way TRL does: completions plus dataset columns as kwargs."""
    kwargs = {key: [s.columns.get(key) for s in samples] for key in _column_names(samples)}
    completions = [_conversational(s.completion) for s in samples]
    prompts = [[{"role": "user", "content": "check"}] for _ in samples]
    values = function(completions=completions, prompts=prompts, **kwargs)
    if not isinstance(values, list) or len(values) != len(samples):
        raise TypeError(f"{_fn_name(function)} must return a list of {len(samples)} values")
    for value in values:
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise TypeError(f"{_fn_name(function)} returned {value!r}: need a finite float or None")
    return [None if v is None else float(v) for v in values]


def _check_assess(task: Task, samples: list[Sample]) -> tuple[str, str, None]:
    texts = [_plain(s.completion) for s in samples]
    results = task.assess(texts, [s.columns for s in samples])
    if len(results) != len(samples) or not all(isinstance(a, Assessment) for a in results):
        return FAIL, f"assess must return one Assessment per completion, got {results!r:.120}", None
    pairs = list(zip(samples, results, strict=True))
    problems = [f"{s.label}: score {a.score}" for s, a in pairs if not 0.0 <= a.score <= 1.0]
    problems += [f"{s.label}: format_ok is {a.format_ok}" for s, a in pairs
                 if _format_surprise(s, a)]
    summary = ", ".join(f"{s.label}={a.outcome}/{a.score:.2f}" for s, a in pairs)
    return (FAIL if problems else PASS), "; ".join(problems) or summary, None


def _format_surprise(sample: Sample, assessment: Assessment) -> bool:
    """A demonstration must be well formed; text without any answer must not be."""
    if sample.expect == GOOD:
        return not assessment.format_ok
    return sample.label in ("empty", "prose") and assessment.format_ok


def _check_sandbox(task: Task, samples: list[Sample]) -> tuple[str, str, None]:
    if task.strategy_game is not None:
        return _play_games(task, samples)
    if task.runner and task.sandbox_entry:  # one-shot code (math's program mode)
        return SKIP, "the sandbox ran through the task's assess (step above)", None
    return SKIP, "not a code task", None


def _play_games(task: Task, samples: list[Sample]) -> tuple[str, str, None]:
    """The reference strategy (else the first demonstration) played by the game master on the
    first two eval seeds: it must build, and every game must end as the game itself ends it."""
    from strategy_gym.play import StrategyEvaluator
    from strategy_gym.rewards.strategy import PROGRESS_OUTCOMES

    source = next(iter(task.reference_strategies.values()), None) or _first_demo(samples)
    if source is None:
        return WARN, "no reference strategy or demonstration to play", None
    seeds = [int(s) for s in list(task.seed_sets.get("eval") or [0, 1])[:2]]
    with StrategyEvaluator(task.strategy_game, workers=1) as evaluator:
        (ev,) = evaluator.evaluate([source], [seeds])
    games = ", ".join(f"{g.seed}: {g.outcome} in {g.moves} moves" for g in ev.games)
    if not ev.built or not all(g.outcome in PROGRESS_OUTCOMES for g in ev.games):
        broken = next((g.message for g in ev.games if g.outcome not in PROGRESS_OUTCOMES), "")
        return FAIL, f"{ev.stage} {_clip(ev.message or broken)}; seeds {games}", None
    return PASS, f"seeds {games}", None


def _first_demo(samples: list[Sample]) -> str | None:
    return next((_plain(s.completion) for s in samples if s.expect == GOOD), None)


def _columns(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("prompt", "completion")}


def _column_names(samples: Sequence[Sample]) -> list[str]:
    return sorted({key for s in samples for key in s.columns})


def _conversational(completion: Any) -> Any:
    if isinstance(completion, str):
        return [{"role": "assistant", "content": completion}]
    return completion


def _plain(completion: Any) -> str:
    from strategy_gym.core.messages import completion_text

    return completion_text(completion)


def _message_text(content: Any) -> str:
    from strategy_gym.core.messages import completion_text

    return completion_text({"content": content})


def _fn_name(function: Callable) -> str:
    return getattr(function, "__name__", type(function).__name__)


def _fmt(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


def _clip(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _first_line(message: object) -> str:
    return _clip(str(message).splitlines()[0] if str(message) else "")
