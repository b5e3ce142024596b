"""`python -m srl_swe.eval --mode gold --task demo --executor ray` on a local two-node cluster: the same
reports as the local executor, a worker killed mid-run costs nothing, no container is left behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.containers import containers_of
from tests.ray_cluster import two_node_cluster

pytestmark = [pytest.mark.docker, pytest.mark.ray]

RUNS = ("gold", "empty")
GRADING_TITLE = "ray::SandboxWorker.grade"
"""Process title Ray gives a sandbox worker while it grades."""


def eval_command(cwd: Path, *flags: str) -> subprocess.Popen[str]:
    """Start `python -m srl_swe.eval --mode gold --task demo FLAGS` in `cwd`; return the process."""
    argv = [sys.executable, "-m", "srl_swe.eval", "--mode", "gold", "--task", "demo", *flags]
    return subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_one_grading_worker(process: subprocess.Popen[str], limit_s: float = 120.0) -> int | None:
    """SIGKILL the first of this test's Ray workers seen grading (a descendant of this process) while
    `process` runs; return its pid, or None when none was seen."""
    deadline = time.monotonic() + limit_s
    while process.poll() is None and time.monotonic() < deadline:
        for child in psutil.Process().children(recursive=True):
            try:
                grading = GRADING_TITLE in " ".join(child.cmdline())
            except psutil.Error:
                continue
            if grading:
                os.kill(child.pid, signal.SIGKILL)
                return child.pid
        time.sleep(0.05)
    return None


def reports(cwd: Path) -> dict[str, dict]:
    """Return the gold and empty run reports of a run made in `cwd`."""
    root = cwd / "runs/eval/gold-demo"
    return {
        name: json.loads((root / name / f"{name}.gold-demo.json").read_text()) for name in ("gold", "empty")
    }


def test_two_nodes_give_the_local_reports_despite_a_killed_worker(tmp_path: Path) -> None:
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    local_dir.mkdir(), ray_dir.mkdir()
    local = eval_command(local_dir)
    _, local_err = local.communicate(timeout=600)
    assert local.returncode == 0, local_err[-3000:]

    with two_node_cluster(connect=False) as cluster:
        on_ray = eval_command(ray_dir, "--executor", "ray", "--ray-address", cluster.address)
        killed = kill_one_grading_worker(on_ray)
        out, err = on_ray.communicate(timeout=600)
    assert on_ray.returncode == 0, err[-3000:]
    assert killed is not None, "no worker was seen grading"
    expected, got = reports(local_dir), reports(ray_dir)
    retried = [causes for name in RUNS for causes in got[name].pop("retried").values()]
    assert len(retried) == 1 and f"worker {socket.gethostname()}:{killed} died" in retried[0][0]
    for name in RUNS:  # nothing lost, nothing graded twice: the same report as without Ray
        assert expected[name].pop("retried") == {} and got[name] == expected[name]
    assert "graded again after 1 lost attempt(s)" in out
    assert not containers_of({killed}), "the killed worker's containers were reaped"


def test_an_unreachable_ray_address_ends_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    done = eval_command(tmp_path, "--executor", "ray", "--ray-address", "127.0.0.1:1")
    _, err = done.communicate(timeout=120)
    assert done.returncode == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: no Ray cluster answers at 127.0.0.1:1")
