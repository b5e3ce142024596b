"""`python -m srl_swe.train --recipe rlvr|srl-rlvr`: real steps on the demo set (containers, colocated vLLM,
the tiny model) to the results table, no container left behind, srl-rlvr from the last SRL run, resume; the
importance-sampling correction drops no real episode when vLLM and the trainer agree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import load_instances
from srl_swe.recipes.importance_sampling import correction_reach
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
    assert "rlvr/resolved_rate" in stdout and "time/env_s" in stdout and "is_clipped/seq_frac" in stdout
    out = tmp_path / "runs" / "train" / "rlvr-demo"
    entry = logged(out, 2)
    for metric in ("rlvr/resolved_rate", "rlvr/episode_length", "rlvr/format_error_rate", "rlvr/submit_rate",
                   "rlvr/timeouts", "time/env_s", "time/generation_s", "time/update_s",
                   "sampling/is_clipped/token_frac"):  # fmt: skip
        assert metric in entry, metric
    assert entry["sampling/is_clipped/seq_frac"] == 0.0  # vLLM and the trainer agree: nothing clipped
    assert entry["rlvr/env_errors"] == 0.0
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


@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.train
def test_importance_sampling_drops_no_episode_when_sampler_and_trainer_agree(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    from srl_swe.recipes.rlvr import RLVRConfig, RLVRTrainer

    instance = load_instances("demo", instance_ids=["srl-demo__semverkit-8"])[0]
    config = RLVRConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        bf16=False,
        report_to=[],
        prompts_per_step=1,
        num_generations=2,
        per_device_train_batch_size=2,
        max_completion_length=128,
        max_episode_steps=6,
        max_episode_tokens=2048,
        max_observation_tokens=256,
        max_live_envs=2,
        step_timeout_s=20.0,
        grade_timeout_s=120.0,
        dynamic_sampling=False,
        seed=0,
    )
    launch = dict(os.environ)  # TRL's colocated vLLM sets RANK, WORLD_SIZE, MASTER_ADDR/PORT here
    trainer = RLVRTrainer(tiny_model_dir, config, [instance])
    try:
        trainer.model.train()
        batch = trainer._generate_and_score_completions([dict(trainer.train_dataset[0]) for _ in range(2)])
    finally:
        trainer.close_envs()
        # later tests start `python -m srl_swe.train` with this process's environment: a leftover MASTER_PORT
        # would send them to a rendezvous on the port this process's group still holds
        os.environ.clear()
        os.environ.update(launch)
    loss_mask = batch["completion_mask"] * batch["tool_mask"]
    metrics = trainer._metrics["train"]
    assert batch["completion_mask"].sum(dim=1).min() >= 200  # episodes of a few hundred tokens
    assert metrics["sampling/is_clipped/seq_frac"] == [0.0] and metrics["sampling/is_clipped/token_frac"] == [
        0.0
    ]
    ratio = batch["importance_sampling_ratio"][loss_mask.bool()]
    assert ratio.min() > 0  # every policy token keeps its weight
    # nor would TRL's default (a sequence ratio, masked above 3) have dropped these episodes
    old, sampled = batch["old_per_token_logps"], batch["sampling_per_token_logps"]
    assert correction_reach(old, sampled, loss_mask, "sequence_mask", None, 3.0).sequences == 0
