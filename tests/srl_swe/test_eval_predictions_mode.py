"""`srl_swe.eval --mode predictions --predictions FILE` grades any agent's patches (JSONL, JSON list or
SWE-agent's preds.json) under the file's model name; null and missing patches are counted, never an
exception; the report carries its provenance; a file that cannot be graded is one line and exit 2."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from harness import load_instances
from srl_swe.eval import main
from srl_swe.eval_predictions import PredictionsFileError, read_predictions_file

MODEL = "acme/agent-v1"
ROW_A = '{"instance_id": "a", "model_name_or_path": "m"}\n'
WRONG = """\
diff --git a/NOTES.txt b/NOTES.txt
new file mode 100644
--- /dev/null
+++ b/NOTES.txt
@@ -0,0 +1 @@
+looked at it, not a fix
"""
UNAPPLIABLE = """\
diff --git a/no_such_module.py b/no_such_module.py
--- a/no_such_module.py
+++ b/no_such_module.py
@@ -1,1 +1,1 @@
-print("old")
+print("new")
"""


def syntax_breaking(patch: str) -> str:
    """Return ``patch`` with its first added line made one Python cannot parse (it still applies)."""
    lines = patch.splitlines(keepends=True)
    first = next(n for n, line in enumerate(lines) if line.startswith("+") and not line.startswith("+++"))
    lines[first] = "+def broken(:\n"
    return "".join(lines)


def rows() -> list[dict]:
    """Return predictions of every kind on six demo instances: gold, empty, null, missing, wrong and
    unappliable."""
    gold = {i.instance_id: i.patch for i in load_instances("demo")}
    ids = sorted(gold)
    patches = {ids[0]: gold[ids[0]], ids[1]: "", ids[2]: None, ids[4]: WRONG, ids[5]: UNAPPLIABLE}
    out = [{"instance_id": iid, "model_name_or_path": MODEL, "model_patch": p} for iid, p in patches.items()]
    out.append({"instance_id": ids[3], "model_name_or_path": MODEL})  # no model_patch at all
    return out


@pytest.mark.docker
def test_a_file_of_every_kind_of_patch_is_graded_and_counted(tmp_path: Path, capsys) -> None:
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text("".join(json.dumps(row) + "\n" for row in rows()))
    argv = ["--mode", "predictions", "--predictions", str(predictions), "--run-dir", str(tmp_path / "runs")]
    assert main(argv) == 0
    ids = sorted(row["instance_id"] for row in rows())
    root = tmp_path / "runs" / "predictions-demo-acme__agent-v1"
    report = json.loads((root / "acme__agent-v1.predictions-demo-acme__agent-v1.json").read_text())
    gold_id = rows()[0]["instance_id"]
    assert report["total_instances"] == report["submitted_instances"] == 6
    assert report["resolved_ids"] == [gold_id]
    assert report["empty_patch_ids"] == sorted(row["instance_id"] for row in rows()[1:3] + rows()[5:])
    unappliable, wrong = rows()[4]["instance_id"], rows()[3]["instance_id"]
    assert (report["completed_ids"], report["unresolved_ids"]) == (sorted([gold_id, wrong]), [wrong])
    assert report["error_ids"] == [unappliable]  # swebench's rules: an empty patch is no error, nor completed
    assert report["failure_reasons"][unappliable].startswith("did not apply: error: no_such_module.py")
    assert sorted(report["submitted_ids"]) == ids
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["model_name_or_path"] == MODEL and manifest["mode"] == "predictions"
    provenance = report["provenance"]  # what made the numbers, in the report itself
    assert provenance["swebench_version"] == metadata.version("swebench")
    assert provenance["srl_swe_version"] == metadata.version("srl-swe") and provenance["srl_swe_commit"]
    assert provenance["manifest"] == manifest and provenance["grading"]["network_mode"] == "bridge"
    assert sorted(provenance["images"]) == ids
    assert all(image["image_id"].startswith("sha256:") for image in provenance["images"].values())
    out = capsys.readouterr().out
    assert "resolved 1/6" in out and "model acme/agent-v1" in out

    # the same predictions as a JSON list: every result reused, none graded again
    listed = tmp_path / "preds.json"
    listed.write_text(json.dumps(rows()))
    assert main([*argv[:2], "--predictions", str(listed), *argv[4:]]) == 0
    assert "6 result(s) reused" in capsys.readouterr().out


def test_json_list_object_and_jsonl_read_alike(tmp_path: Path) -> None:
    expected = (MODEL, {row["instance_id"]: row.get("model_patch") for row in rows()})
    jsonl, listed, keyed = tmp_path / "p.jsonl", tmp_path / "p.json", tmp_path / "preds.json"
    jsonl.write_text("\n".join(json.dumps(row) for row in rows()) + "\n\n")
    listed.write_text(json.dumps(rows(), indent=2))
    keyed.write_text(json.dumps({row["instance_id"]: row for row in rows()}))
    assert read_predictions_file(jsonl) == read_predictions_file(listed) == read_predictions_file(keyed)
    assert read_predictions_file(jsonl) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            '{"instance_id": "a", "model_name_or_path": "m", "model_patch": ""}\n{"instance_id": "b"}\n',
            "line 2 (b): no model_name_or_path",
        ),
        ('[{"model_name_or_path": "m", "model_patch": ""}]', "item 1: no instance_id"),
        ('{"instance_id": "a", "model_name_or_path": "m", "model_patch": 3}\n', "model_patch must be"),
        (
            ROW_A + ROW_A,
            "line 2: a is predicted twice",
        ),
        (
            ROW_A + '{"instance_id": "b", "model_name_or_path": "n"}\n',
            "rows of 2 models (m, n at b)",
        ),
        ('{"instance_id": "a", "model_name_or_path": "m"}\nnot json\n', "line 2: not JSON"),
        ("", "no predictions"),
    ],
)
def test_a_bad_predictions_file_is_one_line_naming_the_row(
    text: str, named: str, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "preds.jsonl"
    path.write_text(text)
    with pytest.raises(PredictionsFileError, match=None) as raised:
        read_predictions_file(path)
    assert named in str(raised.value) and "\n" not in str(raised.value)
    assert main(["--mode", "predictions", "--predictions", str(path), "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert named in err and len(err.splitlines()) == 1


def test_an_instance_the_task_set_lacks_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "preds.jsonl"
    path.write_text('{"instance_id": "nobody__nothing-1", "model_name_or_path": "m", "model_patch": ""}\n')
    assert main(["--mode", "predictions", "--predictions", str(path), "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "nobody__nothing-1" in err and len(err.splitlines()) == 1
