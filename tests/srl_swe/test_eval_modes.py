"""`srl_swe.eval --mode e2e|oracle` on two demo instances with the tiny model: predictions in swebench's
format, a run report whose counts agree with them, a readable trajectory per e2e episode, and a rerun that
resumes instead of predicting again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.policies import SamplingConfig
from agents.policies.vllm_policy import VLLMPolicy
from srl_swe.eval import EvalConfig, main
from srl_swe.eval_policy import run_policy_mode

pytestmark = pytest.mark.docker
IDS = ["srl-demo__timespan-6", "srl-demo__tabulet-12"]


def predictions(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "predictions.jsonl").read_text().splitlines()]


def check_report_agrees(root: Path, report_name: str) -> dict:
    rows = predictions(root)
    assert sorted(row["instance_id"] for row in rows) == sorted(IDS)
    assert all(set(row) == {"instance_id", "model_name_or_path", "model_patch"} for row in rows)
    report = json.loads((root / report_name).read_text())
    assert report["total_instances"] == report["submitted_instances"] == 2
    assert report["failure_reasons"] == {
        i: d["verdict"]
        for i, d in report["unresolved_diagnosis"].items()
        if d["verdict"].startswith("did not")
    }  # swebench's rules: a patch that did not apply is an error, an empty one neither completed nor error
    assert report["empty_patch_ids"] == sorted(row["instance_id"] for row in rows if not row["model_patch"])
    counted = report["completed_instances"] + report["empty_patch_instances"] + report["error_instances"]
    assert (
        counted == 2
        and report["resolved_instances"] + report["unresolved_instances"] == (report["completed_instances"])
    )
    for instance_id in IDS:
        graded = json.loads((root / "srl-swe-tiny" / instance_id / "report.json").read_text())
        assert graded[instance_id]["resolved"] == (instance_id in report["resolved_ids"])
    return report


@pytest.mark.vllm
def test_e2e_mode_writes_predictions_trajectories_and_a_consistent_report(
    tmp_path: Path, vllm_engine, capsys
) -> None:
    config = EvalConfig(
        mode="e2e", instance_ids=IDS, run_dir=str(tmp_path), max_steps=3, max_new_tokens=16, workers=2
    )
    policy = VLLMPolicy(engine=vllm_engine, sampling=SamplingConfig(max_new_tokens=16, seed=0))
    assert run_policy_mode(config, policy) == 0
    root = tmp_path / "e2e-demo-srl-swe-tiny"
    check_report_agrees(root, "srl-swe-tiny.e2e-demo-srl-swe-tiny.json")
    out = capsys.readouterr().out
    assert "resolved 0/2" in out and "srl-swe-tiny.e2e-demo-srl-swe-tiny.json" in out
    for instance_id in IDS:
        traj = json.loads((root / "trajectories" / f"{instance_id}.traj").read_text())
        assert len(traj["trajectory"]) == 3 and traj["info"]["exit_status"] == "submitted (exit_step_limit)"
        assert all(step["query"][-1]["role"] == "user" and step["response"] for step in traj["trajectory"])
        assert [m["role"] for m in traj["history"]] == ["system", "user"] + ["assistant", "user"] * 3

    assert run_policy_mode(config, policy) == 0  # resume: nothing predicted or graded again
    assert "2 already predicted" in capsys.readouterr().out
    assert len(predictions(root)) == 2


def test_oracle_mode_from_the_command_line_with_the_transformers_policy(tmp_path: Path, capsys) -> None:
    argv = ["--mode", "oracle", "--policy", "transformers", "--instance-ids", *IDS]
    argv += ["--max-new-tokens", "24", "--temperature", "1.0", "--run-dir", str(tmp_path)]
    assert main(argv) == 0
    root = tmp_path / "oracle-demo-srl-swe-tiny"
    report = check_report_agrees(root, "srl-swe-tiny.oracle-demo-srl-swe-tiny.json")
    assert report["resolved_instances"] == 0
    for instance_id in IDS:
        reply = json.loads((root / "replies" / f"{instance_id}.json").read_text())
        assert reply["files"] and reply["error"]  # the tiny model writes no valid edit
    assert "srl-swe-tiny.oracle-demo-srl-swe-tiny.json" in capsys.readouterr().out


def test_openai_policy_without_base_url_is_one_line(tmp_path: Path, capsys) -> None:
    argv = ["--mode", "oracle", "--policy", "openai", "--instance-ids", IDS[0], "--run-dir", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "--base-url" in err and "\n" not in err
