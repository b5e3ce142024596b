"""A task image in SWE-bench's layout (conda-style activate, the repo at /testbed), built offline from a demo
repository, used through one `--image-map` as a user with their own images would: the image contract check,
gold grading (a rerun reuses the result; a changed patch is regraded) and an episode in the env."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import envs  # noqa: F401  (registers srl_swe/SWE-v0)
from harness import load_instances

pytestmark = pytest.mark.docker
INSTANCE = "srl-demo__timespan-3"
TASK = "swe-bench-verified"


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs a README command line (`python` is this environment's interpreter) in `cwd`."""
    argv = command.split()
    return subprocess.run(
        [sys.executable, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Returns a folder holding rows.jsonl (the demo instance as a SWE-bench row: image, eval script and log
    parser derived by SWE-bench's rules) and images.yaml (the image map of the SWE-bench-layout images)."""
    folder = tmp_path_factory.mktemp("real-layout")
    row = load_instances("demo", instance_ids=[INSTANCE])[0].to_row()
    for derived in ("image", "eval_script", "log_parser", "eval_type"):
        row.pop(derived)
    (folder / "rows.jsonl").write_text(json.dumps(row) + "\n")
    built = run("python -m harness.images ensure-demo --layout swebench", folder)
    assert built.returncode == 0, built.stderr
    (folder / "images.yaml").write_text(built.stdout)
    return folder


def test_the_image_passes_the_contract_check(workdir: Path) -> None:
    command = f"python -m harness.images check --task {TASK} --path rows.jsonl --image-map images.yaml"
    done = run(command, workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if INSTANCE in line)
    assert row.count("✓") == 5 and "✗" not in row


def test_gold_grading_through_the_map_reuses_only_what_matches(workdir: Path) -> None:
    command = f"python -m srl_swe.eval --mode gold --task {TASK} --path rows.jsonl --image-map images.yaml"
    first = run(command, workdir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "gold: 1 graded, 0 reused" in first.stdout
    assert (
        first.stdout.count("grading gold") == 1 and first.stdout.count("grading empty") == 1
    )  # one bar each
    report_file = workdir / "runs/eval/gold-swe-bench-verified/gold/gold.gold-swe-bench-verified.json"
    report = json.loads(report_file.read_text())
    assert report["resolved_ids"] == [INSTANCE]

    again = run(command, workdir)
    assert again.returncode == 0 and "gold: 0 graded, 1 reused" in again.stdout
    assert "grading gold" not in again.stdout  # nothing to grade: no bar

    row = json.loads((workdir / "rows.jsonl").read_text())
    row["patch"] = _harmless_patch()  # the "gold" patch changed: a new file, no fix
    (workdir / "rows.jsonl").write_text(json.dumps(row) + "\n")
    changed = run(command, workdir)
    assert changed.returncode == 1
    assert "gold: 1 graded, 0 reused" in changed.stdout
    assert f"{INSTANCE}: the gold patch does not resolve it: " in changed.stdout
    assert "failed (" in changed.stdout

    forced = run(command + " --force", workdir)
    assert "gold: 1 graded, 0 reused" in forced.stdout and "empty: 1 graded, 0 reused" in forced.stdout


def test_an_episode_runs_in_the_mapped_image_and_the_gold_fix_gets_reward_one(workdir: Path) -> None:
    instance = load_instances("demo", instance_ids=[INSTANCE])[0]
    env = gym.make(
        "srl_swe/SWE-v0",
        task=TASK,
        path=str(workdir / "rows.jsonl"),
        instance_id=INSTANCE,
        image_map=str(workdir / "images.yaml"),
        config={"grade_log_dir": str(workdir / "episode-logs")},
    )
    try:
        env.reset()
        assert env.unwrapped.instance.image.startswith("srl-swe-layout/")
        env.unwrapped.sandbox.write_file("/tmp/gold.diff", instance.patch)
        observation, *_ = env.step("git apply /tmp/gold.diff && echo applied")
        assert "applied" in observation
        _, reward, terminated, _, info = env.step("submit")
    finally:
        env.close()
    assert terminated and reward == 1.0 and info["resolved"]
    assert (workdir / "episode-logs" / INSTANCE / "run_instance.log").is_file()


def _harmless_patch() -> str:
    return (
        "diff --git a/NOTES.txt b/NOTES.txt\nnew file mode 100644\nindex 0000000..e69de29\n"
        "--- /dev/null\n+++ b/NOTES.txt\n@@ -0,0 +1 @@\n+not a fix\n"
    )
