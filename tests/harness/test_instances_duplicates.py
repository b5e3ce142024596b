"""A task-set file holding the same row twice (real public files do): kept once with a warning; two different
rows under one instance id: an error naming both rows."""

import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness import load_instances
from harness.errors import InstanceRowError

FIXTURES = Path(__file__).parent / "fixtures"


def swe_gym_rows() -> list[dict]:
    return json.loads((FIXTURES / "swe_gym_rows.json").read_text())


def write_parquet(path: Path, rows: list[dict]) -> Path:
    schema = pa.schema(
        [(name, pa.list_(pa.string()) if name.endswith("_TO_PASS") else pa.string()) for name in rows[0]]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_a_repeated_row_is_kept_once_with_one_warning_naming_where(tmp_path, caplog):
    rows = swe_gym_rows()
    path = write_parquet(tmp_path / "train.parquet", [rows[0], *rows, rows[0], rows[0]])

    with caplog.at_level(logging.WARNING, logger="harness.instances"):
        instances = load_instances("swe-gym", path)

    assert [i.instance_id for i in instances] == [row["instance_id"] for row in rows]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"3 repeated instance row(s) kept once: {path} row 2 repeats {path} row 1; "
        f"{path} row {len(rows) + 2} repeats {path} row 1; {path} row {len(rows) + 3} repeats {path} row 1"
    ]


def test_a_row_repeated_in_another_encoding_is_the_same_instance(tmp_path, caplog):
    rows = swe_gym_rows()
    as_text = {**rows[0], "FAIL_TO_PASS": json.dumps(rows[0]["FAIL_TO_PASS"])}  # SWE-bench's JSON strings
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([*rows, as_text]))

    assert len(load_instances("swe-gym", path)) == len(rows)
    assert f"{path} row {len(rows) + 1} repeats {path} row 1" in caplog.text


def test_repeats_across_the_files_of_a_folder_name_both_files(tmp_path):
    rows = swe_gym_rows()
    (tmp_path / "a.json").write_text(json.dumps(rows))
    conflicting = {**rows[-1], "problem_statement": "another issue"}
    (tmp_path / "b.jsonl").write_text(json.dumps(rows[0]) + "\n" + json.dumps(conflicting) + "\n")

    with pytest.raises(InstanceRowError) as raised:
        load_instances("swe-gym", tmp_path)

    assert str(raised.value) == (
        f"instance {rows[-1]['instance_id']} appears twice with different rows: {tmp_path / 'a.json'} row "
        f"{len(rows)} and {tmp_path / 'b.jsonl'} line 2 (differing in problem_statement)"
    )
    assert "\n" not in str(raised.value)


def test_more_than_three_repeats_are_counted_not_all_named(tmp_path, caplog):
    rows = swe_gym_rows()
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(rows[0]) + "\n" for _ in range(6)))

    assert len(load_instances("swe-gym", path)) == 1
    assert "5 repeated instance row(s) kept once:" in caplog.text
    assert caplog.text.count(" repeats ") == 3 and "; and 2 more" in caplog.text
