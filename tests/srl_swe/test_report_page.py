"""The report page's pure parts: the character-level difference of two actions, the SVG chart, and a page
written from whatever a run folder holds (missing files shown as missing, unknown files left out, a folder
holding nothing known refused in one line)."""

from __future__ import annotations

import difflib
import html
import json
import re
from pathlib import Path

import pytest

from srl_swe.report import REPORT_FILE, ReportError, find_parts, write_report
from srl_swe.report.__main__ import main
from srl_swe.report.charts import line_chart
from srl_swe.report.page import char_diff


def _strip(marked: str, tag: str) -> tuple[str, str]:
    """Return the text without tags, and the text inside ``<tag>``s only (both unescaped)."""
    inside = "".join(re.findall(rf"<{tag}>(.*?)</{tag}>", marked))
    return html.unescape(re.sub(r"</?\w+>", "", marked)), html.unescape(inside)


def test_char_diff_marks_only_the_characters_difflib_finds_different() -> None:
    policy, expert = "grep -rn 'def align' /testbed<x>", "grep -n 'def align(' /testbed/tabulet"
    left, right = char_diff(policy, expert)
    left_text, removed = _strip(left, "del")
    right_text, added = _strip(right, "ins")
    assert (left_text, right_text) == (policy, expert)
    matcher = difflib.SequenceMatcher(None, policy, expert, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    assert len(removed) == len(policy) - same
    assert len(added) == len(expert) - same
    assert "<ins>" not in "".join(char_diff(expert, expert))  # nothing marked for the expert's own action
    assert "<del>" not in "".join(char_diff(expert, expert))


def test_line_chart_draws_each_series_and_skips_missing_values() -> None:
    svg = line_chart("reward", {"srl": [(0, -0.5), (1, 0.25), (2, None)], "empty": [(0, None)]})
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 2
    assert "srl at 1: 0.25" in svg and "empty" not in svg
    assert line_chart("nothing", {"a": []}) == ""


def test_a_folder_without_run_files_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.json").write_text("{}")
    with pytest.raises(ReportError, match="no run files"):
        write_report(tmp_path)
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and str(tmp_path) in err[0]
    assert main([str(tmp_path / "missing")]) == 2


def test_partial_run_folders_give_a_page_of_what_is_there(tmp_path: Path, capsys) -> None:
    # a training run killed before its first checkpoint: only the held-out history, plus a stray file
    run = tmp_path / "train" / "srl-demo"
    run.mkdir(parents=True)
    (run / "heldout_steps.json").write_text(
        json.dumps([{"step": 0, "heldout/step_reward": -0.2}, {"step": 4, "heldout/step_reward": 0.1}])
    )
    (run / "unknown.bin").write_bytes(b"\0\1")
    # a graded run whose predictions file and instance folders are gone, its run report kept
    graded = tmp_path / "eval" / "oracle-demo"
    graded.mkdir(parents=True)
    report = {
        "schema_version": 2,
        "total_instances": 2,
        "resolved_instances": 1,
        "completed_ids": ["a__b-1", "a__b-2"],
        "resolved_ids": ["a__b-1"],
        "unresolved_ids": ["a__b-2"],
        "unresolved_diagnosis": {
            "a__b-2": {
                "verdict": "tests failed: tests/test_x.py::test_y",
                "failed": ["tests/test_x.py::test_y"],
            }
        },
    }
    (graded / "m.oracle-demo.json").write_text(json.dumps(report))
    parts = find_parts(tmp_path)
    assert parts.training == [run] and parts.graded == [graded / "m.oracle-demo.json"]
    assert main([str(tmp_path)]) == 0
    page = (tmp_path / REPORT_FILE).read_text()
    assert capsys.readouterr().out.strip() == str(tmp_path / REPORT_FILE)
    assert "held-out step reward (greedy)" in page and "<svg" in page
    assert "resolved <b>1/2</b>" in page and "tests failed: tests/test_x.py::test_y; 1 failed" in page
    assert "No training log" in page  # no trainer_state.json: said, not an error
