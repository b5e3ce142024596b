"""`python -m srl_swe.data build` end to end on the fixtures."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Dataset, DatasetDict, load_from_disk

from srl_swe.data import build, command_name, main
from srl_swe.train import TrainArguments, load_steps
from srl_swe.trajectories import read
from srl_swe.trajectories.selection import REPEATED_RUN, UNRESOLVED
from tests.srl_swe.scenario import FIXTURES


def test_build_writes_the_dataset_and_prints_the_summary(tmp_path, capsys):
    out = tmp_path / "steps"
    assert main(["build", "--trajectories", str(FIXTURES), "--out", str(out), "--num-proc", "2"]) == 0
    dataset = load_from_disk(str(out))
    printed = capsys.readouterr().out
    summary = summary_rows(printed)
    # N-1 rows per trajectory of N steps: nine five-step trajectories (swe_agent/demo__calc-1, -2;
    # mini_swe_agent/demo__calc-1, -3; openhands_events/demo__calc-1; swe_smith_ft.jsonl's tool, xml and ticks
    # rows; swe_gym_openhands.jsonl) give 9 * 4 = 36, three four-step ones (swe_agent/demo__calc-7,
    # openhands_rebench.jsonl, swe_smith_ticks.jsonl) 3 * 3 = 9, two three-step ones
    # (mini_swe_agent/demo__calc-4, -5) 2 * 2 = 4, and bad/partial.jsonl's one-step trajectory none: 49 rows
    # from 15 trajectories.
    assert len(dataset) == 49 and summary["step examples"] == "49"
    assert summary["trajectories read"] == "15" and len(set(dataset["trajectory_id"])) == 14
    assert summary["records skipped"] == "3"  # bad/: broken.traj, partial.jsonl's line 2, unknown.json
    # the openhands fixtures' /workspace/demo__calc__1.0, swe_agent/demo__calc-7's /demo__calc
    assert summary["paths mapped to /testbed (trajectories)"] == "3"
    assert summary["/workspace/demo__calc__1.0 → /testbed"] == "2"
    assert summary["/demo__calc → /testbed"] == "1"
    # rejected replies: mini_swe_agent/demo__calc-3 (2), -4 (1), swe_agent/demo__calc-1, -7 (1 each);
    # task-tracker calls: openhands_events/demo__calc-1, openhands_rebench.jsonl; keystrokes: its C-c
    assert summary["replies and tool calls dropped"] == "8"
    assert summary["not an environment command"] == "2"
    assert summary["text typed into a running process"] == "1"
    assert "unknown trajectory format" in printed
    assert [p.name for p in tmp_path.iterdir()] == ["steps"]  # no staging folder left behind


def test_context_steps_all_is_accepted(tmp_path):
    out = tmp_path / "steps"
    assert (
        main(
            [
                "build",
                "--trajectories",
                str(FIXTURES / "swe_agent"),
                "--out",
                str(out),
                "--context-steps",
                "all",
            ]
        )
        == 0
    )
    dataset = load_from_disk(str(out))
    assert len(dataset[3]["prompt"]) == 2 + 2 * 3


def test_strict_stops_with_a_one_line_error(tmp_path, capsys):
    status = main(
        ["build", "--trajectories", str(FIXTURES / "bad"), "--out", str(tmp_path / "s"), "--strict"]
    )
    assert status == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error:") and "\n" not in error
    assert not (tmp_path / "s").exists()


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "steps"
    args = ["build", "--trajectories", str(FIXTURES / "swe_agent"), "--out", str(out)]
    assert main(args) == 0
    built = len(load_from_disk(str(out)))
    assert main(args) == 1
    assert "exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert len(load_from_disk(str(out))) == built == 4 + 4 + 3  # demo__calc-1, -2: five steps; -7: four


def test_the_module_runs_as_a_command(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "srl_swe.data",
            "build",
            "--trajectories",
            str(FIXTURES / "swe_gym_openhands.jsonl"),
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "step examples" in result.stdout


def test_commands_are_counted_by_first_word_and_editor_subcommand():
    assert command_name("str_replace_editor view /a") == "str_replace_editor view"
    assert command_name("cd /testbed && ls") == "cd"


# --- the selection (split, filters) and the validation split, on rows in SWE-smith's and SWE-Gym's shapes ---

MODEL = "claude-3-7-sonnet-20250219"
# SWE-smith instance ids (repo.commit.bug) and traj_id = "<instance_id>.<hash of the run folder>"
# (swesmith/train/traj_mgr/collect_trajs.py). The first instance has two runs; two runs are unresolved, one
# is another model's and one names its model with a provider prefix.
SMITH_RUNS = [
    ("getmoto__moto.694ce1f4.pr_5991", "8qa84d2e", True, MODEL),
    ("getmoto__moto.694ce1f4.pr_5991", "kfjw2x6n", True, MODEL),
    ("pandas-dev__pandas.95280573.pr_53652", "8qa84d2e", True, f"anthropic/{MODEL}"),
    ("pydantic__pydantic.acb0f10f.combine_file__4xkd0hgu", "8qa84d2e", True, "gpt-4o-2024-08-06"),
    ("python-hyper__h11.bed0dd4a.lm_rewrite__1xeg5iz6", "8qa84d2e", True, MODEL),
    ("marshmallow-code__marshmallow.9716fc62.func_pm_ctrl_invert_if__1a2nf1b8", "8qa84d2e", False, MODEL),
    ("tkrajina__gpxpy.09fc46b3.func_basic__0n6ulhqw", "8qa84d2e", False, MODEL),
]
RESOLVED_RUNS = 5


def _template() -> dict:
    return json.loads((FIXTURES / "swe_smith_ft.jsonl").read_text().splitlines()[0])


def _steps_per_run() -> int:
    return len(read(FIXTURES / "swe_smith_ft.jsonl")[0].steps) - 1


def smith_rows(messages_as_text: bool = False) -> list[dict]:
    template = _template()
    messages = json.dumps(template["messages"]) if messages_as_text else template["messages"]
    return [
        {
            "messages": messages,
            "instance_id": instance,
            "resolved": resolved,
            "model": model,
            "traj_id": f"{instance}.{run}",
            "patch": template["patch"].replace("\n", "\r\n"),  # noise: CRLF line ends, as some runs have
        }
        for instance, run, resolved, model in SMITH_RUNS
    ]


def write_smith_download(folder: Path) -> Path:
    """The dataset as `huggingface-cli download SWE-bench/SWE-smith-trajectories` lays it out: one Parquet
    file per split, each split holding the same runs."""
    (folder / "data").mkdir(parents=True)
    for split in ("tool", "xml", "ticks"):
        table = pa.Table.from_pylist(smith_rows(messages_as_text=True))
        pq.write_table(table, folder / "data" / f"{split}-00000-of-00001.parquet")
    return folder


def summary_rows(printed: str) -> dict[str, str]:
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in printed.splitlines() if "│" in line]
    return {row[0]: row[1] for row in cells if len(row) == 2}


def test_swe_smith_files_are_read_as_the_paper_did(tmp_path: Path):
    source = write_smith_download(tmp_path / "SWE-smith-trajectories")
    out = tmp_path / "steps"
    result = subprocess.run(
        [sys.executable, "-m", "srl_swe.data", "build", "--trajectories", str(source), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    summary = summary_rows(result.stdout)
    assert summary["split"] == "tool"
    assert summary["rows read"] == str(len(SMITH_RUNS))  # the tool split only
    assert summary["unresolved"] == "2"
    assert summary["run read already"] == "0"
    assert summary["trajectories read"] == str(RESOLVED_RUNS)
    assert len(load_from_disk(str(out))) == RESOLVED_RUNS * _steps_per_run()
    assert not (tmp_path / "steps-validation").exists()


def test_every_split_reads_each_run_once_whatever_worker_read_it(tmp_path: Path):
    source = write_smith_download(tmp_path / "smith")
    result = build(source, tmp_path / "steps", split="all", num_proc=2)
    assert result.split is None
    assert result.rows_seen == 3 * len(SMITH_RUNS)
    assert result.removed == {UNRESOLVED: 3 * 2, REPEATED_RUN: 2 * RESOLVED_RUNS}
    assert result.trajectories == RESOLVED_RUNS
    steps = load_from_disk(str(tmp_path / "steps"))
    assert len(steps) == RESOLVED_RUNS * _steps_per_run()
    assert len(set(steps["trajectory_id"])) == RESOLVED_RUNS


def test_a_saved_dataset_dict_with_swe_smiths_splits_reads_tool(tmp_path: Path):
    rows = Dataset.from_list(smith_rows(messages_as_text=True))
    DatasetDict({"tool": rows, "xml": rows, "ticks": rows}).save_to_disk(str(tmp_path / "saved"))
    result = build(tmp_path / "saved", tmp_path / "steps", num_proc=2)
    assert (result.split, result.rows_seen, result.trajectories) == ("tool", len(SMITH_RUNS), RESOLVED_RUNS)


def test_a_hub_id_reads_swe_smiths_tool_split_by_default(tmp_path: Path, monkeypatch):
    rows = Dataset.from_list(smith_rows(messages_as_text=True))
    loaded = []
    monkeypatch.setattr(datasets, "get_dataset_split_names", lambda path: ["tool", "xml", "ticks"])
    monkeypatch.setattr(
        datasets, "load_dataset", lambda path, split=None: loaded.append((path, split)) or rows
    )
    result = build("SWE-bench/SWE-smith-trajectories", tmp_path / "steps")
    assert loaded == [("SWE-bench/SWE-smith-trajectories", "tool")]
    assert result.trajectories == RESOLVED_RUNS


def test_a_hub_that_does_not_answer_is_one_line(tmp_path: Path, monkeypatch, capsys):
    def offline(path):
        raise ConnectionError(
            "Couldn't reach 'SWE-bench/SWE-smith-trajectories' on the Hub (LocalEntryNotFound)\n…"
        )

    monkeypatch.setattr(datasets, "get_dataset_split_names", offline)
    assert (
        main(["build", "--trajectories", "SWE-bench/SWE-smith-trajectories", "--out", str(tmp_path / "s")])
        == 1
    )
    error = capsys.readouterr().err.strip()
    assert "cannot list the splits of hub dataset SWE-bench/SWE-smith-trajectories" in error
    assert "\n" not in error


def test_keep_unresolved_model_and_id_list(tmp_path: Path, capsys, caplog):
    source = write_smith_download(tmp_path / "smith")
    args = ["build", "--trajectories", str(source), "--num-proc", "1"]
    assert main([*args, "--out", str(tmp_path / "all"), "--keep-unresolved"]) == 0
    assert len(set(load_from_disk(str(tmp_path / "all"))["trajectory_id"])) == len(SMITH_RUNS)
    assert main([*args, "--out", str(tmp_path / "claude"), "--model", MODEL]) == 0
    assert summary_rows(capsys.readouterr().out)["other model"] == "1"
    assert len(set(load_from_disk(str(tmp_path / "claude"))["instance_id"])) == 3
    ids = tmp_path / "ids.txt"
    ids.write_text(
        "# pinned subset\ngetmoto__moto.694ce1f4.pr_5991.kfjw2x6n\n"
        "python-hyper__h11.bed0dd4a.lm_rewrite__1xeg5iz6\ngone__gone.00000000.pr_1\n"
    )
    assert main([*args, "--out", str(tmp_path / "pinned"), "--ids", str(ids)]) == 0
    summary = summary_rows(capsys.readouterr().out)
    assert summary["id not listed"] == str(len(SMITH_RUNS) - 2)
    assert summary["listed ids matching no row"] == "1"
    assert "1 listed id(s) matched no row read: gone__gone.00000000.pr_1" in caplog.text
    pinned = load_from_disk(str(tmp_path / "pinned"))
    assert sorted(set(pinned["trajectory_id"])) == [
        "getmoto__moto.694ce1f4.pr_5991.kfjw2x6n",
        "python-hyper__h11.bed0dd4a.lm_rewrite__1xeg5iz6.8qa84d2e",
    ]


def test_swe_gym_runs_unresolved_or_repeated_are_dropped(tmp_path: Path):
    row = json.loads((FIXTURES / "swe_gym_openhands.jsonl").read_text().splitlines()[0])
    failed = {**row, "run_id": row["run_id"].replace("run_1", "run_2"), "resolved": False}
    rows = tmp_path / "train.raw.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in (row, failed, row)))
    result = build(rows, tmp_path / "steps")
    assert result.removed == {UNRESOLVED: 1, REPEATED_RUN: 1}
    assert result.trajectories == 1


def test_validation_holds_out_whole_instances_beside_the_training_steps(tmp_path: Path, capsys):
    source = write_smith_download(tmp_path / "smith")
    out = tmp_path / "steps"
    assert main(["build", "--trajectories", str(source), "--out", str(out), "--validation", "2"]) == 0
    assert summary_rows(capsys.readouterr().out)["validation trajectories"] == "2"
    train, held = load_from_disk(str(out)), load_from_disk(str(tmp_path / "steps-validation"))
    assert len(set(held["trajectory_id"])) == 2
    assert not set(train["instance_id"]) & set(held["instance_id"])
    assert len(train) + len(held) == RESOLVED_RUNS * _steps_per_run()
    again = build(source, tmp_path / "again", validation=2)
    assert again.validation.instances == set(held["instance_id"])  # the same seed, the same choice
    for path in (out, tmp_path / "steps-validation"):  # what `python -m srl_swe.train --steps_data` reads
        assert len(load_steps(TrainArguments(steps_data=str(path)), str(tmp_path / "train"))) > 0


def test_validation_by_fraction_and_overwrite_removes_a_stale_validation(tmp_path: Path, capsys):
    source = write_smith_download(tmp_path / "smith")
    out, held_out = tmp_path / "steps", tmp_path / "steps-validation"
    result = build(source, out, validation=0.4)
    assert result.validation.trajectories == 2 and result.validation_out == held_out
    args = ["build", "--trajectories", str(source), "--out", str(out)]
    assert main(args) == 1
    assert "exists" in capsys.readouterr().err
    shutil.rmtree(out)
    assert main(args) == 1  # the validation folder left beside it belongs to the build too
    assert main([*args, "--overwrite"]) == 0
    assert out.exists() and not held_out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smith", "steps"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--split", "train"], "--split train: no such split in"),
        (["--ids", "missing.txt"], "--ids missing.txt: cannot read the id list"),
        (["--validation", "7"], "holding out 7 of the 5 trajectories read leaves none to train on"),
    ],
)
def test_bad_selection_flags_are_one_line_errors(tmp_path: Path, capsys, flags, message):
    source = write_smith_download(tmp_path / "smith")
    assert main(["build", "--trajectories", str(source), "--out", str(tmp_path / "s"), *flags]) == 1
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("value", ["1.5", "-3", "ten"])
def test_validation_takes_a_count_or_a_fraction(tmp_path: Path, capsys, value):
    with pytest.raises(SystemExit):
        main(["build", "--trajectories", "x", "--out", str(tmp_path / "s"), "--validation", value])
    assert "give a count (30) or a fraction between 0 and 1 (0.05)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "root", "summary_row"),
    [
        ([], "/testbed", ("paths mapped to /testbed (trajectories)", "1")),
        (["--repo-root", "/repo/"], "/repo", ("/workspace/demo__calc__1.0 → /repo", "1")),
        (["--keep-source-paths"], "/workspace/demo__calc__1.0", ("paths", "kept as the sources have them")),
    ],
)
def test_paths_are_mapped_to_the_repo_root_or_kept(tmp_path, capsys, flags, root, summary_row):
    out = tmp_path / "steps"
    source = FIXTURES / "swe_gym_openhands.jsonl"
    assert main(["build", "--trajectories", str(source), "--out", str(out), *flags]) == 0
    summary = summary_rows(capsys.readouterr().out)
    assert summary[summary_row[0]] == summary_row[1]
    assert load_from_disk(str(out))["expert_action"][0] == f'grep -n "def add" -r {root}'


def test_a_relative_repo_root_is_refused(tmp_path, capsys):
    args = ["build", "--trajectories", str(FIXTURES), "--out", str(tmp_path / "s"), "--repo-root", "testbed"]
    with pytest.raises(SystemExit):
        main(args)
    assert "give an absolute directory" in capsys.readouterr().err


def many_smith_runs(path: Path, count: int) -> Path:
    """A SWE-smith JSONL file of ``count`` resolved runs, each of its own instance."""
    template = _template()
    rows = [
        {
            **template,
            "instance_id": f"getmoto__moto.694ce1f4.pr_{n}",
            "traj_id": f"getmoto__moto.694ce1f4.pr_{n}.8qa84d2e",
        }
        for n in range(count)
    ]
    path.write_text("".join(json.dumps({**row, "resolved": True, "model": MODEL}) + "\n" for row in rows))
    return path


def test_the_papers_validation_split_is_the_default_when_there_are_enough_trajectories(
    tmp_path: Path, capsys
):
    source = many_smith_runs(tmp_path / "train.jsonl", 300)
    assert main(["build", "--trajectories", str(source), "--out", str(tmp_path / "steps")]) == 0
    summary = summary_rows(capsys.readouterr().out)
    assert summary["validation"] == "default: 30"
    assert summary["validation trajectories"] == "30"
    assert len(set(load_from_disk(str(tmp_path / "steps-validation"))["instance_id"])) == 30

    assert (
        main(["build", "--trajectories", str(source), "--out", str(tmp_path / "all"), "--validation", "0"])
        == 0
    )
    assert summary_rows(capsys.readouterr().out)["validation"] == "off (--validation 0)"
    assert not (tmp_path / "all-validation").exists()


def test_a_small_build_holds_none_out_by_default_and_says_why(tmp_path: Path, capsys):
    source = many_smith_runs(tmp_path / "train.jsonl", 40)
    assert main(["build", "--trajectories", str(source), "--out", str(tmp_path / "steps")]) == 0
    printed = capsys.readouterr().out
    assert summary_rows(printed)["validation"] == "none: < 300 read"
    assert "validation by default: the paper's 30 trajectories from 300 read" in " ".join(printed.split())
    assert not (tmp_path / "steps-validation").exists()
