"""python -m srl_swe.debug: the interactive prompt against a recorded expert trajectory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from srl_swe.demo_trajectories import TRAJECTORIES_DIR
from srl_swe.trajectories import read

pytestmark = pytest.mark.docker
INSTANCE = "srl-demo__timespan-3"


def _prompt(*args: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "srl_swe.debug", "--instance-ids", INSTANCE, "--no-color", *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_recorded_expert_is_shown_and_replayed_to_reward_one() -> None:
    first_action = read(TRAJECTORIES_DIR / f"{INSTANCE}.traj")[0].steps[0].action
    result = _prompt(script=":next\n:replay\n:quit\n")
    assert result.returncode == 0, result.stderr
    assert first_action in result.stdout
    assert "resolved: True reward 1.0" in result.stdout


def test_missing_trajectory_is_one_line(tmp_path: Path) -> None:
    result = _prompt("--trajectory", str(tmp_path / "none.traj"), script=":quit\n")
    assert result.returncode == 2
    assert result.stderr.startswith("error: no expert trajectory at") and result.stderr.count("\n") == 1
