"""Each reader on fixtures in the real schemas; the same expert action reads the same from every format."""

import json
import shlex

import pytest
from datasets import Dataset, DatasetDict

from srl_swe.trajectories import ReadLog, read
from tests.srl_swe.scenario import EXPECTED_ACTIONS, FIXTURES

PROBLEM = "calc.add returns the wrong result\n\n`add(2, 3)` gives `-1`; it should give `5`."


def test_swe_agent_traj_reads_steps_ids_patch_and_issue():
    (trajectory,) = read(FIXTURES / "swe_agent" / "demo__calc-1.traj")
    assert trajectory.format == "swe-agent"
    assert trajectory.instance_id == "demo__calc-1"
    assert trajectory.problem_statement == PROBLEM
    assert trajectory.patch.startswith("diff --git a/calc/ops.py")
    assert [s.action for s in trajectory.steps] == EXPECTED_ACTIONS  # the blocked `vim` attempt left out
    assert trajectory.steps[0].observation == "/testbed/calc/ops.py:3:def add(a, b):"
    assert trajectory.steps[0].thought == "Let me find where add is defined."


def test_swe_agent_history_only_traj_reads_the_history_messages():
    (trajectory,) = read(FIXTURES / "swe_agent" / "demo__calc-2.traj")
    assert trajectory.instance_id == "demo__calc-2"  # from the file name: no replay_config
    assert trajectory.problem_statement == PROBLEM  # from the <pr_description> of the first user message
    assert [s.action for s in trajectory.steps] == EXPECTED_ACTIONS
    assert trajectory.steps[1].observation.startswith("Here's the result of running `cat -n`")


@pytest.mark.parametrize("style", ["tool", "xml", "ticks"])
def test_swe_smith_fine_tuning_rows_read_the_same_actions_in_every_style(style):
    trajectories = {t.trajectory_id: t for t in read(FIXTURES / "swe_smith_ft.jsonl")}
    trajectory = trajectories[f"demo__calc-1.{style}"]
    assert trajectory.format == "messages"
    assert [s.action for s in trajectory.steps] == EXPECTED_ACTIONS
    assert trajectory.steps[2].observation.startswith("The file /testbed/calc/ops.py has been edited.")
    assert trajectory.steps[2].thought == "The function subtracts; it should add."


def test_swe_gym_openhands_row_reads_as_the_environment_runs_it():
    log = ReadLog()
    (trajectory,) = read(FIXTURES / "swe_gym_openhands.jsonl", strict=True, log=log)
    assert [s.action for s in trajectory.steps] == EXPECTED_ACTIONS  # /workspace/demo__calc__1.0 → /testbed
    assert trajectory.source_root == "/workspace/demo__calc__1.0"
    assert trajectory.trajectory_id.startswith("demo__calc-1@gpt-4o")
    assert trajectory.problem_statement == PROBLEM.replace("\n", "\r\n")  # the issue as GitHub had it
    assert trajectory.patch.startswith("diff --git") and "\r" not in trajectory.patch
    # the echo, OpenHands' prompt and its exit-code line are gone; the exit code is kept apart
    grep, view, edit, tests, _ = trajectory.steps
    assert (grep.observation, grep.exit_code) == ("/testbed/calc/ops.py:3:def add(a, b):", 0)
    assert tests.observation.endswith("2 passed in 0.01s") and tests.exit_code == 0
    assert view.observation.startswith("Here's the result of running `cat -n` on /testbed/calc/ops.py")
    # the reply without a tool call, answered by OpenHands' nudge, is reasoning before the next action
    assert edit.thought == "The function subtracts; it should add.\n\nI'll replace the subtraction."
    assert not any("Please continue" in s.observation for s in trajectory.steps)
    assert log.skipped == []


def test_repo_root_none_keeps_the_sources_paths():
    (trajectory,) = read(FIXTURES / "swe_gym_openhands.jsonl", repo_root=None)
    assert trajectory.steps[0].action == 'grep -n "def add" -r /workspace/demo__calc__1.0'
    assert trajectory.steps[0].observation == "/workspace/demo__calc__1.0/calc/ops.py:3:def add(a, b):"


def test_later_openhands_rows_keep_think_tracker_and_keystrokes_out_of_the_actions():
    log = ReadLog()
    (trajectory,) = read(FIXTURES / "openhands_rebench.jsonl", strict=True, log=log)
    actions = [s.action for s in trajectory.steps]
    assert actions[0] == EXPECTED_ACTIONS[0] and actions[2:] == [EXPECTED_ACTIONS[2], "submit"]
    assert not any(a.startswith(("think", "task_tracker", "C-c")) for a in actions)
    grep, hanging, edit, _ = trajectory.steps
    assert grep.thought.endswith("Let me find where add is defined.")
    assert "The bug is probably an operator typo in calc/ops.py." in grep.thought  # the think call
    assert (grep.observation, grep.exit_code) == ("/testbed/calc/ops.py:3:def add(a, b):", 0)
    # C-c was typed into the hanging command: its output and exit code belong to that command's step
    assert hanging.observation.startswith("-1\n=====") and hanging.observation.endswith("^C")
    assert hanging.exit_code == 130
    assert edit.thought.endswith("The function subtracts; it should add.")
    assert sorted((s.kind, s.reason.split(":")[0]) for s in log.skipped) == [
        ("dropped", "not an environment command"),
        ("dropped", "text typed into a running process"),
    ]


def test_openhands_event_stream_reads_tool_calls_outputs_and_thoughts():
    log = ReadLog()
    (trajectory,) = read(FIXTURES / "openhands_events" / "demo__calc-1.json", strict=True, log=log)
    assert trajectory.format == "openhands"
    assert trajectory.instance_id == "demo__calc-1"  # from the file name: events name no instance
    assert trajectory.problem_statement == PROBLEM
    assert trajectory.source_root == "/workspace/demo__calc__1.0"
    assert [s.action for s in trajectory.steps] == EXPECTED_ACTIONS
    grep, view, edit, _, submit = trajectory.steps
    assert (
        grep.thought
        == "The bug is probably an operator typo in calc/ops.py.\n\nLet me find where add is defined."
    )
    assert (grep.observation, grep.exit_code) == ("/testbed/calc/ops.py:3:def add(a, b):", 0)
    assert view.observation.startswith("Here's the result of running `cat -n` on /testbed/calc/ops.py")
    assert edit.thought == "The function subtracts; it should add.\n\nI'll replace the subtraction."
    assert submit.thought == "The fix works; submitting."
    assert [(s.kind, s.reason) for s in log.skipped] == [
        ("dropped", "not an environment command: task_tracker")
    ]


def test_openhands_evaluation_output_row_reads_its_history(tmp_path):
    events = json.loads((FIXTURES / "openhands_events" / "demo__calc-1.json").read_text())
    row = {
        "instance_id": "demo__calc-1",
        "instruction": events[1]["args"]["content"],
        "instance": {"instance_id": "demo__calc-1", "problem_statement": PROBLEM},
        "test_result": {"git_patch": "diff --git a/calc/ops.py b/calc/ops.py\r\n"},
        "history": events,
        "metadata": {"agent_class": "CodeActAgent", "max_iterations": 50},
        "metrics": {"accumulated_cost": 0.1},
        "error": None,
    }
    (tmp_path / "output.jsonl").write_text(json.dumps(row) + "\n")
    (trajectory,) = read(tmp_path / "output.jsonl", strict=True)
    assert trajectory.format == "openhands"
    assert [s.action for s in trajectory.steps] == EXPECTED_ACTIONS
    assert trajectory.patch == "diff --git a/calc/ops.py b/calc/ops.py\n"


def test_mini_swe_agent_tool_call_trajectory_reads_extra_actions_and_raw_output():
    (trajectory,) = read(FIXTURES / "mini_swe_agent" / "demo__calc-1.traj.json")
    assert trajectory.format == "mini-swe-agent"
    assert trajectory.instance_id == "demo__calc-1"
    assert trajectory.problem_statement == PROBLEM
    assert trajectory.steps[0].action == EXPECTED_ACTIONS[0]
    # the raw output, without the FormatError message mini-swe-agent 2 appended after it
    assert trajectory.steps[0].observation == "/testbed/calc/ops.py:3:def add(a, b):"
    assert trajectory.steps[-1].action == "submit"  # echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && …


def test_mini_swe_agent_text_mode_reads_shell_blocks_and_skips_replies_mini_swe_agent_refused():
    (trajectory,) = read(FIXTURES / "mini_swe_agent" / "demo__calc-3.traj.json")
    assert trajectory.instance_id == "demo__calc-3"
    assert trajectory.steps[0].action == EXPECTED_ACTIONS[0]
    assert len(trajectory.steps) == 5  # replies with two ```bash blocks or only a ```python one ran nothing
    assert trajectory.steps[0].thought == "THOUGHT: Let me find where add is defined."


def test_mini_swe_agent_bare_message_list_is_one_trajectory():
    log = ReadLog()
    (trajectory,) = read(FIXTURES / "mini_swe_agent" / "demo__calc-4.traj.json", strict=True, log=log)
    assert (trajectory.format, trajectory.instance_id) == ("mini-swe-agent", "demo__calc-4")
    assert trajectory.problem_statement == PROBLEM
    assert [s.action for s in trajectory.steps] == [
        EXPECTED_ACTIONS[0],
        "sed -i 's/return a - b/return a + b/' /testbed/calc/ops.py",
        "submit",  # cd /testbed && echo MINI_SWE_AGENT_FINAL_OUTPUT && git diff
    ]
    assert [(s.kind, s.where.rsplit(" ", 2)[-2:]) for s in log.skipped] == [("dropped", ["message", "4"])]


def test_mini_swe_agent_xml_config_reads_its_tags_and_sentinel_submit():
    (trajectory,) = read(FIXTURES / "mini_swe_agent" / "demo__calc-5.traj.json", strict=True)
    assert [s.action for s in trajectory.steps] == [
        EXPECTED_ACTIONS[0],
        "sed -i 's/return a - b/return a + b/' /testbed/calc/ops.py",
        "submit",  # cd /testbed && git add -A && echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && …
    ]
    assert trajectory.steps[0].exit_code == 0
    assert "\r" not in trajectory.patch


def test_old_swe_agent_traj_drops_rejected_replies_and_maps_its_root():
    log = ReadLog()
    (trajectory,) = read(FIXTURES / "swe_agent" / "demo__calc-7.traj", strict=True, log=log)
    assert trajectory.instance_id == "demo__calc-7"
    assert trajectory.problem_statement == PROBLEM  # a github problem statement: the issue in the prompt
    assert trajectory.source_root == "/demo__calc"  # SWE-agent 0.x's "(Current directory: /demo__calc)"
    assert [s.action for s in trajectory.steps] == [
        EXPECTED_ACTIONS[0],
        "sed -i 's/return a - b/return a + b/' /testbed/calc/ops.py",
        EXPECTED_ACTIONS[3],
        "submit",
    ]  # the blocked `vim`, rejected and asked again for, left out
    assert [(s.kind, s.where.endswith("step 1")) for s in log.skipped] == [("dropped", True)]
    assert "\r" not in trajectory.patch


def test_swe_smith_ticks_action_is_the_last_block_and_keeps_fences_inside_it():
    (trajectory,) = read(FIXTURES / "swe_smith_ticks.jsonl", strict=True)
    grep, edit, create, submit = trajectory.steps
    assert grep.action == EXPECTED_ACTIONS[0]  # not the ```bash block quoted in the thought
    assert "```bash\npython -c" in grep.thought
    assert edit.action == EXPECTED_ACTIONS[2]
    assert shlex.split(create.action)[-1] == "# calc\n\n```python\nfrom calc.ops import add\nadd(2, 3)\n```\n"
    assert submit.action == "submit"


def test_folder_detects_every_format_by_itself():
    formats = sorted({t.format for t in read(FIXTURES)})
    assert formats == ["messages", "mini-swe-agent", "openhands", "swe-agent"]


def _rows() -> list[dict]:
    lines = (FIXTURES / "swe_smith_ft.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    for row in rows:
        row["messages"] = json.dumps(row["messages"])  # as a dataset column of JSON text
    return rows


def test_saved_hf_dataset_is_read_row_by_row(tmp_path):
    Dataset.from_list(_rows()).save_to_disk(str(tmp_path / "ds"))
    trajectories = read(tmp_path / "ds")
    assert len(trajectories) == 3
    assert all([s.action for s in t.steps] == EXPECTED_ACTIONS for t in trajectories)


def test_saved_dataset_dict_reads_one_split_when_asked(tmp_path):
    rows = _rows()
    DatasetDict({"tool": Dataset.from_list(rows[:1]), "xml": Dataset.from_list(rows[1:])}).save_to_disk(
        str(tmp_path / "dd")
    )
    assert len(read(tmp_path / "dd")) == 3
    (trajectory,) = read(tmp_path / "dd", split="tool")
    assert trajectory.trajectory_id == "demo__calc-1.tool"
