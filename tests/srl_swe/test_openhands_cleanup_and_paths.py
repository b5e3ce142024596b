"""OpenHands' bash output as the command printed it; repository roots rewritten on whole path components."""

import pytest

from srl_swe.trajectories import Step, Trajectory, with_repo_root
from srl_swe.trajectories.openhands import clean_bash_output, is_nudge
from srl_swe.trajectories.paths import source_root_of

WS = "/workspace/django__django__4.2"


def test_first_runtime_output_loses_echo_prompt_and_exit_line():
    raw = (
        f"ls {WS}\r\nAUTHORS\t\t  INSTALL\r\nDjango.egg-info   tox.ini"
        f"[Python Interpreter: /opt/miniconda3/envs/testbed/bin/python]\nroot@openhands-workspace:{WS} # \n"
        "[Command finished with exit code 2]"
    )
    assert clean_bash_output(raw, f"ls {WS}") == ("AUTHORS\t\t  INSTALL\nDjango.egg-info   tox.ini", 2)


def test_a_command_that_printed_nothing_leaves_nothing():
    raw = f"find {WS} -name x[Python Interpreter: /usr/bin/python]\nroot@openhands-workspace:{WS} # \n"
    assert clean_bash_output(raw + "[Command finished with exit code 0]", f"find {WS} -name x") == ("", 0)


def test_later_runtime_status_lines_are_removed():
    raw = (
        "ok\n\n[The command completed with exit code 130. CTRL+C was sent.]\n"
        f"[Current working directory: {WS}]\n[Python interpreter: /usr/bin/python]\n"
        "[Command finished with exit code 130]"
    )
    assert clean_bash_output(raw, "C-c") == ("ok", 130)


def test_a_multi_line_echo_is_removed_only_when_it_is_the_command():
    command = "python - <<'EOF'\nprint(1)\nEOF"
    assert clean_bash_output(f"{command}\n1", command) == ("1", None)
    assert clean_bash_output("python - <<'EOF'\n> print(1)\n> EOF\n1", command) == ("1", None)
    assert clean_bash_output("1\n2", "seq 2") == ("1\n2", None)


def test_nudges_are_recognised_in_their_variants():
    assert is_nudge("Please continue working on the task on whatever approach you think is suitable.\nIf …")
    assert is_nudge("Please continue on whatever approach you think is suitable.\n")
    assert not is_nudge("Please continue with the next file.")


@pytest.mark.parametrize(
    ("prompt", "root"),
    [
        (f"<uploaded_files>\n{WS}\n</uploaded_files>\nI've uploaded", WS),
        ("<uploaded_files>\n/testbed/\n</uploaded_files>", "/testbed"),
        ("ISSUE:\n…\n(Open file: n/a)\n(Current directory: /django__django)\nbash-$", "/django__django"),
        ("Fix the bug.", None),
    ],
)
def test_the_source_root_is_the_one_the_task_prompt_names(prompt, root):
    assert source_root_of(prompt) == root


def _trajectory(text: str) -> Trajectory:
    return Trajectory("i", "p", [Step(text, text, text)], None, "s", "messages", source_root=WS)


@pytest.mark.parametrize(
    ("text", "mapped"),
    [
        (f"cd {WS} && ls {WS}/a.py", "cd /testbed && ls /testbed/a.py"),
        (f"The repo is in {WS}.", "The repo is in /testbed."),
        (f"'{WS}/x y.py'", "'/testbed/x y.py'"),
        (f"{WS}b/a.py {WS}.bak /data{WS}", f"{WS}b/a.py {WS}.bak /data{WS}"),  # other paths
    ],
)
def test_the_root_is_rewritten_on_whole_path_components_only(text, mapped):
    (step,) = with_repo_root(_trajectory(text), "/testbed").steps
    assert step == Step(mapped, mapped, mapped)


def test_no_root_or_the_same_root_leaves_the_trajectory_as_it_is():
    trajectory = _trajectory(f"ls {WS}")
    assert with_repo_root(trajectory, None) is trajectory
    assert with_repo_root(trajectory, WS) is trajectory
