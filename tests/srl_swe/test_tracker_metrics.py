"""`python -m srl_swe.train --report_to tensorboard`: the project's own metrics (held-out step reward, dynamic
sampling's counts, RLVR's per-step metrics) reach the experiment tracker beside TRL's, at the steps they
belong to: a 2-step SRL run and a 2-step RLVR run, their TensorBoard event files read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from srl_swe.data import build

REPO = Path(__file__).resolve().parents[2]
DEMO_TRAJECTORIES = REPO / "srl_swe" / "assets" / "demo_trajectories"


def train(*argv: str) -> str:
    """Run ``python -m srl_swe.train ARGV`` from the repository root; assert it succeeded; return stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "srl_swe.train", *argv],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def scalars(output_dir: Path) -> dict[str, dict[int, float]]:
    """Return every scalar TensorBoard holds for a run: tag -> step -> value (read with its own reader)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = sorted(output_dir.rglob("events.out.tfevents.*"))
    assert events, f"no TensorBoard event file under {output_dir}"
    found: dict[str, dict[int, float]] = {}
    for folder in {event.parent for event in events}:
        accumulator = EventAccumulator(str(folder))
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            for event in accumulator.Scalars(tag):
                found.setdefault(tag, {})[event.step] = event.value
    return found


@pytest.mark.vllm
@pytest.mark.train
def test_srl_run_leaves_heldout_and_dynamic_sampling_metrics_in_tensorboard(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    steps = build(DEMO_TRAJECTORIES, tmp_path / "steps", validation=1, seed=0).out
    out = tmp_path / "run"
    train(
        "--recipe", "srl", "--task", "demo", "--preset", "cpu-demo", "--model", tiny_model_dir,
        "--steps_data", str(steps), "--output_dir", str(out), "--max_steps", "2",
        "--max_completion_length", "16", "--dynamic_sampling_max_draws", "1",
        "--validation_every", "1", "--validation_max_new_tokens", "16", "--report_to", "tensorboard",
    )  # fmt: skip
    logged = scalars(out)
    # before the first step, then after each: the same values the run's own history file holds
    from srl_swe.recipes.heldout import read_history

    history = {point["step"]: point for point in read_history(out)}
    assert set(history) == {0, 1, 2}
    for name in ("heldout/step_reward", "heldout/format_error_rate"):
        assert set(logged[f"train/{name}"]) == {0, 1, 2}, name
        for step, value in logged[f"train/{name}"].items():
            assert value == pytest.approx(history[step][name]), (name, step)
    for name in ("dynamic_sampling/draws", "dynamic_sampling/kept_frac", "reward", "loss"):
        assert set(logged[f"train/{name}"]) == {1, 2}, name  # TRL's beside the project's
    assert set(logged["train/dynamic_sampling/draws"].values()) == {1.0}


@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.train
def test_rlvr_run_leaves_its_episode_metrics_in_tensorboard(tiny_model_dir: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(
        "--recipe", "rlvr", "--task", "demo", "--preset", "cpu-demo", "--model", tiny_model_dir,
        "--output_dir", str(out), "--max_steps", "2", "--report_to", "tensorboard",
    )  # fmt: skip
    logged = scalars(out)
    for name in (
        "rlvr/resolved_rate",
        "rlvr/episode_length",
        "rlvr/format_error_rate",
        "rlvr/submit_rate",
        "time/env_s",
        "dynamic_sampling/draws",
        "dynamic_sampling/kept_frac",
        "reward",
    ):
        assert set(logged[f"train/{name}"]) == {1, 2}, name
    for length in logged["train/rlvr/episode_length"].values():
        assert 1 <= length <= 3  # the preset's at most 3 actions per episode
