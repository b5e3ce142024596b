"""Building a demo repository's git history from its stored sources, with the same hashes on every machine,
and storing a history back as sources.

The sources hold the last commit's full tree and, for each earlier commit, the diff that turns the next
commit's tree into it (file deletions without their old content, which the later tree already holds).
Every input of a commit hash is fixed: the trees (files copied byte for byte, no executable bits), the
author and committer (name, email, date with its offset), the message, the branch, the object format;
the user's and the system's git configuration and any GIT_* variables of the caller are kept out.
That last point is why git runs here as a plain subprocess and not through GitPython (used elsewhere, e.g.
the local sandbox): GitPython always starts a command from this process's whole environment, so a caller's
GIT_DIR, GIT_AUTHOR_DATE or GIT_INDEX_FILE would reach git and change or misplace the commits.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from harness.demo.sources import HEAD_TREE, HISTORY, Commit, RepoSource, read_repo
from harness.errors import HarnessError

# Left behind when someone runs the tests inside a stored tree; never part of a commit.
_CACHES = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".benchmarks")
_GIT_OPTIONS = ("-c", "init.defaultBranch=main", "-c", "core.autocrlf=false", "-c", "commit.gpgsign=false")


def _git_date(iso_date: str) -> str:
    """Return git's raw date form, "<unix seconds> <+hhmm>", for an ISO 8601 date with an offset."""
    moment = datetime.fromisoformat(iso_date)
    if moment.tzinfo is None:
        raise HarnessError(f"commit date {iso_date!r} needs a UTC offset, e.g. 2024-01-14T10:21:09+01:00")
    return f"{int(moment.timestamp())} {moment.strftime('%z')}"


def _git_env(source: RepoSource | None = None, commit: Commit | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    if source is not None and commit is not None:
        date = _git_date(commit.date)
        env.update(
            GIT_AUTHOR_NAME=source.author_name,
            GIT_AUTHOR_EMAIL=source.author_email,
            GIT_AUTHOR_DATE=date,
            GIT_COMMITTER_NAME=source.author_name,
            GIT_COMMITTER_EMAIL=source.author_email,
            GIT_COMMITTER_DATE=date,
        )
    return env


def git_env_with(identity: dict[str, str]) -> dict[str, str]:
    """Return the isolated environment `git` runs in, with `identity` (GIT_AUTHOR_*, GIT_COMMITTER_*) set."""
    return {**_git_env(), **identity}


def git(workdir: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    """Run git with `args` in `workdir` (`stdin` as its input), isolated from the user's configuration;
    return its stdout."""
    result = subprocess.run(
        ["git", *_GIT_OPTIONS, *args],
        cwd=workdir,
        env=env or _git_env(),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise HarnessError(f"git {args[0]} failed in {workdir}: {detail}")
    return result.stdout


def _copy_tree(source: Path, dest: Path) -> None:
    ignored = shutil.ignore_patterns(".git", *_CACHES)
    shutil.copytree(source, dest, dirs_exist_ok=True, ignore=ignored, copy_function=shutil.copyfile)


def _deleted_path(section: str) -> str | None:
    """Return the path a diff section deletes without its old content (`git diff -D`), else None."""
    header, _, rest = section.partition("\n")
    if "\ndeleted file mode " not in f"\n{rest}" or "\n@@ " in f"\n{rest}":
        return None
    paths = header.removeprefix("diff --git a/")
    return paths[: (len(paths) - len(" b/")) // 2]


def _apply_to_index(workdir: Path, diff_path: Path) -> None:
    """Apply the stored reverse diff at `diff_path` to the index of the repository at `workdir`."""
    sections = re.split(r"^(?=diff --git )", diff_path.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    deleted = [path for path in map(_deleted_path, sections) if path is not None]
    changes = "".join(section for section in sections if _deleted_path(section) is None)
    try:
        if deleted:
            git(workdir, "rm", "--quiet", "--cached", "--", *deleted)
        if changes:
            git(workdir, "apply", "--cached", "-", stdin=changes)
    except HarnessError as error:
        raise HarnessError(f"{diff_path}: does not apply to the next commit's tree: {error}") from None


def _commit_trees(source: RepoSource, dest: Path) -> list[str]:
    """Return the tree ids of `source`'s commits, oldest first, built in the index of `dest`."""
    _copy_tree(source.head_tree, dest)
    git(dest, "add", "--all")
    trees = [git(dest, "write-tree").strip()]
    for commit in reversed(source.commits[:-1]):
        _apply_to_index(dest, commit.reverse_diff)
        trees.append(git(dest, "write-tree").strip())
    return trees[::-1]


def build_repo(repo: str, dest: Path) -> Path:
    """Create the git repository of demo `repo` at `dest` (absent or empty) with its fixed history.

    Returns `dest`; its branch `main` is checked out at the last commit, the instances' base commit.
    """
    source = read_repo(repo)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise HarnessError(f"cannot build demo repository {repo} at {dest}: the folder is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "--quiet", "--object-format=sha1")
    head = None
    for commit, tree in zip(source.commits, _commit_trees(source, dest), strict=True):
        parents = ("-p", head) if head else ()
        message = commit.message.rstrip("\n") + "\n"
        head = git(dest, "commit-tree", tree, *parents, env=_git_env(source, commit), stdin=message).strip()
    git(dest, "update-ref", "refs/heads/main", head)
    git(dest, "reset", "--quiet")
    return dest


def store_history(workdir: Path, repo_dir: Path, names: Sequence[str]) -> None:
    """Write the history of branch `main` at `workdir` (checked out clean) as demo sources into `repo_dir`.

    `names` names its commits, oldest first. Writes `tree/` (the last commit's files) and, for every
    earlier commit, `history/<name>.diff` turning the next commit's tree into its own.
    """
    hashes = git(workdir, "rev-list", "--reverse", "main").split()
    if len(hashes) != len(names):
        raise HarnessError(f"{workdir}: {len(hashes)} commits on main, {len(names)} names given")
    for folder in (repo_dir / HEAD_TREE, repo_dir / HISTORY):
        shutil.rmtree(folder, ignore_errors=True)
    _copy_tree(workdir, repo_dir / HEAD_TREE)
    (repo_dir / HISTORY).mkdir()
    for name, commit, following in zip(names[:-1], hashes[:-1], hashes[1:], strict=True):
        diff = git(
            workdir, "diff", "--no-ext-diff", "--find-renames", "--irreversible-delete", following, commit
        )
        (repo_dir / HISTORY / f"{name}.diff").write_text(diff, encoding="utf-8")


def head_commit(workdir: Path) -> str:
    """Return the full hash of HEAD in the repository at `workdir`."""
    return git(workdir, "rev-parse", "HEAD").strip()
