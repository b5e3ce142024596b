"""python -m envs: a person's prompt, driven here through stdin like a pipe (no terminal)."""

import subprocess
import sys
from pathlib import Path

import pytest

from envs.interactive import action_is_complete

SCRIPT = (
    ":help\n:next\n:expert\n:sim\n:diff\n:expert\n:diff\necho 'two\nlines'\n:submit\n:reset\n:replay\n:quit\n"
)
DEMO_INSTANCES = Path(__file__).resolve().parents[2] / "harness" / "demo" / "instances.jsonl"


def _repl(instance_id: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envs", "--task", "demo", "--instance-ids", instance_id, "--no-color"],
        input=script,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_prompt_runs_the_expert_shows_similarity_diff_and_test_results(instance) -> None:
    result = _repl(instance.instance_id, SCRIPT)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "expert step 0:" in out and "similarity 1.0000 to expert step 0" in out
    assert "the expert cursor moves only with :expert" in out  # :help explains the cursor
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


def test_typed_actions_leave_the_expert_cursor_and_expert_runs_its_step(instance) -> None:
    exploring = "ls\npwd\ngit status\necho hi\nls -a\n"
    result = _repl(instance.instance_id, f"{exploring}:next\n:next\n:expert\n:next\n:sim\n:quit\n")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "the expert has no more steps" not in out
    # five typed commands later :next still shows step 0, twice (showing does not move it); :expert runs
    # step 0 and moves the cursor, so :next then shows step 1
    shown = [line.removeprefix("swe> ")[:16] for line in out.splitlines() if "> expert step " in line]
    assert shown == ["expert step 0:"] * 2 + ["expert step 0: $"] + ["expert step 1:"], out
    assert "similarity 1.0000 to expert step 0" in out  # :sim compares the expert's own step with itself


def test_several_instances_without_instance_ids_name_the_cli_flag(tmp_path: Path) -> None:
    rows = tmp_path / "two.jsonl"
    rows.write_text("".join(DEMO_INSTANCES.read_text().splitlines(keepends=True)[:2]))
    result = subprocess.run(
        [sys.executable, "-m", "envs", "--path", str(rows)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: --path {rows} has 2 instances: pass --instance-ids ID")
    assert "instance_id=" not in result.stderr
