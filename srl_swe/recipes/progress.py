"""The training progress a person watches: one rich bar of optimizer steps with the last loss and reward.

It replaces transformers' tqdm bar and the log dictionaries its callbacks print at every logging step; the
logged values still go to the trainer's log history (the results table and curves at the end of a run).
"""

from __future__ import annotations

import math
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback

SHOWN = ("loss", "reward")
"""Logged values the bar shows, as they come (a recipe that does not log one shows a dash)."""


class TrainingProgress(TrainerCallback):
    """A rich progress bar over ``state.max_steps`` on the main process, with the latest SHOWN values."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Start the bar at the step training starts from (a resumed run starts part way)."""
        if not state.is_world_process_zero:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = [TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        columns += [TextColumn(f"{name} {{task.fields[{name}]}}") for name in SHOWN]
        self._bar = Progress(*columns, console=Console(stderr=True))
        self._bar.start()
        dashes = dict.fromkeys(SHOWN, "-")
        self._task = self._bar.add_task("train", total=state.max_steps, completed=state.global_step, **dashes)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Move the bar to the step just finished."""
        if self._bar is not None:
            self._bar.update(self._task, completed=state.global_step)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        """Show the SHOWN values of this log entry."""
        if self._bar is None or not logs:
            return
        values = {name: _number(logs[name]) for name in SHOWN if name in logs}
        self._bar.update(self._task, **values)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Stop the bar, leaving its last line on the screen."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _number(value: Any) -> str:
    """Returns a logged value as four significant digits (as it is when not a finite number)."""
    return f"{value:.4g}" if isinstance(value, float | int) and math.isfinite(value) else str(value)


def show_rich_progress(trainer: Any) -> None:
    """Replace ``trainer``'s tqdm bar and printed logs by :class:`TrainingProgress`; returns None."""
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(TrainingProgress())
