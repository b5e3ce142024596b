"""python -m envs: a person's prompt, driven here through stdin like a pipe (no terminal)."""

import subprocess
import sys

import pytest

from envs.interactive import action_is_complete

SCRIPT = (
    ":help\n:expert\n:next\n:sim\n:diff\n:next\n:diff\necho 'two\nlines'\n:submit\n:reset\n:replay\n:quit\n"
)


def test_the_prompt_runs_the_expert_shows_similarity_diff_and_test_results(instance) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "envs",
            "--task",
            "demo",
            "--instance-ids",
            instance.instance_id,
            "--no-color",
        ],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "expert step 0:" in out and "similarity 1.0000 to expert step 0" in out
    assert "two\nlines\n" in out and "(no change)" in out
    assert '+        return (0, int(identifier), "")' in out  # the diff after the expert's edit
    assert "resolved: True reward 1.0" in out and "FAIL_TO_PASS success: 3" in out
    assert "first divergence from the recording: none" in out
    assert out.count("resolved: True") == 2  # :submit, then :replay


def test_an_unknown_instance_is_one_line_on_stderr() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envs", "--task", "demo", "--instance-ids", "nope__nope-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("ls -la", True),
        ("echo 'open", False),
        ("echo 'open\nclosed'", True),
        ("ls \\", False),
        ("cat <<'EOF' > x\nhello", False),
        ("cat <<'EOF' > x\nhello\nEOF", True),
        ('python - <<EOF\nprint("it\'s")\nEOF', True),
    ],
)
def test_an_action_continues_while_quotes_or_here_docs_are_open(text, complete) -> None:
    assert action_is_complete(text) is complete


def test_the_outcome_says_why_a_patch_was_rejected_or_what_was_stripped() -> None:
    from rich.console import Console

    from envs.interactive import InteractiveSession

    console = Console(record=True, width=200, no_color=True)
    session = InteractiveSession(None, console)
    why = "the patch changes test infrastructure (conftest.py); with test_infra_changes='reject' ..."
    session._print_outcome(0.0, {"resolved": False, "grade": {"report": {}, "rejected": why}})
    session._print_outcome(
        1.0, {"resolved": True, "grade": {"report": {}, "stripped": [{"path": "pytest.ini"}]}}
    )
    out = console.export_text()
    assert "resolved: False reward 0.0" in out and "test infrastructure (conftest.py)" in out
    assert "stripped pytest.ini" in out
