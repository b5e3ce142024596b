"""`python -m srl_swe.train --recipe rlvr|srl-rlvr`: real steps on the demo set (containers, colocated vLLM,
the tiny model) to the results table, no container left behind, srl-rlvr from the last SRL run, resume."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from srl_swe.train import main
from tests.containers import containers_of
from tests.srl_swe.results_table import table_steps

REPO = Path(__file__).resolve().parents[2]


RLVR_COMMAND = "python -m srl_swe.train --recipe rlvr --task demo --preset cpu-demo"  # as README writes them
SRL_RLVR_COMMAND = "python -m srl_swe.train --recipe srl-rlvr --task demo --preset cpu-demo"


def train(cwd: Path, command: str, *extra: str) -> tuple[str, str]:
    """Run a README command line (``python`` is this interpreter) plus ``extra`` flags in ``cwd``; assert it
    succeeded and left no container; return its stdout and stderr."""
    python, *argv = command.split()
    assert python == "python"
    child = subprocess.Popen(
        [sys.executable, *argv, *extra],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "300", "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=900)
    finally:
        child.kill()
    assert child.returncode == 0, stderr[-3000:]
    assert containers_of([child.pid]) == []
    return stdout, stderr


def logged(run: Path, step: int) -> dict:
    """Return the log entry of ``step`` from the run's checkpoint of that step."""
    state = json.loads((run / f"checkpoint-{step}" / "trainer_state.json").read_text())
    return next(entry for entry in state["log_history"] if entry.get("step") == step and "loss" in entry)


@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.train
def test_rlvr_demo_command_trains_two_steps_in_containers(tmp_path: Path) -> None:
    stdout, _ = train(tmp_path, RLVR_COMMAND)
    assert table_steps(stdout) == [1, 2]
    assert "rlvr/resolved_rate" in stdout and "time/env_s" in stdout
    out = tmp_path / "runs" / "train" / "rlvr-demo"
    entry = logged(out, 2)
    for metric in ("rlvr/resolved_rate", "rlvr/episode_length", "rlvr/format_error_rate", "rlvr/submit_rate",
                   "rlvr/timeouts", "time/env_s", "time/generation_s", "time/update_s"):  # fmt: skip
        assert metric in entry, metric
    assert 1 <= entry["rlvr/episode_length"] <= 3  # the preset's step limit
    assert "rewards/expert_similarity/mean" not in entry  # shaping is off by default
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.train
def test_srl_rlvr_starts_from_the_last_srl_run_and_resumes(tiny_model_dir: str, tmp_path: Path) -> None:
    srl_run = tmp_path / "runs" / "train" / "srl-demo"
    shutil.copytree(tiny_model_dir, srl_run)  # stands for the final model of an SRL run
    first, stderr = train(tmp_path, SRL_RLVR_COMMAND)
    assert f"starting from the SRL model {Path('runs/train/srl-demo')}" in stderr
    assert table_steps(first) == [1, 2]
    out = tmp_path / "runs" / "train" / "srl-rlvr-demo"
    assert (out / "checkpoint-2").is_dir()

    second, _ = train(tmp_path, SRL_RLVR_COMMAND, "--resume", "--max_steps", "3", "--expert_shaping", "0.5")
    assert table_steps(second) == [1, 2, 3]  # steps 1-2 from the checkpoint's log, then step 3
    entry = logged(out, 3)
    assert "rewards/expert_similarity/mean" in entry and "rewards/outcome_reward/mean" in entry


def test_srl_rlvr_without_an_srl_model_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--recipe", "srl-rlvr", "--task", "demo", "--preset", "cpu-demo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--init-from" in err[0] and "runs/train/srl-demo" in err[0], err
