"""Every entry point in README's "Entry points" block, run as README writes it: a subprocess in a fresh
folder, on the embedded default (demo tasks, tiny model), with the environment the user has and nothing
added, and a short budget where the command takes one. Each must finish with exit code 0 and its summary,
or with one line that says what is wrong.

Entry points whose own test module already runs them this way are named in COVERED_ELSEWHERE; a test here
keeps that list and README's block in step.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMMAND_LIMIT_S = 900
COVERED_ELSEWHERE = {
    "srl_swe.data": "tests/srl_swe/test_data_cli.py::test_the_module_runs_as_a_command",
    "envs": "tests/envs/test_interactive.py",
    "srl_swe.debug": "tests/srl_swe/test_debug_prompt.py",
    "harness.sandbox.reaper": "tests/harness/test_sandbox_reaper.py",
}
COVERED_HERE = {
    "srl_swe.eval",
    "srl_swe.train",
    "srl_swe.demo",
    "srl_swe.demo_trajectories",
    "srl_swe.tiny_model",
    "harness.images",
    "harness.demo.regenerate",
}


def readme_entry_points() -> set[str]:
    """Returns the modules that README's "Entry points" block runs with `python -m`."""
    text = (REPO / "README.md").read_text()
    block = text.split("## Entry points", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return set(re.findall(r"python -m ([\w.]+)", block))


def run(command: str, cwd: Path, timeout: int = COMMAND_LIMIT_S) -> subprocess.CompletedProcess[str]:
    """Runs a README command line (`python` is this environment's interpreter) in `cwd`; returns the
    finished process, output captured."""
    argv = command.split()
    assert argv[0] == "python"
    return subprocess.run(
        [sys.executable, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def succeeded(done: subprocess.CompletedProcess[str]) -> str:
    """Returns the command's stdout after checking that it exited 0 without a traceback."""
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stdout


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """Returns the error line of a command that failed on bad input (exit 2, one line on stderr)."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr[-3000:]
    assert lines and lines[-1].startswith("error: "), done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return lines[-1]


def test_every_readme_entry_point_has_a_test_that_runs_it() -> None:
    assert readme_entry_points() == COVERED_HERE | set(COVERED_ELSEWHERE)


@pytest.mark.docker
def test_eval_gold_on_the_demo_set(tmp_path: Path) -> None:
    out = succeeded(run("python -m srl_swe.eval --mode gold --task demo", tmp_path))
    gold = json.loads((tmp_path / "runs/eval/gold-demo/gold/gold.gold-demo.json").read_text())
    assert gold["resolved_instances"] == gold["total_instances"] >= 9
    assert "gold report:" in out


@pytest.mark.docker
@pytest.mark.ray
def test_eval_gold_on_the_demo_set_on_a_local_ray_cluster(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    out = succeeded(run("python -m srl_swe.eval --mode gold --task demo --executor ray", tmp_path))
    gold = json.loads((tmp_path / "runs/eval/gold-demo/gold/gold.gold-demo.json").read_text())
    assert gold["resolved_instances"] == gold["total_instances"] >= 9 and gold["retried"] == {}
    assert "on Ray" in out and "gold report:" in out


@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.parametrize("mode", ["oracle", "e2e", "agentless"])
def test_eval_policy_mode_on_the_demo_set_with_the_tiny_model(mode: str, tmp_path: Path) -> None:
    budget = {
        "oracle": " --max-new-tokens 64",
        "e2e": " --max-steps 2 --max-new-tokens 32",
        "agentless": " --max-new-tokens 32 --repair-samples 2 --reproduction-samples 2",
    }[mode]
    out = succeeded(run(f"python -m srl_swe.eval --mode {mode} --task demo{budget}", tmp_path))
    root = tmp_path / f"runs/eval/{mode}-demo-srl-swe-tiny"
    report = json.loads((root / f"srl-swe-tiny.{mode}-demo-srl-swe-tiny.json").read_text())
    counted = report["completed_instances"] + report["empty_patch_instances"] + report["error_instances"]
    assert counted == report["total_instances"] >= 9 and report["incomplete_ids"] == []
    assert f"resolved {report['resolved_instances']}/{report['total_instances']}" in out
    assert len((root / "predictions.jsonl").read_text().splitlines()) == report["total_instances"]
    if mode == "agentless":
        stages = json.loads((root / "agentless_report.json").read_text())
        assert stages["totals"]["instances"] == report["total_instances"]
        assert "agentless stages" in out


@pytest.mark.train
def test_train_srl_on_the_demo_set_with_the_cpu_preset(tmp_path: Path) -> None:
    command = "python -m srl_swe.train --recipe srl --task demo --preset cpu-demo --max_steps 1"
    out = succeeded(run(command, tmp_path))
    output_dir = tmp_path / "runs/train/srl-demo"
    assert (output_dir / "checkpoint-1").is_dir() and (output_dir / "curves.png").is_file()
    assert "training results" in out


def test_train_on_swe_gym_here_ends_in_one_line(tmp_path: Path) -> None:
    """The design card's command on a machine without a GPU and without the hub: CPU settings said in one
    line, then one line saying the expert trajectories cannot be had."""
    done = run("python -m srl_swe.train --task swe-gym", tmp_path)
    line = one_line_error(done)
    assert "SWE-Gym/OpenHands-SFT-Trajectories" in line and "--trajectories" in line
    assert len(done.stderr.strip().splitlines()) <= 2  # the CPU note (no GPU here) and the error
    assert done.stdout == ""


@pytest.mark.docker
@pytest.mark.vllm
@pytest.mark.train
def test_demo_runs_every_stage_on_a_short_budget_and_resumes(tmp_path: Path) -> None:
    budget = " --train_steps 1 --rlvr_steps 1 --validation_every 1 --samples 1 --max_new_tokens 16"
    budget += " --e2e_max_steps 1 --seeds 2"
    out = succeeded(run(f"python -m srl_swe.demo{budget}", tmp_path))
    document = json.loads((tmp_path / "runs/demo/comparison.json").read_text())
    assert document["seeds"] == [0, 1]
    for seed in ("0", "1"):
        rows = document["runs"][seed]
        assert [row["name"] for row in rows] == ["base", "sft", "srl", "srl-rlvr"]
        for row in rows:
            assert -1.0 <= row["heldout_step_reward"] <= 1.0 and 0.0 <= row["format_error_rate"] <= 1.0
            assert 0.0 <= row["oracle_resolved"] <= 1.0 and 0.0 <= row["e2e_resolved"] <= 1.0
        assert (tmp_path / f"runs/demo/seed-{seed}/comparison.png").read_bytes().startswith(b"\x89PNG")
    greedy = document["summary"]["rows"]["srl"]["heldout_step_reward"]
    assert greedy["min"] <= greedy["mean"] <= greedy["max"]
    wins = document["summary"]["srl_beats_base"]
    assert "the demo's comparison over 2 seed(s)" in out
    assert (
        f"SRL beats the base model on the held-out steps (greedy step reward) in {wins} of 2 seed(s)" in out
    )
    assert out.strip().splitlines()[-1] == "report page: runs/demo/report.html"  # the last line: the page
    assert (tmp_path / "runs/demo/report.html").is_file()
    again = succeeded(run(f"python -m srl_swe.demo{budget}", tmp_path))
    assert again.count("done already, skipped") == 1 + 2 * 8  # gold; per seed: steps, 4 measures, 3 trainings


@pytest.mark.docker
def test_demo_trajectories_re_records_one_instance(tmp_path: Path) -> None:
    command = f"python -m srl_swe.demo_trajectories --instance-ids srl-demo__timespan-3 --out {tmp_path}"
    succeeded(run(command, tmp_path))
    recorded = json.loads((tmp_path / "srl-demo__timespan-3.traj").read_text())
    assert recorded["info"]["exit_status"] == "submitted" and recorded["trajectory"]


def test_tiny_model_prints_its_folder(tmp_path: Path) -> None:
    folder = Path(succeeded(run("python -m srl_swe.tiny_model", tmp_path)).strip())
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()


@pytest.mark.docker
def test_images_are_ensured_and_listed(tmp_path: Path) -> None:
    succeeded(run("python -m harness.images ensure-base", tmp_path))
    succeeded(run("python -m harness.images ensure-demo", tmp_path))
    listed = succeeded(run("python -m harness.images list", tmp_path)).split()
    assert "srl-swe/base:bookworm" in listed
    demo = {
        name.removeprefix("srl-swe-demo/").split(":")[0]
        for name in listed
        if name.startswith("srl-swe-demo/")
    }
    assert demo == {"semverkit", "tabulet", "timespan"}


@pytest.mark.docker
def test_regenerate_check_finds_the_demo_rows_up_to_date(tmp_path: Path) -> None:
    out = succeeded(run("python -m harness.demo.regenerate --check", tmp_path))
    assert "up to date" in out
