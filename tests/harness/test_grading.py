"""Grading on the real engine: gold resolves, empty and wrong patches do not, garbage does not apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import load_instances
from harness.grading import grade
from harness.images import ensure_images

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def demo_instances(docker_client):
    instances = load_instances("demo")
    ensure_images(instances)
    return instances


@pytest.fixture(scope="module")
def instance(demo_instances):
    return demo_instances[0]


def test_gold_patch_resolves_with_every_listed_test_accounted_for(instance, tmp_path: Path) -> None:
    result = grade(instance, instance.patch, log_dir=tmp_path)
    assert result.patch_applied and result.resolved, Path(result.log_path).read_text()[-3000:]
    status = result.report["tests_status"]
    assert sorted(status["FAIL_TO_PASS"]["success"]) == sorted(instance.FAIL_TO_PASS)
    assert sorted(status["PASS_TO_PASS"]["success"]) == sorted(instance.PASS_TO_PASS)
    assert not status["FAIL_TO_PASS"]["failure"] and not status["PASS_TO_PASS"]["failure"]
    assert (tmp_path / "patch.diff").read_text() == instance.patch
    assert set(result.timings) == {"container_start", "patch_apply", "tests"}


def test_empty_patch_leaves_fail_to_pass_failing(instance, tmp_path: Path) -> None:
    result = grade(instance, "", log_dir=tmp_path)
    assert result.patch_applied and not result.resolved
    status = result.report["tests_status"]
    assert sorted(status["FAIL_TO_PASS"]["failure"]) == sorted(instance.FAIL_TO_PASS)
    assert sorted(status["PASS_TO_PASS"]["success"]) == sorted(instance.PASS_TO_PASS)


def test_wrong_patch_applies_but_does_not_resolve(instance, tmp_path: Path) -> None:
    target = next(line[6:] for line in instance.patch.splitlines() if line.startswith("+++ b/"))
    wrong = (
        f"diff --git a/{target} b/{target}\n--- a/{target}\n+++ b/{target}\n@@ -1,0 +1,1 @@\n"
        "+# a comment changes nothing\n"
    )
    result = grade(instance, wrong, log_dir=tmp_path)
    assert result.patch_applied and not result.resolved


def test_patch_that_does_not_apply_is_reported_not_resolved(instance, tmp_path: Path) -> None:
    garbage = (
        "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n@@ -1,2 +1,2 @@\n-x\n-y\n+z\n+w\n"
    )
    result = grade(instance, garbage, log_dir=tmp_path)
    assert not result.patch_applied and not result.resolved
    assert result.error == "did not apply: error: nope.py: No such file or directory"
    assert result.diagnosis == {"verdict": result.error}  # the run report's diagnosis says it too
    assert ">>>>> Patch Apply Failed" in Path(result.log_path).read_text()


def test_without_log_dir_nothing_is_left_behind(instance, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    result = grade(instance, instance.patch)
    assert result.resolved and result.log_path is None
    assert not list(tmp_path.iterdir())
