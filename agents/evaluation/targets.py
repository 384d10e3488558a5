"""Command-line targets -> candidates, refusing those that do not fit the task.

A target is a strategy source file, a directory of them, a JSONL file of completions, one of
the task's reference agents by name (``reference`` for all of them), or ``expectimax[:DEPTH]``
on 2048. Model targets are resolved in ``training.sampling`` (they need torch).
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from strategy_gym.agents.evaluation.records import Candidate
from strategy_gym.agents.evaluation.tasks import (
    entry_point,
    expected_return_kind,
    is_strategy_task,
    literal_return_kinds,
    native_agents,
    reference_strategies,
)
from strategy_gym.core.messages import completion_text
from strategy_gym.tasks.registry import Task

DEFAULT_EXPECTIMAX_DEPTH = 2


class MisfitError(ValueError):
    """A target that cannot be evaluated on the chosen task; ``str()`` says why and what fits."""


def resolve_targets(targets: Sequence[str], task: Task) -> list[Candidate]:
    """Candidates for ``targets`` on ``task``; raises MisfitError (or ValueError) naming the target."""
    candidates = [c for target in targets for c in _resolve(target, task)]
    duplicates = sorted(n for n, k in Counter(c.name for c in candidates).items() if k > 1)
    if duplicates:
        raise ValueError(f"two targets share the name(s) {duplicates}; rename the files")
    for candidate in candidates:
        if candidate.kind == "source":
            for text in candidate.texts:
                check_source_fits(text, candidate.name, task)
    return candidates


def _resolve(target: str, task: Task) -> list[Candidate]:
    references = reference_strategies(task)
    if target == "reference":
        if not references:
            raise MisfitError(f"task {task.name!r} has no reference agents")
        return [_source(name, text, "reference") for name, text in references.items()]
    if target in references:
        return [_source(target, references[target], "reference")]
    if target.split(":")[0] in native_agents(task):
        return [_native(target)]
    path = Path(target)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise ValueError(f"directory {target!r} holds no strategy *.py files")
        return [_source(p.stem, p.read_text(), str(p)) for p in files]
    if not path.is_file():
        known = ", ".join([*references, *native_agents(task)]) or "none"
        raise ValueError(f"{target!r} is not a file, a directory or a reference agent of task "
                         f"{task.name!r} (its reference agents: {known})")
    if path.suffix == ".jsonl":
        return [read_completions(path, task)]
    return [_source(path.stem, path.read_text(), str(path))]


def _source(name: str, text: str, origin: str) -> Candidate:
    return Candidate(name, "source", [text], meta={"origin": origin})


def _native(target: str) -> Candidate:
    _, _, depth_text = target.partition(":")
    if depth_text and not depth_text.isdigit():
        raise ValueError(f"expectimax depth must be an integer, got {target!r}")
    depth = int(depth_text) if depth_text else DEFAULT_EXPECTIMAX_DEPTH
    return Candidate(target, "native", meta={"origin": "expectimax", "depth": depth})


def check_source_fits(text: str, name: str, task: Task) -> None:
    """Refuse a strategy file for an answer task, without the task's entry point, or whose
    literal return values are of another kind than the task's actions."""
    if not is_strategy_task(task):
        raise MisfitError(f"{name}: task {task.name!r} is an answer task; it evaluates "
                          "completions (a JSONL file with a seed per line) or a model, not "
                          "strategy source files")
    wanted = entry_point(task)
    functions = _top_level_functions(text)
    if functions is None:
        return  # a syntax error is the strategy's own outcome (syntax_error), not a misfit
    if wanted not in functions:
        found = ", ".join(f"{f}()" for f in functions) or "no functions"
        raise MisfitError(f"{name}: task {task.name!r} plays def {wanted}(...), but this "
                          f"source defines {found}")
    kind = expected_return_kind(task)
    returned = literal_return_kinds(text, wanted)
    if kind is not None and returned and kind not in returned:
        got = ", ".join(sorted(t.__name__ for t in returned))
        raise MisfitError(f"{name}: {wanted}() returns {got} values, but task {task.name!r} "
                          f"expects {kind.__name__} actions; is it a strategy for another task?")


def _top_level_functions(text: str) -> list[str] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]


def read_completions(path: Path, task: Task) -> Candidate:
    """Completions from JSONL: a string per line, or an object with ``completion`` / ``text``,
    an optional ``prompt`` (its pass@k group) and, for answer tasks, the ``seed`` of its problem."""
    texts, groups, seeds = [], [], []
    strategy = is_strategy_task(task)
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
        body = item.get("completion", item.get("text")) if isinstance(item, dict) else item
        if not isinstance(body, (str, list, dict)):
            raise ValueError(f"{path}:{number}: expected a string or an object with 'completion'")
        texts.append(completion_text(body))
        meta = item if isinstance(item, dict) else {}
        if not strategy:
            if not isinstance(meta.get("seed"), int):
                raise MisfitError(f"{path}:{number}: task {task.name!r} checks answers, so each "
                                  "line needs the 'seed' that picks its problem")
            seeds.append(meta["seed"])
        groups.append(str(meta.get("seed") if not strategy else meta.get("prompt", 0)))
    if not texts:
        raise ValueError(f"{path} holds no completions")
    return Candidate(path.stem, "completions", texts, groups, None if strategy else seeds,
                     meta={"origin": str(path)})
