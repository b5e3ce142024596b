"""Replaying a SWE-agent trajectory's editor steps in SWEEnv gives back the recorded observations, exactly.

The fixture is a SWE-agent `.traj` (function-calling layout: `trajectory` steps with `action` and
`observation`, `history` with the tool calls) on the demo instance semverkit-8, whose observations were
printed by SWE-agent's own `tools/edit_anthropic` editor in that instance's container: every command, the
`cat -n` views, snippets and the error messages, then a bash step (`git diff`) that checks the files the
edits left behind.
"""

import json
import shlex
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "swe_agent" / "srl-demo__semverkit-8.traj"
EDITOR = "str_replace_editor"


def recorded_steps() -> list[dict]:
    """Returns the `trajectory` entries of the fixture."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["trajectory"]


def test_fixture_exercises_every_editor_command_and_its_errors() -> None:
    steps = recorded_steps()
    editor_steps = [step for step in steps if step["action"].startswith(EDITOR + " ")]
    commands = {shlex.split(step["action"])[1] for step in editor_steps}
    assert commands == {"view", "create", "str_replace", "insert", "undo_edit"}
    observations = "\n".join(step["observation"] for step in editor_steps)
    for message in (
        "Here's the files and directories up to 2 levels deep in",
        "Here's the result of running `cat -n` on a snippet of /testbed/semverkit/version.py:",
        "Here's the result of running `cat -n` on a snippet of the edited file:",
        "did not appear verbatim in",
        "Multiple occurrences of old_str",
        "File already exists at:",
        "is not an absolute path",
        "does not exist. Please provide a valid path.",
        "The `view_range` parameter is not allowed",
        "Its second element `400` should be smaller than the number of lines",
        "Invalid `insert_line` parameter",
        "is the same as new_str",
        "No edit history found for",
    ):
        assert message in observations, message


def test_replaying_the_editor_steps_reproduces_the_recorded_observations(make_env) -> None:
    env = make_env()
    env.reset()
    for index, step in enumerate(recorded_steps()):
        observation, *_ = env.step(step["action"])
        assert observation == step["observation"], f"step {index}: {step['action'][:80]}"
