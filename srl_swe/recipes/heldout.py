"""Held-out step evaluation during training: a TRL/transformers callback that every ``every`` optimizer steps
(and once before the first) runs the step evaluation of ``python -m srl_swe.eval --mode steps`` (greedy) on
the validation split with the model being trained, and logs its metrics as ``heldout/…`` beside the training
reward. The points are also kept in ``OUTPUT_DIR/heldout_steps.json`` (step, metrics; written atomically) for
plots of held-out step reward against training step, and each evaluation's completions per step example in
``OUTPUT_DIR/heldout/step-<N>.json`` (the shape of ``eval --mode steps``'s ``steps.json``).

Bound to its trainer (:func:`report_through`), the callback runs before the experiment trackers' callbacks
(``--report_to tensorboard|wandb|trackio``), so that they log ``heldout/…`` beside TRL's metrics at the same
step, the measurements before the first step and after the last included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from agents.policies import SamplingConfig
from harness.evaluation import write_json_atomic
from srl_swe.eval_steps import evaluate_steps

HISTORY_FILE = "heldout_steps.json"
EXAMPLES_DIR = "heldout"
"""Folder under the output directory of ``step-<N>.json``: one held-out evaluation with its completions."""
PREFIX = "heldout/"
METRICS = ("step_reward", "format_error_rate", "exact_match_rate", "similarity")


def read_history(output_dir: str | Path) -> list[dict[str, Any]]:
    """Return the held-out points a run wrote (``[]`` when none): dicts with ``step`` and ``heldout/…``."""
    path = Path(output_dir) / HISTORY_FILE
    return json.loads(path.read_text()) if path.is_file() else []


class HeldOutStepsCallback(TrainerCallback):
    """Evaluates the model in training on held-out step examples (greedy, ``max_new_tokens`` per action)."""

    def __init__(self, steps: Any, every: int, max_new_tokens: int, output_dir: str | Path) -> None:
        self.steps = steps
        self.every = every
        self.sampling = SamplingConfig(temperature=0.0, max_new_tokens=max_new_tokens)
        self.path = Path(output_dir) / HISTORY_FILE
        self.history = read_history(output_dir)
        self.trainer: Any = None

    def bind(self, trainer: Any) -> None:
        """Run before every other callback of ``trainer`` (the trackers' included) and log through it."""
        callbacks = trainer.callback_handler.callbacks
        callbacks.remove(self)
        callbacks.insert(0, self)
        self.trainer = trainer

    def emit(self, args: Any, state: Any, control: Any, metrics: dict[str, float | None]) -> None:
        """Log a measurement made outside a training step's log (before the first, after the last) as its
        own entry at the current step, to the log history and every callback (the trackers)."""
        if self.trainer is None or not metrics:
            return
        state.log_history.append({**metrics, "step": state.global_step})
        self.trainer.callback_handler.on_log(args, state, control, dict(metrics))

    def measure(self, step: int, model: Any, tokenizer: Any) -> dict[str, float | None]:
        """Return the held-out metrics at ``step`` (kept in the history file); {} when already measured."""
        from agents.policies.transformers_policy import TransformersPolicy

        if any(point["step"] == step for point in self.history):
            return {}
        policy = TransformersPolicy(model, tokenizer=tokenizer, sampling=self.sampling)
        result = evaluate_steps(policy, self.steps, samples=0)
        metrics = {PREFIX + name: result["greedy"][name] for name in METRICS}
        write_json_atomic(self.path.parent / EXAMPLES_DIR / f"step-{step}.json", {"step": step, **result})
        self.history = [p for p in self.history if p["step"] < step] + [{"step": step, **metrics}]
        write_json_atomic(self.path, self.history)
        return metrics

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        """Measure the starting point (step 0, or the step a resumed run starts from)."""
        if state.is_world_process_zero:
            self.emit(args, state, control, self.measure(state.global_step, model, processing_class))

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        """Measure the final step when ``every`` does not divide it."""
        if state.is_world_process_zero:
            self.emit(args, state, control, self.measure(state.global_step, model, processing_class))

    def on_log(self, args, state, control, logs=None, model=None, processing_class=None, **kwargs):
        """Every ``every`` steps, measure and add the metrics to the step's log entry."""
        step = state.global_step
        if not state.is_world_process_zero or step % self.every or not state.log_history:
            return
        metrics = self.measure(step, model, processing_class)
        if metrics and state.log_history[-1].get("step") == step:
            state.log_history[-1].update(metrics)
            if logs is not None:
                logs.update(metrics)


def report_through(trainer: Any) -> None:
    """Bind ``trainer``'s held-out callbacks to it (see :meth:`HeldOutStepsCallback.bind`); returns None."""
    for callback in list(trainer.callback_handler.callbacks):
        if isinstance(callback, HeldOutStepsCallback):
            callback.bind(trainer)
