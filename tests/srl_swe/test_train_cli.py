"""`python -m srl_swe.train`: bad input is one line; real SRL runs checkpoint and resume; SFT trains."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from srl_swe.data import build
from srl_swe.train import main
from tests.srl_swe.results_table import table_steps

REPO = Path(__file__).resolve().parents[2]


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_unknown_recipe_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unknown recipe 'ppo'" in _one_line_error(capsys, ["--recipe", "ppo"])


def test_unknown_preset_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unknown preset 'tpu'" in _one_line_error(capsys, ["--preset", "tpu"])


def test_missing_step_dataset_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    line = _one_line_error(capsys, ["--preset", "cpu-demo", "--steps_data", str(missing)])
    assert str(missing) in line and "no saved dataset" in line


def test_empty_step_dataset_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "trajectories").mkdir()
    empty = build(tmp_path / "trajectories", tmp_path / "steps").out
    capsys.readouterr()
    line = _one_line_error(capsys, ["--preset", "cpu-demo", "--steps_data", str(empty)])
    assert "no step examples" in line


def test_task_without_published_trajectories_asks_for_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["--task", "swe-bench-verified", "--preset", "cpu-demo", "--output_dir", str(tmp_path)]
    assert "--trajectories" in _one_line_error(capsys, argv)


def test_unknown_task_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["--task", "swe-bench-full", "--preset", "cpu-demo", "--output_dir", str(tmp_path)]
    assert "swe-bench-full" in _one_line_error(capsys, argv)


def test_resume_without_checkpoint_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["--preset", "cpu-demo", "--output_dir", str(tmp_path), "--resume"]
    assert "no checkpoint" in _one_line_error(capsys, argv)


def _train(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "srl_swe.train", *argv],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.train
def test_srl_demo_run_resumes_from_its_checkpoint(tiny_model_dir: str, tmp_path: Path) -> None:
    run = [
        "--recipe", "srl", "--task", "demo", "--preset", "cpu-demo", "--model", tiny_model_dir,
        "--output_dir", str(tmp_path), "--max_completion_length", "16", "--dynamic_sampling_max_draws", "1",
    ]  # fmt: skip
    first = _train(*run, "--max_steps", "1")
    assert (tmp_path / "steps").is_dir()  # the demo trajectories were built into a step dataset
    assert (tmp_path / "checkpoint-1").is_dir()
    assert table_steps(first.stdout) == [1]

    second = _train(*run, "--max_steps", "2", "--resume")
    assert (tmp_path / "checkpoint-2" / "trainer_state.json").is_file()
    assert table_steps(second.stdout) == [1, 2]  # step 1 comes from the checkpoint's log
    assert "kept_frac" in second.stdout and "reward" in second.stdout
    curves = tmp_path / "curves.png"
    assert f"curves: {curves}" in second.stdout
    assert curves.read_bytes().startswith(b"\x89PNG")


@pytest.mark.train
def test_sft_demo_run_trains_on_expert_completions(tiny_model_dir: str, tmp_path: Path) -> None:
    done = _train(
        "--recipe", "sft", "--task", "demo", "--preset", "cpu-demo", "--model", tiny_model_dir,
        "--output_dir", str(tmp_path), "--max_steps", "2",
    )  # fmt: skip
    assert table_steps(done.stdout) == [1, 2]
    assert "mean_token_accuracy" in done.stdout
    assert (tmp_path / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("argv", "rows", "batch", "flag"),
    [
        ([], "step examples", 512, "--prompts_per_step"),  # the paper's SRL batch, as README's command
        (["--recipe", "sft", "--examples_per_step", "128"], "step examples", 128, "--examples_per_step"),
        (["--recipe", "rlvr"], "task instances", 128, "--prompts_per_step"),
        (["--recipe", "srl-rlvr"], "task instances", 128, "--prompts_per_step"),
    ],
    ids=["srl", "sft", "rlvr", "srl-rlvr"],
)
def test_data_smaller_than_one_batch_is_one_line_naming_the_flags_that_fit(
    tmp_path: Path, argv: list[str], rows: str, batch: int, flag: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "srl_swe.train", "--task", "demo", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    line = lines[0]
    count = int(line.removeprefix("error: ").split()[0])
    assert 0 < count < batch and rows in line, line
    assert f"one batch of {batch}" in line and "--preset cpu-demo" in line and f"{flag} {count}" in line
