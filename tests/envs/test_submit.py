"""submit: stages every change and prints the patch between marker lines the environment recognises."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from envs.tools import (
    BASE_COMMIT_ENV,
    EMPTY_SUBMISSION,
    INSTALL_DIR,
    PATCH_FILE,
    REPO_ROOT_ENV,
    STATE_DIR_ENV,
    SUBMIT_MARKER,
    TOOLS_DIR,
    parse_submission,
    tool_env,
)
from tests.envs.test_str_replace_editor import BASE_IMAGE, docker_image_present, install_tools

GIT_IDENTITY = ["-c", "user.name=srl", "-c", "user.email=srl@example.invalid"]


def git(repo: Path, *arguments: str) -> str:
    """Runs git in `repo` and returns its stdout."""
    return subprocess.run(
        ["git", *GIT_IDENTITY, *arguments], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit holding a.py."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    (path / "a.py").write_text("x = 1\n")
    git(path, "add", "a.py")
    git(path, "commit", "-q", "-m", "base")
    return path


def submit(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Runs the `submit` action through bash with the tools on PATH and `env` added."""
    full_env = {
        **os.environ,
        "PATH": f"{TOOLS_DIR}{os.pathsep}{os.environ['PATH']}",
        STATE_DIR_ENV: str(tmp_path / "state"),
        **env,
    }
    return subprocess.run(["bash", "-c", "submit"], env=full_env, capture_output=True, text=True)


def test_submit_prints_the_diff_of_all_changes_between_markers(repo: Path, tmp_path: Path) -> None:
    (repo / "a.py").write_text("x = 2\n")
    (repo / "new.py").write_text("y = 'ü'\n")
    result = submit(tmp_path, tool_env(str(repo)))
    assert result.returncode == 0
    assert result.stdout.startswith(SUBMIT_MARKER + "\n")
    patch = parse_submission(result.stdout)
    assert patch == git(repo, "diff", "--cached")
    assert "+x = 2" in patch and "+y = 'ü'" in patch and "b/new.py" in patch
    assert (tmp_path / "state" / Path(PATCH_FILE).name).read_text() == patch


def test_submit_diffs_against_the_base_commit_even_after_commits(repo: Path, tmp_path: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.py").write_text("x = 3\n")
    git(repo, "commit", "-q", "-am", "agent commit")
    patch = parse_submission(submit(tmp_path, tool_env(str(repo), base)).stdout)
    assert patch is not None and "+x = 3" in patch


def test_submit_without_changes_prints_one_line_saying_the_patch_is_empty(repo: Path, tmp_path: Path) -> None:
    result = submit(tmp_path, {REPO_ROOT_ENV: str(repo)})
    assert result.stdout == f"{EMPTY_SUBMISSION}\n"  # the script's copy of the line is the package's
    assert "the patch is empty" in result.stdout and result.stdout.count(SUBMIT_MARKER) == 1
    assert parse_submission(result.stdout) == ""
    assert parse_submission(f"noise\n{EMPTY_SUBMISSION}\r\n") == ""


def test_submit_outside_a_repository_fails_without_a_marker(tmp_path: Path) -> None:
    result = submit(tmp_path, {REPO_ROOT_ENV: str(tmp_path)})
    assert result.returncode != 0
    assert "submit failed" in result.stdout
    assert parse_submission(result.stdout) is None


def test_parse_submission_needs_both_markers() -> None:
    assert parse_submission("ls\nfoo\n") is None
    assert parse_submission(f"{SUBMIT_MARKER}\ndiff --git a/x b/x\n") is None
    assert parse_submission(f"noise\n{SUBMIT_MARKER}\n+a\n{SUBMIT_MARKER}\n") == "+a\n"


def test_tool_env_names_the_repository_and_optional_base() -> None:
    assert tool_env("/testbed") == {REPO_ROOT_ENV: "/testbed"}
    assert tool_env("/r", "abc123") == {REPO_ROOT_ENV: "/r", BASE_COMMIT_ENV: "abc123"}


@pytest.mark.skipif(
    not docker_image_present(BASE_IMAGE), reason=f"docker image {BASE_IMAGE} is not available"
)
def test_submit_runs_in_the_base_image(tmp_path: Path) -> None:
    setup = (
        "git init -q /testbed && cd /testbed && echo 'x = 1' > a.py && git add a.py && "
        "git -c user.name=srl -c user.email=srl@example.invalid commit -q -m base && "
        "str_replace_editor str_replace /testbed/a.py --old_str 'x = 1' --new_str 'x = 2' >/dev/null && "
        f"submit && cat {shlex.quote(PATCH_FILE)}"
    )
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-e", f"PATH={INSTALL_DIR}:/usr/bin:/bin",
         "-v", f"{install_tools(tmp_path)}:{INSTALL_DIR}:ro", BASE_IMAGE, "bash", "-c", setup],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    patch = parse_submission(result.stdout)
    assert patch is not None and "-x = 1\n+x = 2\n" in patch
    assert result.stdout.endswith(f"{SUBMIT_MARKER}\n{patch}")


@pytest.mark.docker
def test_an_empty_submission_ends_the_episode_with_one_line_and_is_graded(env) -> None:
    observation, reward, terminated, truncated, info = env.step("submit")
    assert observation == f"{EMPTY_SUBMISSION}\n"
    assert terminated and not truncated and reward == 0.0
    assert (
        info["patch"] == ""
        and info["resolved"] is False
        and info["grade"]["instance_id"] == env.instance.instance_id
    )
