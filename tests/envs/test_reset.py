"""reset() gives the problem statement with the repository at the base commit and no test patch; a warm
reset restores the repository and the tools' state in the same container, a fresh one starts another."""

import pytest
from gymnasium.error import ResetNeeded

from harness.sandbox import DockerSandbox, SandboxError


def test_reset_returns_the_problem_statement_and_no_test_patch_is_in_sight(make_env, instance) -> None:
    env = make_env()
    observation, info = env.reset()
    assert observation == instance.problem_statement and info["instance_id"] == instance.instance_id
    added_test = "test_max_satisfying_with_mixed_prerelease_identifiers"
    assert added_test in instance.test_patch
    grep, _, _, _, _ = env.step(f"grep -rn {added_test} /testbed; git log -1 --format=%H")
    assert grep == instance.base_commit + "\n"


def test_warm_reset_restores_the_base_commit_after_edits_commits_and_new_files(env, instance) -> None:
    env.step(
        "echo junk >> semverkit/version.py && echo new > new.txt && mkdir -p build && touch build/x.o && "
        "git -c user.name=a -c user.email=a@b commit -qam wip && git checkout -qb other && "
        "str_replace_editor insert /testbed/README.md --insert_line 0 --new_str x && cd /tmp && export LEFT=1"
    )
    _, info = env.reset()
    assert info["fresh"] is False
    observation, *_ = env.step(
        'git rev-parse HEAD; git status --porcelain --ignored; pwd; echo "${LEFT:-unset}"'
    )
    assert observation == f"{instance.base_commit}\n/testbed\nunset\n"
    undo, *_ = env.step("str_replace_editor undo_edit /testbed/README.md")
    assert "No edit history found for /testbed/README.md." in undo


def test_warm_reset_kills_what_the_last_episode_left_running(make_env) -> None:
    env = make_env(background="keep")
    env.reset()
    env.step("sleep 777 > /dev/null 2>&1 &")
    assert env.step("pgrep -c -f 'sleep 777'")[0] == "1\n"
    env.reset()
    assert env.step("pgrep -c -f 'sleep 777'")[0] == "0\n"


def test_fresh_reset_starts_a_new_container_and_removes_the_old_one(env) -> None:
    old = env.sandbox
    assert isinstance(old, DockerSandbox)
    _, info = env.reset(options={"fresh": True})
    assert info["fresh"] is True and env.sandbox.container_id != old.container_id
    with pytest.raises(SandboxError):
        old.run("true")


def test_close_twice_is_safe_and_step_after_close_needs_a_reset(env) -> None:
    env.close()
    env.close()
    with pytest.raises(ResetNeeded):
        env.step("true")
