"""`python -m srl_swe.eval --mode gold`: the demo set validates, bad input is one line, exit codes say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from srl_swe.eval import main

pytestmark = pytest.mark.docker


def test_gold_mode_resolves_every_demo_instance_and_no_empty_patch(tmp_path: Path, capsys) -> None:
    assert main(["--mode", "gold", "--task", "demo", "--run-dir", str(tmp_path), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    gold = json.loads((tmp_path / "gold-demo" / "gold" / "gold.gold-demo.json").read_text())
    empty = json.loads((tmp_path / "gold-demo" / "empty" / "empty.gold-demo.json").read_text())
    assert gold["total_instances"] >= 8
    assert gold["resolved_instances"] == gold["total_instances"] and gold["error_instances"] == 0
    assert empty["resolved_instances"] == 0 and empty["empty_patch_instances"] == empty["total_instances"]
    assert "gold report:" in out and "gold.gold-demo.json" in out
    for instance_id in gold["resolved_ids"]:
        assert instance_id in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "no-such-set"], "no-such-set"),
        (["--task", "demo", "--instance-ids", "srl-demo__nope-1"], "srl-demo__nope-1"),
        (["--task", "swe-gym", "--path", "/no/such/rows.jsonl"], "/no/such/rows.jsonl"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    assert main([*argv, "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err


def test_engine_that_does_not_answer_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert main(["--task", "demo", "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Docker engine not reachable") and "\n" not in err


MISSING_IMAGE = "localhost:1/srl-swe-h24-missing:nope"  # no registry answers there: it cannot be pulled
PARTIAL = ["--task", "demo", "--instance-ids", "srl-demo__semverkit-8", "srl-demo__tabulet-5"]


def _partial_image_map(tmp_path: Path) -> Path:
    image_map = tmp_path / "images.json"
    image_map.write_text(json.dumps({"srl-demo__tabulet-5": MISSING_IMAGE}))
    return image_map


def _eval(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "srl_swe.eval", *PARTIAL, "--run-dir", str(tmp_path / "runs"), *argv]
    return subprocess.run(
        [*command, "--image-map", str(_partial_image_map(tmp_path))],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "300"},
    )


@pytest.mark.parametrize("mode", ["gold", "oracle"])
def test_a_missing_image_makes_error_instances_and_the_others_are_graded(tmp_path: Path, mode: str) -> None:
    policy = ["--policy", "transformers", "--max-new-tokens", "16"] if mode == "oracle" else []
    done = _eval(tmp_path, "--mode", mode, *policy)
    assert done.returncode == 1, done.stderr[-3000:]
    missing = [line for line in done.stdout.splitlines() if line.startswith("srl-demo__tabulet-5:")]
    assert missing and all(MISSING_IMAGE in line and "no registry answered" in line for line in missing)
    name = "gold" if mode == "gold" else "srl-swe-tiny"
    report = json.loads(next((tmp_path / "runs").glob(f"*/**/{name}.{mode}-demo*.json")).read_text())
    # graded: the tiny model's patch is usually empty, which swebench counts as empty_patch, not completed
    assert report["completed_ids"] + report["empty_patch_ids"] == ["srl-demo__semverkit-8"]
    assert report["error_ids"] == ["srl-demo__tabulet-5"]
    assert MISSING_IMAGE in report["failure_reasons"]["srl-demo__tabulet-5"]
    if mode == "gold":
        assert report["resolved_ids"] == ["srl-demo__semverkit-8"]


def test_fail_fast_stops_on_a_missing_image_before_grading(tmp_path: Path) -> None:
    done = _eval(tmp_path, "--mode", "gold", "--fail-fast")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-3000:]
    assert done.stderr.startswith(f"error: image {MISSING_IMAGE} for instance srl-demo__tabulet-5")
    assert not (tmp_path / "runs").exists()
