"""A SWE-smith task on an image in SWE-smith's layout (the repository's clean commit, tests included, at
/testbed with a conda-style `testbed` env), built offline from a demo repository, with a row in the hub's
shape: it loads, passes the image check, and grades as SWE-smith grades it (the bug put in place first, the
test files restored after the candidate). An image the bug diff does not fit is named in one line."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness import TaskInstance, load_instances
from harness.demo.swesmith_layout import clean_commit_and_bug, ensure_swesmith_layout, swesmith_row
from harness.errors import SandboxPreparationError
from harness.grading import grade
from harness.image_names import swesmith_image_for_host
from harness.images import ensure_swebench_layout_images

pytestmark = pytest.mark.docker
FIXTURE = Path(__file__).parent / "fixtures" / "swe_smith_demo.jsonl"
DEMO = "srl-demo__timespan-3"


@pytest.fixture(scope="module")
def demo() -> TaskInstance:
    """Returns the demo instance the SWE-smith task is made from."""
    return load_instances("demo", instance_ids=[DEMO])[0]


@pytest.fixture(scope="module")
def rows(demo: TaskInstance, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Returns rows.jsonl, the fixture row as SWE-smith's dataset has it, its image built offline."""
    built = ensure_swesmith_layout(demo)
    folder = tmp_path_factory.mktemp("swesmith")
    (folder / "rows.jsonl").write_text(FIXTURE.read_text())
    assert swesmith_image_for_host(json.loads(FIXTURE.read_text())["image_name"]) == built["image_name"]
    return folder / "rows.jsonl"


@pytest.fixture(scope="module")
def instance(rows: Path) -> TaskInstance:
    """Returns the SWE-smith instance loaded from the fixture row."""
    return load_instances("swe-smith", rows)[0]


def test_the_fixture_is_the_row_the_demo_makes_in_the_hub_shape(demo: TaskInstance) -> None:
    row = json.loads(FIXTURE.read_text())
    assert list(row) == [
        "instance_id",
        "patch",
        "FAIL_TO_PASS",
        "PASS_TO_PASS",
        "image_name",
        "repo",
        "problem_statement",
    ]
    assert row == swesmith_row(demo, *clean_commit_and_bug(demo), image=row["image_name"])


def test_gold_resolves_and_nothing_else_does(instance: TaskInstance) -> None:
    assert grade(instance, instance.patch, timeout_s=300).resolved

    empty = grade(instance, "", timeout_s=300)
    assert not empty.resolved and empty.patch_applied  # the bug is in place: its tests fail
    assert set(empty.report["tests_status"]["FAIL_TO_PASS"]["failure"]) == set(instance.FAIL_TO_PASS)

    assert not grade(instance, instance.extra["bug_patch"], timeout_s=300).resolved
    assert not grade(instance, _wrong_fix(instance), timeout_s=300).resolved


def test_patches_that_replace_the_failing_tests_do_not_resolve(
    instance: TaskInstance, demo: TaskInstance
) -> None:
    names = dict.fromkeys(test.split("::")[1].split("[")[0] for test in instance.FAIL_TO_PASS)
    stand_ins = "".join(f"def {name}():\n    pass\n\n\n" for name in names)  # every F2P id passes
    lines = stand_ins.splitlines()
    recreated = (  # what an episode's diff holds: the file is absent there, as SWE-smith's agents see it
        "diff --git a/tests/test_format.py b/tests/test_format.py\nnew file mode 100644\n"
        f"--- /dev/null\n+++ b/tests/test_format.py\n@@ -0,0 +1,{len(lines)} @@\n"
        + "".join(f"+{line}\n" for line in lines)
    )
    assert not grade(instance, recreated, timeout_s=300).resolved

    rewritten = _rewrite_on_the_bug_commit(demo, "tests/test_format.py", stand_ins)  # applies: then restored
    result = grade(instance, rewritten, timeout_s=300)
    assert result.patch_applied and not result.resolved


def test_the_image_check_passes_on_the_swesmith_image(rows: Path, instance: TaskInstance) -> None:
    image_map = rows.parent / "images.yaml"
    image_map.write_text(f"{instance.instance_id}: {instance.image}\n")
    done = _check(rows, image_map)
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if instance.instance_id[:20] in line)
    assert line.count("✓") == 5 and "✗" not in line


def test_the_image_check_names_an_image_the_bug_diff_does_not_fit(
    rows: Path, instance: TaskInstance, demo: TaskInstance
) -> None:
    other = ensure_swebench_layout_images([demo])[DEMO]  # the repository with the bug already in it
    image_map = rows.parent / "other.yaml"
    image_map.write_text(f"{instance.instance_id}: {other}\n")
    done = _check(rows, image_map)
    assert done.returncode == 1
    complaint = " ".join(done.stdout.split())
    assert (
        f"{instance.instance_id} ({other}): HEAD=base: instance {instance.instance_id}: image {other}"
        in complaint
    )
    assert "does not match the row: the bug diff does not apply to the image's clean commit" in complaint


def _check(rows: Path, image_map: Path) -> subprocess.CompletedProcess[str]:
    command = ["-m", "harness.images", "check", "--task", "swe-smith", "--path", str(rows)]
    return subprocess.run(
        [sys.executable, *command, "--image-map", str(image_map), "--no-pull"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "400"},
    )


def _wrong_fix(instance: TaskInstance) -> str:
    """Returns a patch on the buggy line that keeps negative durations wrong (abs() on the days only)."""
    return instance.patch.replace("divmod(abs(whole), 86400)", "divmod(whole, 86400 if whole > 0 else 1)")


def _rewrite_on_the_bug_commit(demo: TaskInstance, path: str, text: str) -> str:
    """Returns the diff that replaces `path` by `text` on the clean (and bug) commit's tree."""
    from harness.demo import build_repo
    from harness.demo.git_history import git
    from harness.demo.swesmith_layout import commit_clean_state

    with tempfile.TemporaryDirectory() as scratch:
        repo_dir = build_repo(demo.repo, Path(scratch) / "repo")
        commit_clean_state(demo, repo_dir)
        (repo_dir / path).write_text(text)
        return git(repo_dir, "diff")


def test_grading_on_an_image_the_bug_diff_does_not_fit_stops_in_one_line(
    instance: TaskInstance, demo: TaskInstance
) -> None:
    other = ensure_swebench_layout_images([demo])[DEMO]
    with pytest.raises(SandboxPreparationError) as raised:
        grade(dataclasses.replace(instance, image=other), instance.patch, timeout_s=300)
    message = str(raised.value)
    assert "\n" not in message and instance.instance_id in message and other in message
    assert "the bug diff does not apply to the image's clean commit" in message
