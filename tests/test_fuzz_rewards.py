"""Fuzz: generated completions through every reward preset of every built-in task.

Random text, mutated demonstrations, adversarial numbers, huge and deeply nested inputs
(``fuzz_corpus``) go through ``task.rewards(preset)`` with the columns the task's own rows carry,
in GRPO-sized batches. Every call must return one ``float`` or ``None`` per completion, raise
nothing and finish within its bound. The bulk of the count goes to the in-process checkers; the
sandbox-backed presets (2048 strategies, math program mode) get a few hundred in batches.

``STRATEGY_GYM_FUZZ_COUNT`` (default 10000) and ``STRATEGY_GYM_FUZZ_SANDBOX_COUNT`` (default
240) scale it: e.g. ``STRATEGY_GYM_FUZZ_COUNT=200000`` for a long soak.
"""

from __future__ import annotations

import math
import os
import time
import zlib
from dataclasses import dataclass, field

import fuzz_corpus
import pytest

from strategy_gym.core.messages import completion_text
from strategy_gym.tasks.registry import Task, TaskRegistry

COUNT = int(os.environ.get("STRATEGY_GYM_FUZZ_COUNT", "10000"))
SANDBOX_COUNT = int(os.environ.get("STRATEGY_GYM_FUZZ_SANDBOX_COUNT", "240"))
BATCH = 8  # completions per reward call, as one GRPO group
CHECKER_BOUND_S = 5.0  # one batch through one in-process reward function
SANDBOX_BOUND_S = 120.0  # one batch through a sandbox-backed reward (games or solve() calls)
BUILTIN_TASKS = ("2048", "2048-classic", "2048-notebook", "math", "math-program", "vision")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@dataclass
class Tally:
    completions: int = 0
    calls: int = 0
    slowest: tuple[float, str] = (0.0, "")
    errors: list[str] = field(default_factory=list)

    def record(self, seconds: float, where: str) -> None:
        self.calls += 1
        if seconds > self.slowest[0]:
            self.slowest = (seconds, where)


def _sandboxed(task: Task) -> bool:
    return task.sandbox_entry is not None or task.runner is not None


def _real_completions(task: Task) -> list[str]:
    if task.demonstrations is not None:
        texts = [completion_text(d.get("completion")) for d in task.demonstrations(24, 7)]
        return [t for t in texts if t]
    render = task.contract.render  # program mode has no demonstrations: render worked answers
    return [render(f"step {i}", f"{i} * {i + 1}") for i in range(12)]


def _columns(rows: list[dict], start: int, n: int) -> dict[str, list]:
    batch = [rows[(start + j) % len(rows)] for j in range(n)]
    keys = [k for k in batch[0] if k != "prompt"]
    return {"prompts": [r["prompt"] for r in batch], **{k: [r.get(k) for r in batch] for k in keys}}


def _is_score(value: object) -> bool:
    return value is None or (isinstance(value, float | int) and not isinstance(value, bool)
                             and not math.isnan(value))


def _fuzz_task(name: str, count: int, bound: float, tally: Tally) -> None:
    task = TaskRegistry().get(name)
    rows = task.build_dataset("train", 16, 0)
    corpus = list(fuzz_corpus.completions(count, seed=zlib.crc32(name.encode()), real=_real_completions(task)))
    tally.completions += len(corpus) * len(task.reward_presets)
    for preset in sorted(task.reward_presets):
        fns = task.rewards(preset)
        try:
            for start in range(0, len(corpus), BATCH):
                batch = corpus[start : start + BATCH]
                columns = _columns(rows, start, len(batch))
                for fn in fns:
                    where = f"{name}/{preset}/{getattr(fn, '__name__', fn)} batch@{start}"
                    began = time.perf_counter()
                    try:
                        scores = fn(batch, **columns)
                    except Exception as exc:  # the test's point: there must be none
                        tally.errors.append(f"{where}: {type(exc).__name__}: {exc}"[:300])
                        continue
                    seconds = time.perf_counter() - began
                    tally.record(seconds, where)
                    if seconds > bound:
                        tally.errors.append(f"{where}: {seconds:.1f} s > bound {bound} s")
                    if len(scores) != len(batch) or not all(map(_is_score, scores)):
                        tally.errors.append(f"{where}: not one score per completion: {scores!r}"[:300])
        finally:
            for fn in fns:
                getattr(fn, "close", lambda: None)()


def _report(capsys, label: str, tally: Tally) -> None:
    with capsys.disabled():
        seconds, where = tally.slowest
        print(f"\nfuzz {label}: {tally.completions} scored completions (completion x preset), {tally.calls} reward "
              f"calls, {len(tally.errors)} failures; slowest call {seconds:.3f} s ({where})")


def test_in_process_checkers_are_total_on_fuzzed_completions(capsys):
    registry = TaskRegistry()
    names = [n for n in BUILTIN_TASKS if not _sandboxed(registry.get(n))]
    tally = Tally()
    for name in names:
        _fuzz_task(name, COUNT, CHECKER_BOUND_S, tally)
    _report(capsys, "in-process", tally)
    assert not tally.errors, "\n".join(tally.errors[:20])
    assert tally.completions >= COUNT * len(names)


def test_sandbox_backed_rewards_are_total_on_fuzzed_completions(capsys):
    registry = TaskRegistry()
    names = [n for n in BUILTIN_TASKS if _sandboxed(registry.get(n))]
    tally = Tally()
    for name in names:
        _fuzz_task(name, max(BATCH, SANDBOX_COUNT // len(names)), SANDBOX_BOUND_S, tally)
    _report(capsys, "sandbox", tally)
    assert not tally.errors, "\n".join(tally.errors[:20])
