"""Answer tasks (math, vision): a seed picks a problem; success is the task's checked answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from strategy_gym.agents.evaluation.records import Trial, Unit
from strategy_gym.core.outcomes import Outcome
from strategy_gym.tasks.registry import Assessment, Task

CHUNK = 64  # completions per task.assess call (progress granularity)
CORRECT_SCORE = 0.5  # an assessment score at least this is a correct answer (scores are 0 or 1)


def assess_units(task: Task, name: str, texts: Sequence[str], rows: Sequence[dict],
                 seeds: Sequence[int], groups: Sequence[str],
                 advance: Callable[[int], None] = lambda n: None) -> list[Unit]:  # fmt: skip
    """One unit per completion with one trial: its answer to the problem of its seed."""
    units = []
    for start in range(0, len(texts), CHUNK):
        stop = start + CHUNK
        verdicts = _assess(task, list(texts[start:stop]), list(rows[start:stop]))
        for i, verdict in enumerate(verdicts, start=start):
            units.append(_unit(name, i, texts[i], groups[i], int(seeds[i]), rows[i], verdict))
        advance(len(verdicts))
    return units


def _assess(task: Task, texts: list[str], rows: list[dict]) -> list[Assessment]:
    try:
        verdicts = list(task.assess(texts, rows))
        if len(verdicts) == len(texts):
            return verdicts
        reason = f"assess returned {len(verdicts)} results for {len(texts)} completions"
    except Exception as exc:  # the task's own code failed: reported, never the model's fault
        reason = f"assess raised {type(exc).__name__}: {exc}"
    return [Assessment(False, 0.0, str(Outcome.TASK_ERROR), {"error": reason}) for _ in texts]


def _unit(name: str, index: int, text: str, group: str, seed: int, row: dict,
          verdict: Assessment) -> Unit:  # fmt: skip
    detail = {k: _plain(v) for k, v in verdict.detail.items()}
    success = verdict.score >= CORRECT_SCORE
    trial = Trial(seed, str(verdict.outcome), success, float(verdict.score), 0, detail,
                  str(detail.get("reason", detail.get("error", "")))[:300])
    unit = Unit(name, index, text, group, None, "ok" if verdict.format_ok else "format_error",
                format_ok=bool(verdict.format_ok), trials=[trial])
    unit.context = {"question": _question(row), "gold": _plain(row.get("answer"))}
    return unit


def _question(row: dict) -> str:
    if "question" in row:
        return str(row["question"])
    prompt = row.get("prompt")
    if isinstance(prompt, list) and prompt:
        content = prompt[-1].get("content", "")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        return str(content)
    return str(prompt)


def _plain(value: object) -> object:
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
