"""A rich progress bar for any HF Trainer (priming SFT); GRPO's bar lives in the step logger."""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback


class RichProgress(TrainerCallback):
    def __init__(self, label: str, total: int, console: Any = None) -> None:
        self.label, self.total, self.console = label, total, console
        self._progress: Any = None
        self._task: Any = None

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001 - HF signature
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn(self.label), BarColumn(),
                                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                                  console=self.console)
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=self.total, info="")

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        if self._progress is not None and logs and "loss" in logs:
            self._progress.update(self._task, completed=state.global_step,
                                  info=f"step {state.global_step} loss {logs['loss']:.3f}")

    def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step)
            self._progress.stop()
            self._progress = None
