"""Which raw rows are read (split, resolved, one per run, model, id list) and which instances are held out."""

import json
from pathlib import Path

import pytest
from datasets import Dataset, DatasetDict

from srl_swe.trajectories.selection import (
    NOT_LISTED,
    OTHER_MODEL,
    REPEATED_RUN,
    UNRESOLVED,
    Run,
    Selection,
    SelectionError,
    Selector,
    choose_split,
    choose_validation,
    files_of_split,
    is_resolved,
    load_ids,
    model_of,
    run_key,
    same_model,
    source_splits,
    split_of_file,
)

# Rows as SWE-smith's converter writes them (swesmith/train/traj_mgr/collect_trajs.py): instance_id, resolved,
# model (from the run's replay_config), traj_id = "<instance_id>.<hash of the run folder>", patch, messages.
SMITH = "getmoto__moto.694ce1f4.pr_5991"
SMITH_ROW = {
    "messages": [{"role": "system", "content": "You are a helpful assistant", "agent": "main"}],
    "instance_id": SMITH,
    "resolved": True,
    "model": "claude-3-7-sonnet-20250219",
    "traj_id": f"{SMITH}.8qa84d2e",
    "patch": "diff --git a/moto/core.py b/moto/core.py\r\n",
}
# A SWE-Gym OpenHands-Sampled-Trajectories row: no traj_id, the run is instance_id + run_id.
GYM_ROW = {
    "instance_id": "getmoto__moto-5752",
    "run_id": "gpt-4o-2024-08-06_maxiter_50_N_v2.1-no-hint-train-t0-run_1",
    "resolved": False,
    "messages": [],
    "test_result": {"git_patch": ""},
}
# A SWE-agent .traj record: no resolved field, the model in its replay_config (a JSON string).
TRAJ_RECORD = {
    "trajectory": [],
    "info": {"submission": ""},
    "replay_config": json.dumps({"agent": {"model": {"name": "anthropic/claude-3-7-sonnet-20250219"}}}),
}


def smith(instance: str = SMITH, run: str = "8qa84d2e", **fields) -> dict:
    return {**SMITH_ROW, "instance_id": instance, "traj_id": f"{instance}.{run}", **fields}


def test_a_row_names_its_run_by_traj_id_or_instance_and_run_id():
    assert run_key(SMITH_ROW) == f"{SMITH}.8qa84d2e"
    assert run_key(GYM_ROW) == f"getmoto__moto-5752@{GYM_ROW['run_id']}"
    assert run_key({"trajectory_id": "chatcmpl-27dd", "instance_id": "a"}) == "chatcmpl-27dd"
    assert run_key(TRAJ_RECORD) is None
    assert run_key({"traj_id": "", "instance_id": "x"}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("False", False), (None, None)],
)
def test_resolved_is_read_from_bools_numbers_and_strings(value, expected):
    assert is_resolved({"resolved": value}) is expected
    assert is_resolved({}) is None


def test_the_model_comes_from_the_column_or_the_replay_config_and_a_provider_prefix_is_ignored():
    assert model_of(SMITH_ROW) == "claude-3-7-sonnet-20250219"
    assert model_of(TRAJ_RECORD) == "anthropic/claude-3-7-sonnet-20250219"
    assert model_of({"replay_config": "{not json"}) is None
    assert model_of(GYM_ROW) is None
    assert same_model("anthropic/claude-3-7-sonnet-20250219", "claude-3-7-sonnet-20250219")
    assert same_model("claude-3-7-sonnet-20250219", "anthropic/claude-3-7-sonnet-20250219")
    assert not same_model("gpt-4o-2024-08-06", "claude-3-7-sonnet-20250219")
    assert not same_model(None, "claude-3-7-sonnet-20250219")


def test_paper_defaults_keep_resolved_runs_once_and_count_what_each_filter_removed():
    selector = Selector()
    rows = [
        smith(),
        smith(),  # the same run again (as in the xml and ticks splits)
        smith(run="b", resolved=False),
        smith(run="c", resolved="false"),  # noise: a resolved flag written as text
        smith(run="d", model="gpt-4o-2024-08-06"),  # no --model filter by default
        GYM_ROW,  # unresolved
        {**GYM_ROW, "resolved": True},
        TRAJ_RECORD,  # no resolved field: kept
        ["not", "a", "row"],  # admitted: reading it reports what is wrong
    ]
    admitted = [selector.admit(row, f"rows.jsonl#{i}") for i, row in enumerate(rows)]
    assert admitted == [True, False, False, False, True, False, True, True, True]
    assert selector.rows == len(rows)
    assert selector.removed == {REPEATED_RUN: 1, UNRESOLVED: 3}
    assert selector.run_keys == {
        "rows.jsonl#0": f"{SMITH}.8qa84d2e",
        "rows.jsonl#4": f"{SMITH}.d",
        "rows.jsonl#6": f"getmoto__moto-5752@{GYM_ROW['run_id']}",
    }
    assert Selection().filters() == (UNRESOLVED, REPEATED_RUN)


def test_model_and_id_list_filters_and_the_first_filter_that_removes_a_row_counts_it():
    ids = frozenset({f"{SMITH}.a", "pandas-dev__pandas.95280573.pr_53652", "never-read"})
    selector = Selector(Selection(model="claude-3-7-sonnet-20250219", ids=ids))
    assert selector.admit(smith(run="a"), "r#0")
    assert selector.admit(smith("pandas-dev__pandas.95280573.pr_53652", run="z"), "r#1")  # by instance id
    assert not selector.admit(smith(run="b"), "r#2")  # not listed
    assert not selector.admit(smith(run="a", model="gpt-4o-2024-08-06"), "r#3")  # listed, other model
    assert not selector.admit(smith(run="a", resolved=False), "r#4")  # listed, right model, unresolved
    assert selector.admit(TRAJ_RECORD, "t.traj", fallback_id="pandas-dev__pandas.95280573.pr_53652")
    assert selector.removed == {NOT_LISTED: 1, OTHER_MODEL: 1, UNRESOLVED: 1}
    assert selector.matched_ids == ids - {"never-read"}
    assert Selection(model="m", ids=ids, resolved_only=False).filters() == (
        NOT_LISTED,
        OTHER_MODEL,
        REPEATED_RUN,
    )


def test_keep_unresolved_still_reads_each_run_once():
    selector = Selector(Selection(resolved_only=False))
    assert [selector.admit(row, f"r#{i}") for i, row in enumerate([GYM_ROW, GYM_ROW])] == [True, False]
    assert selector.removed == {REPEATED_RUN: 1}


def test_id_lists_skip_blank_lines_and_comments_and_bad_lists_are_one_line_errors(tmp_path: Path):
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# the paper's subset\n{SMITH}.8qa84d2e\n\n  getmoto__moto-5752  \n")
    assert load_ids(ids) == {f"{SMITH}.8qa84d2e", "getmoto__moto-5752"}
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(SelectionError, match=r"empty\.txt: the id list holds no ids"):
        load_ids(tmp_path / "empty.txt")
    with pytest.raises(SelectionError, match=r"--ids .*missing\.txt: cannot read") as raised:
        load_ids(tmp_path / "missing.txt")
    assert "\n" not in str(raised.value)


def test_split_names_come_from_row_file_names_as_the_hub_lays_them_out():
    assert split_of_file("tool-00000-of-00003.parquet") == "tool"
    assert split_of_file("train.success.oss-00000-of-00001.parquet") == "train.success.oss"
    assert split_of_file("xml.jsonl") == "xml"
    assert split_of_file("django__django-11099.traj") is None
    files = [
        Path("data/ticks-00000-of-00001.parquet"),
        Path("data/tool-00000-of-00002.parquet"),
        Path("a.traj"),
    ]
    assert files_of_split(files, "tool") == [Path("data/tool-00000-of-00002.parquet")]
    assert source_splits("data", files) == ["ticks", "tool"]


def test_the_default_split_is_tool_for_swe_smith_splits_and_every_split_otherwise():
    smith_splits = ["tool", "xml", "ticks"]
    assert choose_split("d", None, smith_splits) == "tool"
    assert choose_split("d", "xml", smith_splits) == "xml"
    assert choose_split("d", "all", smith_splits) is None
    assert choose_split("d", None, ["train.raw"]) is None
    assert choose_split("d", None, []) is None
    with pytest.raises(
        SelectionError, match=r"--split tol: no such split in d \(its splits: tool, xml, ticks\)"
    ):
        choose_split("d", "tol", smith_splits)
    with pytest.raises(SelectionError, match="it has no splits"):
        choose_split("rows.jsonl", "tool", [])


def test_a_saved_dataset_dict_names_its_splits(tmp_path: Path):
    rows = Dataset.from_list([SMITH_ROW])
    DatasetDict({"tool": rows, "xml": rows, "ticks": rows}).save_to_disk(str(tmp_path / "smith"))
    assert sorted(source_splits(tmp_path / "smith")) == ["ticks", "tool", "xml"]
    rows.save_to_disk(str(tmp_path / "plain"))
    assert source_splits(tmp_path / "plain") == []


def _runs(trajectories_per_instance: dict[str, int], rows: int = 4) -> list[Run]:
    return [
        Run(f"{instance}.{i}", instance, rows)
        for instance, count in trajectories_per_instance.items()
        for i in range(count)
    ]


def test_validation_takes_whole_instances_up_to_the_count_in_a_seeded_order():
    runs = _runs({f"repo__x.{i:02d}": 1 + i % 3 for i in range(40)})
    held = choose_validation(runs, 30, seed=0)
    assert held.trajectories == 30
    assert held.rows == 30 * 4
    assert sum(1 for run in runs if run.instance_id in held.instances) == 30  # no instance split in two
    assert choose_validation(runs, 30, seed=0) == held
    assert choose_validation(list(reversed(runs)), 30, seed=0) == held  # the order read does not matter
    assert choose_validation(runs, 30, seed=1).instances != held.instances


def test_validation_by_fraction_zero_and_runs_without_steps():
    runs = [*_runs({f"i{n}": 1 for n in range(20)}), Run("empty", "i-empty", 0)]
    assert choose_validation(runs, 0.1).trajectories == 2
    assert "i-empty" not in choose_validation(runs, 0.5).instances
    assert choose_validation(runs, 0).instances == set()


def test_validation_that_leaves_nothing_to_train_on_is_refused():
    with pytest.raises(SelectionError, match="30 of the 9 trajectories read leaves none to train on"):
        choose_validation(_runs({f"i{n}": 1 for n in range(9)}), 30)
