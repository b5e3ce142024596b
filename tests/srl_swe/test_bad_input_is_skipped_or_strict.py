"""Malformed files, unknown formats, steps without an action: skipped and counted, or raised when strict."""

import json
import re

import pytest

from srl_swe.trajectories import ReadLog, TrajectoryFormatError, read
from tests.srl_swe.scenario import FIXTURES


def test_bad_files_are_skipped_with_file_and_position():
    log = ReadLog()
    trajectories = read(FIXTURES / "bad", log=log)
    assert [t.instance_id for t in trajectories] == ["demo__calc-9"]
    where = {skip.where: skip for skip in log.skipped}
    assert where[str(FIXTURES / "bad" / "broken.traj")].reason.startswith("unreadable")
    assert where[str(FIXTURES / "bad" / "unknown.json")].reason.startswith("unknown trajectory format")
    assert where[f"{FIXTURES / 'bad' / 'partial.jsonl'}#2"].reason.startswith("invalid JSON")
    step_skip = where[f"{FIXTURES / 'bad' / 'partial.jsonl'}#1 message 1"]
    assert (step_skip.kind, step_skip.reason) == ("step", "assistant message without an action")


def test_the_rest_of_a_trajectory_survives_a_step_without_an_action():
    (trajectory,) = read(FIXTURES / "bad" / "partial.jsonl")
    assert [s.action for s in trajectory.steps] == ["ls"]
    assert trajectory.steps[0].observation == "calc\ntests"


def test_strict_raises_naming_the_file():
    with pytest.raises(TrajectoryFormatError, match=re.escape("broken.traj: unreadable")):
        read(FIXTURES / "bad" / "broken.traj", strict=True)
    with pytest.raises(
        TrajectoryFormatError, match=re.escape("partial.jsonl#1 message 1: assistant message without")
    ):
        read(FIXTURES / "bad" / "partial.jsonl", strict=True)


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trajectories at"):
        read(tmp_path / "nowhere")


REAL_SHAPED = [
    p
    for p in sorted(FIXTURES.rglob("*"))
    if p.is_file() and p.parent.name != "bad" and not p.name.endswith(".py")
]


@pytest.mark.parametrize("path", REAL_SHAPED, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_strict_passes_on_real_shaped_rows_and_counts_what_it_dropped(path):
    log = ReadLog()
    assert read(path, strict=True, log=log)
    assert all(skip.kind == "dropped" for skip in log.skipped)


def test_a_reply_without_an_action_answered_by_a_nudge_is_reasoning_not_an_error(tmp_path):
    row = json.loads((FIXTURES / "bad" / "partial.jsonl").read_text().splitlines()[0])
    row["messages"][2]["content"] = (
        "Please continue working on the task on whatever approach you think is suitable."
    )
    (tmp_path / "nudged.jsonl").write_text(json.dumps(row) + "\n")
    (trajectory,) = read(
        tmp_path / "nudged.jsonl", strict=True
    )  # a nudge answered it: reasoning, not an error
    assert trajectory.steps[0].thought == "I am thinking but not acting.\n\nok"
