"""Step logging: one JSONL line (and CSV row) per GRPO step, the PNG, a rich progress bar.

Column names are ours and stable; they are filled from TRL's logged metrics and from the
recording reward wrappers (sandbox outcome classes, reward time).
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from strategy_gym.training import distributed
from strategy_gym.training.plots import plot_steps
from strategy_gym.training.recording import RecordingReward

# our column -> TRL metric key
_TRL_KEYS = {
    "reward": "reward",
    "reward_std": "reward_std",
    "frac_reward_zero_std": "frac_reward_zero_std",
    "completion_length_mean": "completions/mean_length",
    "completion_length_min": "completions/min_length",
    "completion_length_max": "completions/max_length",
    "clipped_ratio": "completions/clipped_ratio",
    "kl": "kl",
    "entropy": "entropy",
    "learning_rate": "learning_rate",
    "loss": "loss",
    "grad_norm": "grad_norm",
}


PLOT_BUDGET = 50  # wait >= 50 x the last redraw's cost before the next one


def step_row(step: int, logs: dict, seconds: float, rewards: Sequence[RecordingReward]) -> dict:
    row: dict[str, Any] = {"step": step, "step_seconds": round(seconds, 3)}
    for ours, theirs in _TRL_KEYS.items():
        row[ours] = _number(logs.get(theirs))
    for key, value in logs.items():
        if key.startswith("rewards/"):  # rewards/<fn>/mean|std -> reward/<fn>/mean|std
            row["reward/" + key[len("rewards/"):]] = _number(value)
    outcomes: dict[str, int] = {}
    for fn in rewards:
        for name, count in fn.new_outcome_counts().items():
            outcomes[name] = outcomes.get(name, 0) + count
    row["outcomes"] = outcomes
    for fn in rewards:  # rates a reward keeps per batch (play mode: success, invalid moves, turns)
        metrics = getattr(fn.fn, "step_metrics", None)
        if callable(metrics):
            row.update({key: _number(value) for key, value in metrics().items()})
    row["reward_seconds"] = round(sum(fn.take_step_seconds() for fn in rewards), 3)  # this step
    return row


_SUMMED = ("outcomes", "format_outcomes")  # per-rank class counts, added up over ranks
_SLOWEST = ("step_seconds", "reward_seconds")  # ranks work in parallel: the slowest one


def merge_rank_rows(rows: Sequence[dict]) -> dict:
    """One step's row from each rank's row (rank 0 first): counts and completions summed,
    times the slowest rank's, other numbers (TRL's metrics are already global) averaged."""
    merged = dict(rows[0])
    if len(rows) == 1:
        return merged
    for key in _SUMMED:
        if any(key in r for r in rows):
            total: dict[str, int] = {}
            for r in rows:
                for name, count in (r.get(key) or {}).items():
                    total[name] = total.get(name, 0) + count
            merged[key] = total
    merged["completions"] = sum(int(r.get("completions") or 0) for r in rows)
    for key in _SLOWEST:
        merged[key] = max(float(r.get(key) or 0.0) for r in rows)
    for key, value in merged.items():
        if key in ("step", "completions", *_SUMMED, *_SLOWEST) or not isinstance(value, float):
            continue
        values = [r[key] for r in rows if isinstance(r.get(key), float)]
        if values and any(v != values[0] for v in values):
            merged[key] = sum(values) / len(values)
    merged["ranks"] = len(rows)
    return merged


def format_outcomes(contract: Any, texts: Sequence[str]) -> dict[str, int]:
    """Outcome classes of this step's completions under the output contract: ``ok`` or the
    failure kind (for code tasks the sandbox's static verdicts: syntax_error, forbidden, ...)."""
    counts: dict[str, int] = {}
    for text in texts:
        try:
            parsed = contract.parse(text)
            kind = "ok" if parsed.ok else _failure_kind(parsed)
        except Exception:  # a contract must not break logging on odd model output
            kind = "parse_error"
        kind = kind.strip()[:40] or "unparsed"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _failure_kind(parsed: Any) -> str:
    """A short class for a failed parse: the contract's ``kind`` if it has one, else the
    reason up to its first colon (the sandbox's static verdicts read "syntax_error: ...")."""
    kind = getattr(parsed, "kind", None)
    if kind is not None:
        return str(getattr(kind, "value", kind))
    return str(getattr(parsed, "reason", "unparsed")).split(":")[0]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


class StepLogger(TrainerCallback):
    """Writes ``steps.jsonl``, ``steps.csv``, ``samples.jsonl`` and ``training_curves.png``."""

    def __init__(self, run_dir: Path, rewards: Sequence[RecordingReward], total_steps: int,
                 console: Any = None, contract: Any = None) -> None:
        self.run_dir = run_dir
        self.contract = contract
        self.rewards = list(rewards)
        self.rows: list[dict] = _read_existing(run_dir / "steps.jsonl")
        self.total = total_steps
        self.console = console
        self._step_start = time.perf_counter()
        self._last_plot_end = 0.0
        self._plot_cost = 0.0
        self._plotted = 0
        self._progress = None
        self._task = None

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001 - HF signature
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("GRPO"), BarColumn(), TextColumn("{task.fields[info]}"),
                                  TimeElapsedColumn(), console=self.console, transient=False)
        self._progress.start()
        self._task = self._progress.add_task("grpo", total=self.total,
                                             completed=state.global_step, info="")

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        self._step_start = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        if not logs or "reward" not in logs:
            return
        row = step_row(state.global_step, logs, time.perf_counter() - self._step_start,
                       self.rewards)
        if self.contract is not None and self.rewards:
            row["format_outcomes"] = format_outcomes(self.contract, self.rewards[0].last_texts)
        row["completions"] = len(self.rewards[0].last_texts) if self.rewards else 0
        # every rank scored its own share of the step's completions: rank 0 writes them all
        parts = distributed.gather_to_main((row, self._sample_records(state.global_step)))
        if parts is None:
            return
        row = merge_rank_rows([r for r, _ in parts])
        self.rows.append(row)
        self._append(row)
        self._append_samples([s for _, records in parts for s in records])
        self._maybe_plot()
        if self._progress is not None:
            info = (f"step {row['step']} reward {row['reward'] or 0:.2f}±{row['reward_std'] or 0:.2f}"
                    f" len {row['completion_length_mean'] or 0:.0f} {row['step_seconds']:.1f}s")
            self._progress.update(self._task, completed=state.global_step, info=info)

    def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
        self.stop()

    def _maybe_plot(self, force: bool = False) -> None:
        """Redraw the PNG when the time since the last draw is >= PLOT_BUDGET x its cost, so
        plotting stays under ~2% of training time (a redraw costs ~0.5-2 s on a busy CPU)."""
        now = time.perf_counter()
        due = force or now - self._last_plot_end >= PLOT_BUDGET * self._plot_cost
        if not distributed.is_main() or not self.rows or not due or len(self.rows) == self._plotted:
            return
        plot_steps(self.rows, self.run_dir / "training_curves.png")
        self._plotted = len(self.rows)
        self._last_plot_end = time.perf_counter()
        self._plot_cost = self._last_plot_end - now

    def stop(self) -> None:
        self._maybe_plot(force=True)
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _append(self, row: dict) -> None:
        with open(self.run_dir / "steps.jsonl", "a") as handle:
            handle.write(json.dumps(row) + "\n")
        flat = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in row.items()}
        path = self.run_dir / "steps.csv"
        fields = list(flat)
        if path.exists():  # keep the header's columns; later-appearing ones go to the JSONL only
            with open(path) as handle:
                fields = next(csv.reader(handle), fields)
        with open(path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
            if handle.tell() == 0:
                writer.writeheader()
            writer.writerow(flat)

    def _sample_records(self, step: int) -> list[dict]:
        if not self.rewards or not self.rewards[0].last_texts:
            return []
        per_fn = {fn.__name__: fn.last_rewards for fn in self.rewards}
        return [{"step": step, "completion": text,
                 "rewards": {name: values[i] if i < len(values) else None
                             for name, values in per_fn.items()}}
                for i, text in enumerate(self.rewards[0].last_texts)]

    def _append_samples(self, records: Sequence[dict]) -> None:
        if not records:
            return
        with open(self.run_dir / "samples.jsonl", "a") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")


def _read_existing(path: Path) -> list[dict]:
    """On resume, the curves continue from the rows already written."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
