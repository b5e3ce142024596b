"""Putting an instance's task state in place in a fresh sandbox, for instances whose image does not hold it.

A SWE-bench image holds the repository at the task's base commit; a SWE-smith image holds the repository's
clean commit, one image per repository, and each task's bug lives in a branch of SWE-smith's mirror named
after the instance: a "Bug Patch" commit (the bug, every test file present) and on top of it a "Remove F2P
Tests" commit (the FAIL_TO_PASS test files deleted). SWE-smith's harness fetches that branch; here the same
two commits are made offline from the image's clean commit and the row's bug diff, with a fixed author,
committer and date, so their hashes depend only on the image and the row:
- an episode starts at the branch's head (bug in place, FAIL_TO_PASS test files absent), as SWE-smith's
  agents do, in a repository holding that tree as its only commit: SWE-smith's branch keeps the clean
  commit and the bug commit in its history, and `git diff HEAD~1 HEAD~2` there is the fix. Its patch is
  taken against that commit and a warm reset returns to it;
- grading starts at the bug commit (`<branch>~1`, every test file present), as SWE-smith's evaluation does;
  the eval script restores the test files from it after the candidate patch.
"""

from __future__ import annotations

import shlex

from harness import swesmith_log_parsers, swesmith_profiles
from harness.errors import SandboxPreparationError
from harness.instances import TaskInstance
from harness.sandbox.base import Sandbox

BUG_DIFF_PATH = "/tmp/srl_swe_bug.diff"
COMMIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "swesmith",
    "GIT_AUTHOR_EMAIL": "swesmith@swesmith.ai",
    "GIT_COMMITTER_NAME": "swesmith",
    "GIT_COMMITTER_EMAIL": "swesmith@swesmith.ai",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+0000",
}
"""Who made the two commits and when: fixed, so that the same image and row give the same hashes."""
_FAILED = "__SRL_SWE_PREPARATION_FAILED__"
_PREPARE_TIMEOUT_S = 300.0


def needs_preparation(instance: TaskInstance) -> bool:
    """Return True when the instance's image does not hold its task state (SWE-smith rows: a bug diff)."""
    return "bug_patch" in instance.extra


def prepare_sandbox(
    sandbox: Sandbox, instance: TaskInstance, *, for_grading: bool, repo_root: str = "/testbed"
) -> str | None:
    """Put the instance's task state in place in `sandbox`; return the commit an episode starts from.

    For a SWE-smith instance: commit the bug diff on the image's clean commit ("Bug Patch"), commit the
    removal of the FAIL_TO_PASS test files on top ("Remove F2P Tests") and point the branch named after
    the instance at it; then check out the bug commit (`for_grading=True`), or (`for_grading=False`) make the
    repository anew with the branch's tree as its one commit on that branch, so that no clean code is left
    in it. The bug diff is removed from the sandbox.
    SWE-smith's log parsers are registered with swebench's, which read the sandbox's tests. Returns the
    commit checked out; None (and nothing done) for an instance whose image holds its state. Raises
    SandboxPreparationError in one line naming the instance, the image and what did not match.
    """
    if not needs_preparation(instance):
        return None
    swesmith_log_parsers.register()  # the sandbox's tests are read with SWE-smith's parsers
    bug = instance.extra["bug_patch"]
    sandbox.write_file(BUG_DIFF_PATH, bug if bug.endswith("\n") else bug + "\n")
    result = sandbox.run(
        _swesmith_script(instance, for_grading, repo_root), timeout_s=_PREPARE_TIMEOUT_S, workdir="/"
    )
    lines = result.output.strip().splitlines()
    failed = next((line for line in lines if line.startswith(_FAILED)), None)
    if failed is not None or result.exit_code != 0 or not lines:
        reason = failed.removeprefix(_FAILED).strip() if failed else (lines or ["no output"])[-1]
        raise SandboxPreparationError(
            f"instance {instance.instance_id}: image {instance.image} does not match the row: {reason[:300]}"
        )
    return lines[-1].strip()


def _swesmith_script(instance: TaskInstance, for_grading: bool, repo_root: str) -> str:
    """Return the bash that makes the instance's branch from the image's clean commit and checks it out."""
    branch = shlex.quote(instance.instance_id)
    profile = swesmith_profiles.profile_for(instance.instance_id)
    removed = swesmith_profiles.files_of_tests(profile, instance.FAIL_TO_PASS)
    git = "git -c core.hooksPath=/dev/null -c commit.gpgsign=false"
    identity = " ".join(f"{name}={shlex.quote(value)}" for name, value in COMMIT_IDENTITY.items())
    fail = f"echo {_FAILED}"
    if for_grading:
        checkout = [f"git checkout -q --detach {branch}~1 -- || exit 1"]
    else:  # the branch's tree as the only commit of a repository made anew (config and excludes kept)
        checkout = [
            f"git checkout -q {branch} -- || exit 1",
            'old=$(mktemp -d) && mv .git "$old/" && git init -q || exit 1',
            'cp "$old/.git/config" .git/config && cp -r "$old/.git/info" .git/ 2>/dev/null; :',
            'git --git-dir="$old/.git" ls-files -z | xargs -0 -r git add -f -- || exit 1',
            f"{git} commit -q --no-verify --allow-empty -m {branch} && git branch -M {branch} || exit 1",
            'rm -rf "$old"',
        ]
    return "\n".join(
        [
            f"cd {shlex.quote(repo_root)} || {{ {fail} no git repository at {repo_root}; exit 1; }}",
            f"export {identity}",
            "clean=$(git rev-parse --verify -q HEAD) || { " + fail + " the image has no commit; exit 1; }",
            'if [ -n "$(git status --porcelain --untracked-files=no)" ]; then '
            + fail
            + " the clean commit $clean has changed files: $(git status --porcelain --untracked-files=no "
            "| head -3 | tr '\\n' ' '); exit 1; fi",
            f'why=$(git apply --check {BUG_DIFF_PATH} 2>&1) || {{ {fail} "the bug diff does not apply to the '
            'image\'s clean commit ${clean:0:12}: $(echo "$why" | head -1)"; exit 1; }',
            "git checkout -q --detach",
            f"git apply --index {BUG_DIFF_PATH} || exit 1",
            f"{git} commit -q --no-verify -m 'Bug Patch' || exit 1",
            f"{git} rm -q -r --ignore-unmatch -- {' '.join(shlex.quote(p) for p in removed)} >/dev/null"
            if removed
            else ":",
            f"{git} commit -q --no-verify --allow-empty -m 'Remove F2P Tests' || exit 1",
            f"git branch -f {branch} HEAD || exit 1",
            *checkout,
            f"rm -f {BUG_DIFF_PATH}",
            "git rev-parse HEAD",
        ]
    )
