"""Bad input to the instance loader gives one-line HarnessError messages that say what and where."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import load_instances
from harness.errors import (
    HarnessError,
    InstanceRowError,
    InstanceSourceError,
    MissingInstancesError,
    UnknownTaskSetError,
)

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).parents[2]


def fixture_rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_unknown_task_set_names_the_known_sets():
    with pytest.raises(UnknownTaskSetError) as raised:
        load_instances("swe-bench-full", FIXTURES / "swe_bench_verified.jsonl")

    message = str(raised.value)
    assert "'swe-bench-full'" in message
    assert "swe-bench-verified" in message and "swe-smith" in message and "demo" in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InstanceSourceError, match=r"not found: .*nowhere\.jsonl"):
        load_instances("swe-gym", tmp_path / "nowhere.jsonl")


def test_row_without_a_required_field_names_file_line_instance_and_field(tmp_path):
    rows = fixture_rows("swe_bench_verified.jsonl")
    del rows[1]["test_patch"]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)

    with pytest.raises(InstanceRowError) as raised:
        load_instances("swe-bench-verified", path)

    message = str(raised.value)
    assert message == f"{path} line 2: instance pytest-dev__pytest-5227: missing required field 'test_patch'"


def test_invalid_json_string_test_list_names_the_field(tmp_path):
    rows = fixture_rows("swe_bench_verified.jsonl")
    rows[0]["FAIL_TO_PASS"] = "[not json"
    path = write_jsonl(tmp_path / "rows.jsonl", rows)

    with pytest.raises(InstanceRowError, match=r"line 1: instance django__django-11099: .*'FAIL_TO_PASS'"):
        load_instances("swe-bench-verified", path)


def test_broken_jsonl_line_is_named(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text((FIXTURES / "swe_bench_verified.jsonl").read_text() + "{oops\n")

    with pytest.raises(InstanceSourceError, match=r"rows.jsonl line 3: invalid JSON"):
        load_instances("swe-bench-verified", path)


def test_missing_instance_ids_are_all_named():
    with pytest.raises(MissingInstancesError) as raised:
        load_instances(
            "swe-bench-verified",
            FIXTURES / "swe_bench_verified.jsonl",
            instance_ids=["django__django-11099", "sympy__sympy-1", "flask__flask-2"],
        )

    assert (
        str(raised.value) == "instance ids not in task set swe-bench-verified: sympy__sympy-1, flask__flask-2"
    )


def test_two_different_rows_with_one_instance_id_name_both_rows(tmp_path):
    rows = fixture_rows("swe_bench_verified.jsonl")
    path = write_jsonl(tmp_path / "rows.jsonl", [*rows, {**rows[0], "base_commit": "0" * 40}])

    with pytest.raises(InstanceRowError) as raised:
        load_instances("swe-bench-verified", path)

    assert str(raised.value) == (
        f"instance django__django-11099 appears twice with different rows: {path} line 1 and {path} line 3 "
        "(differing in base_commit, eval_script)"
    )


def test_unsupported_file_and_empty_folder_are_named(tmp_path):
    csv = tmp_path / "rows.csv"
    csv.write_text("instance_id\n")

    with pytest.raises(InstanceSourceError, match=r"unsupported instances file .*rows\.csv"):
        load_instances("swe-gym", csv)
    with pytest.raises(InstanceSourceError, match=r"no \.json, \.jsonl or \.parquet files in folder"):
        load_instances("swe-gym", tmp_path)


def test_json_file_must_hold_a_list(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps({"instance_id": "x"}))

    with pytest.raises(InstanceSourceError, match="expected a JSON list of instance rows"):
        load_instances("swe-bench-lite", path)


def test_every_error_is_a_one_line_harness_error(tmp_path):
    rows = fixture_rows("swe_smith.jsonl")
    rows[0]["PASS_TO_PASS"] = "a\nb"
    path = write_jsonl(tmp_path / "rows.jsonl", rows)

    with pytest.raises(HarnessError) as raised:
        load_instances("swe-smith", path)

    assert "\n" not in str(raised.value)


def test_unreachable_hub_says_so_and_suggests_a_local_path():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    script = (
        "from harness import load_instances\n"
        "from harness.errors import HubUnavailableError\n"
        "try:\n    load_instances('swe-gym-lite')\n"
        "except HubUnavailableError as error:\n    print(error)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )

    (line,) = result.stdout.splitlines()
    assert line.startswith("cannot load SWE-Gym/SWE-Gym-Lite (train) from the Hugging Face hub")
    assert line.endswith("pass --path with a local JSON, JSONL or Parquet file or folder")
