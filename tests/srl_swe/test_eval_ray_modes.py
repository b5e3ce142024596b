"""`srl_swe.eval --mode e2e|oracle --executor ray` on a two-node cluster with the tiny model: episodes run in
RemoteEnvs on the nodes, grading on sandbox workers, and the run reads as a local one does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srl_swe.eval import main
from tests.ray_cluster import two_node_cluster
from tests.srl_swe.test_eval_modes import IDS, check_report_agrees

pytestmark = [pytest.mark.docker, pytest.mark.ray]


@pytest.mark.parametrize("mode", ["e2e", "oracle"])
def test_policy_modes_on_two_nodes_write_a_consistent_run(mode: str, tmp_path: Path, capsys) -> None:
    argv = ["--mode", mode, "--policy", "transformers", "--instance-ids", *IDS, "--max-new-tokens", "16"]
    argv += ["--max-steps", "2", "--run-dir", str(tmp_path), "--executor", "ray"]
    with two_node_cluster() as cluster:
        assert main([*argv, "--ray-address", cluster.address]) == 0
    root = tmp_path / f"{mode}-demo-srl-swe-tiny"
    report = check_report_agrees(root, f"srl-swe-tiny.{mode}-demo-srl-swe-tiny.json")
    assert report["retried"] == {}
    if mode == "e2e":
        for instance_id in IDS:
            traj = json.loads((root / "trajectories" / f"{instance_id}.traj").read_text())
            assert len(traj["trajectory"]) == 2 and traj["info"]["error"] is None
    assert f"srl-swe-tiny.{mode}-demo-srl-swe-tiny.json" in capsys.readouterr().out
