"""The same predictions graded by swebench's own `run_evaluation` (offline: a local dataset file whose rows
carry image, eval_script, log_parser and eval_type, on the same local images) and by `srl_swe.eval --mode
predictions` agree: the run report's counters and id lists, and per instance resolved and the per-test
lists (tests_status)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import load_instances
from srl_swe.eval import main
from tests.srl_swe.test_eval_predictions_mode import UNAPPLIABLE, WRONG, syntax_breaking

pytestmark = pytest.mark.docker
MODEL = "acme/agent-v1"
COUNTERS = ("total", "submitted", "completed", "resolved", "unresolved", "empty_patch", "error")
ID_LISTS = ("completed", "empty_patch", "resolved", "unresolved", "error", "incomplete")


def test_swebench_and_srl_swe_count_and_grade_alike(tmp_path: Path) -> None:
    instances = {i.instance_id: i for i in load_instances("demo")}
    ids = sorted(instances)
    patches = {
        ids[0]: instances[ids[0]].patch,  # gold
        ids[1]: "",  # empty
        ids[2]: None,  # null
        ids[3]: WRONG,  # applies, fixes nothing
        ids[4]: UNAPPLIABLE,
        ids[5]: syntax_breaking(instances[ids[5]].patch),
    }
    (tmp_path / "rows.json").write_text(json.dumps([instances[i].to_row() for i in patches]))
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text(
        "".join(
            json.dumps({"instance_id": i, "model_name_or_path": MODEL, "model_patch": p}) + "\n"
            for i, p in patches.items()
        )
    )
    command = [
        sys.executable,
        "-m",
        "swebench.harness.run_evaluation",
        "-d",
        "rows.json",
        "-p",
        str(predictions),
    ]
    command += ["-id", "cmp", "--max_workers", "2", "--report_dir", "."]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads((tmp_path / f"{MODEL.replace('/', '__')}.cmp.json").read_text())

    assert (
        main(
            ["--mode", "predictions", "--predictions", str(predictions), "--run-dir", str(tmp_path / "runs")]
        )
        == 0
    )
    ours = json.loads(next((tmp_path / "runs").glob("*/acme__agent-v1.*.json")).read_text())

    assert {c: ours[f"{c}_instances"] for c in COUNTERS} == {c: theirs[f"{c}_instances"] for c in COUNTERS}
    assert {k: ours[f"{k}_ids"] for k in ID_LISTS} == {k: theirs[f"{k}_ids"] for k in ID_LISTS}
    assert theirs["resolved_ids"] == [ids[0]] and theirs["error_ids"] == [
        ids[4]
    ]  # the cases are what they say
    own_dir = next((tmp_path / "runs").glob("*/acme__agent-v1"))
    for instance_id in theirs["completed_ids"]:
        their = json.loads(
            (tmp_path / "logs/run_evaluation/cmp/acme__agent-v1" / instance_id / "report.json").read_text()
        )
        our = json.loads((own_dir / instance_id / "report.json").read_text())
        assert our[instance_id]["resolved"] == their[instance_id]["resolved"], instance_id
        assert our[instance_id]["tests_status"] == their[instance_id]["tests_status"], instance_id
