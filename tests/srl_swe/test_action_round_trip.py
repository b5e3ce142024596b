"""Tool calls render to one action string that shell-splits back to the same arguments."""

import random
import shlex

import pytest

from srl_swe.trajectories import normalize_action, parse_editor_command, render_tool_call
from srl_swe.trajectories.actions import (
    ACTION,
    INPUT,
    OTHER,
    THOUGHT,
    Move,
    ToolCall,
    call_from_text,
    move_of,
)

ALPHABET = "ab \n\t'\"$`\\*;|&()<>#~!{}[]-=é中"


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))


def test_editor_calls_shell_split_back_to_their_arguments():
    rng = random.Random(7)
    for _ in range(500):
        arguments = {
            "command": "str_replace",
            "path": "/testbed/" + _random_text(rng),
            "old_str": _random_text(rng),
            "new_str": _random_text(rng),
        }
        action = render_tool_call("str_replace_editor", arguments)
        tokens = shlex.split(action)
        assert tokens == [
            "str_replace_editor",
            "str_replace",
            arguments["path"],
            "--old_str",
            arguments["old_str"],
            "--new_str",
            arguments["new_str"],
        ]
        assert parse_editor_command(action) == arguments
        assert normalize_action(action) == action


@pytest.mark.parametrize(
    "arguments",
    [
        {"command": "view", "path": "/testbed/a.py", "view_range": [3, -1]},
        {"command": "create", "path": "/testbed/new.py", "file_text": "print('hi')\n"},
        {"command": "insert", "path": "/testbed/a.py", "insert_line": 4, "new_str": "x = 1"},
        {"command": "undo_edit", "path": "/testbed/a.py"},
    ],
)
def test_every_editor_command_round_trips(arguments):
    action = render_tool_call("str_replace_editor", arguments)
    parsed = parse_editor_command(action)
    assert parsed == {k: (str(v) if k == "insert_line" else v) for k, v in arguments.items()}


def test_swe_agent_rendering_with_runs_of_spaces_normalizes_to_the_tool_call_rendering():
    swe_agent = "str_replace_editor str_replace /testbed/a.py   --old_str 'a = 1' --new_str 'a = 2'"
    from_tool_call = render_tool_call(
        "str_replace_editor",
        {"command": "str_replace", "path": "/testbed/a.py", "old_str": "a = 1", "new_str": "a = 2"},
    )
    assert normalize_action(swe_agent) == from_tool_call


def test_bash_and_submit_tools_render_as_the_env_runs_them():
    assert render_tool_call("bash", '{"command": "ls -la\\n"}') == "ls -la"
    assert render_tool_call("execute_bash", {"command": "cat a | wc -l"}) == "cat a | wc -l"
    assert render_tool_call("finish", {"message": "done"}) == "submit"
    assert render_tool_call("submit", None) == "submit"


def test_text_actions_come_from_xml_functions_or_fenced_blocks():
    xml = (
        "Look.\n<function=str_replace_editor>\n<parameter=command>view</parameter>\n"
        "<parameter=path>/t/a.py</parameter>\n</function>"
    )
    assert call_from_text(xml) == (
        "Look.",
        ToolCall("str_replace_editor", {"command": "view", "path": "/t/a.py"}),
    )
    assert call_from_text("just words") is None
    assert call_from_text("```bash\nls\n```\n```bash\npwd\n```", mini_swe_agent=True) is None  # two blocks


def test_swe_agent_takes_the_last_fenced_block_whatever_its_tag():
    ticks = (
        "Quoted: ```bash``` no.\n\n```bash\nls -a\n```\n\n"
        "Run it.\n\n```python\nprint(1)\n```\n\n```\npython a.py\n```"
    )
    thought, call = call_from_text(ticks)
    assert call == ToolCall("bash", {"command": "python a.py\n"})
    assert "ls -a" in thought and "print(1)" in thought
    assert call_from_text("Fix.\n\n```python\nx = 1\n```")[1].arguments == {"command": "x = 1\n"}


def test_a_fence_inside_an_argument_stays_part_of_the_action():
    command = "cat > /testbed/README.md <<'EOF'\n# Use\n```python\nimport calc\n```\nEOF"
    reply = f"Write the readme.\n\n```\n{command}\n```"
    assert call_from_text(reply) == ("Write the readme.", ToolCall("bash", {"command": command + "\n"}))


def test_mini_swe_agent_reads_exactly_one_of_its_action_blocks():
    assert call_from_text("THOUGHT: x\n\n```bash\nls\n```", mini_swe_agent=True)[1].arguments == {
        "command": "ls"
    }
    tagged = "THOUGHT: x\n<mswea_bash_command>cd /testbed && ls</mswea_bash_command>"
    assert call_from_text(tagged, mini_swe_agent=True) == (
        "THOUGHT: x",
        ToolCall("bash", {"command": "cd /testbed && ls"}),
    )
    fenced = "Run.\n```mswea_bash_command\npwd\n```\n```python\nprint()\n```"
    assert call_from_text(fenced, mini_swe_agent=True)[1].arguments == {"command": "pwd"}
    assert call_from_text("Run.\n```python\nprint(1)\n```", mini_swe_agent=True) is None


@pytest.mark.parametrize(
    "command",
    [
        "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached",
        "cd /testbed && echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT",
        "cd /testbed && git add -A && echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT; git diff --cached",
        "printf 'COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\\n'",
        "echo MINI_SWE_AGENT_FINAL_OUTPUT",
    ],
)
def test_a_command_that_prints_the_sentinel_first_is_a_submit(command):
    assert normalize_action(command) == "submit"


@pytest.mark.parametrize(
    "command",
    [
        "git status && echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT",
        "grep -r COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT .",
    ],
)
def test_a_command_that_prints_something_else_first_is_no_submit(command):
    assert normalize_action(command) == command


def test_openhands_calls_that_are_no_environment_command_are_no_action():
    assert move_of(ToolCall("think", {"thought": " Why? "})) == Move(THOUGHT, "Why?", "", "think")
    assert move_of(ToolCall("execute_bash", {"command": "C-c", "is_input": "true"}, "c1")) == Move(
        INPUT, "C-c", "c1", "execute_bash"
    )
    assert move_of(ToolCall("task_tracker", {"command": "plan", "task_list": []})).kind == OTHER
    assert move_of(ToolCall("execute_bash", {"command": "ls", "is_input": "false"})).kind == ACTION
