"""A demo task as a SWE-smith task: an image in SWE-smith's layout and a row in the hub's shape, offline.

SWE-smith's image of a repository holds its clean commit (tests included) at /testbed with a `testbed`
conda env; a task is a bug diff on that commit. From a demo instance (the repository at a buggy base commit,
its gold fix and its test patch) the clean commit is the base commit with the fix and the tests applied, and
the bug diff is the reverse of the gold fix. The row carries the fields of SWE-smith's dataset, in its order:
`instance_id` (`<owner>__<repo>.<commit8>.<bug>`), `patch` (the bug diff), `FAIL_TO_PASS`, `PASS_TO_PASS`,
`image_name`, `repo` (`swesmith/<owner>__<repo>.<commit8>`) and `problem_statement`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from harness.demo.git_history import git, git_env_with, head_commit
from harness.image_names import swesmith_image
from harness.instances import TaskInstance

LAYOUT_NAMESPACE = "srl-swe-swesmith"
"""Namespace of the SWE-smith-layout images built here."""
CLEAN_COMMIT_ENV = {
    "GIT_AUTHOR_NAME": "swesmith",
    "GIT_AUTHOR_EMAIL": "swesmith@anon.com",
    "GIT_AUTHOR_DATE": "1700000000 +0000",
    "GIT_COMMITTER_NAME": "swesmith",
    "GIT_COMMITTER_EMAIL": "swesmith@anon.com",
    "GIT_COMMITTER_DATE": "1700000000 +0000",
}


def commit_clean_state(instance: TaskInstance, repo_dir: Path) -> str:
    """Commit the demo instance's gold fix and test patch on its base commit in `repo_dir`; return it."""
    git(repo_dir, "checkout", "--quiet", "--detach", instance.base_commit)
    for diff in (instance.patch, instance.test_patch):
        git(repo_dir, "apply", "--index", "-", stdin=diff)
    identity = git_env_with(CLEAN_COMMIT_ENV)
    git(repo_dir, "commit", "--quiet", "--no-verify", "-m", "Initial commit", env=identity)
    return head_commit(repo_dir)


def clean_commit_and_bug(instance: TaskInstance) -> tuple[str, str]:
    """Return the clean commit `commit_clean_state` makes for the demo instance and the bug diff on it (as
    `git diff` writes it: the gold fix undone), both made in a scratch folder."""
    from harness.demo import build_repo

    with tempfile.TemporaryDirectory(prefix="srl-swe-swesmith-") as scratch:
        repo_dir = build_repo(instance.repo, Path(scratch) / "repo")
        clean = commit_clean_state(instance, repo_dir)
        git(repo_dir, "apply", "--reverse", "-", stdin=instance.patch)
        return clean, git(repo_dir, "diff")


def swesmith_row(instance: TaskInstance, clean: str, bug: str, image: str | None = None) -> dict[str, Any]:
    """Return the demo instance as a row of SWE-smith's dataset: the bug diff `bug` on the clean commit."""
    owner, name = instance.repo.split("/", 1)
    mirror = f"{owner}__{name}.{clean[:8]}"
    instance_id = f"{mirror}.demo__{instance.instance_id.rsplit('-', 1)[-1]}"
    return {
        "instance_id": instance_id,
        "patch": bug,
        "FAIL_TO_PASS": list(instance.FAIL_TO_PASS),
        "PASS_TO_PASS": list(instance.PASS_TO_PASS),
        "image_name": image or swesmith_image(instance_id, namespace=LAYOUT_NAMESPACE),
        "repo": f"swesmith/{mirror}",
        "problem_statement": instance.problem_statement,
    }


def ensure_swesmith_layout(instance: TaskInstance) -> dict[str, Any]:
    """Build (unless present) the SWE-smith-layout image of a demo instance; return its SWE-smith row, whose
    `image_name` names that image."""
    from harness.images import build_demo_image, image_exists

    row = swesmith_row(instance, *clean_commit_and_bug(instance))
    if not image_exists(row["image_name"]):
        build_demo_image(
            instance.repo,
            instance.base_commit,
            row["image_name"],
            layout="swesmith",
            commit_on_top=lambda repo_dir: commit_clean_state(instance, repo_dir),
        )
    return row
