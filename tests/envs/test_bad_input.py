"""Bad actions give an observation that says what went wrong, never an exception; a hanging command is
killed at the timeout; what kills the shell or fills a file system leaves the env recoverable."""

import pytest

from envs.swe_env import INVALID_ACTION_EXIT_CODE


@pytest.mark.parametrize(
    ("action", "says"),
    [("", "empty action"), ("   \n\t", "empty action"), ("echo a\0b", "NUL"), (None, "not NoneType")],
)
def test_refused_actions_explain_why_in_the_observation(env, action, says) -> None:
    observation, reward, terminated, truncated, info = env.step(action)
    assert says in observation and info["error"] and info["exit_code"] == INVALID_ACTION_EXIT_CODE
    assert (reward, terminated, truncated) == (0.0, False, False)


def test_an_action_longer_than_the_space_admits_is_refused(make_env) -> None:
    env = make_env(max_action_chars=10)
    env.reset()
    observation, *_ = env.step("echo 12345678901")
    assert "limit is 10" in observation


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ("echo 'unclosed", "unexpected EOF"),
        ("if then fi", "syntax error"),
        ("qwertyuiop --frobnicate", "command not found"),
        ("str_replace_editor explode /testbed/README.md", "explode"),
    ],
)
def test_junk_actions_run_and_return_the_shell_error(env, action, says) -> None:
    observation, _, _, _, info = env.step(action)
    assert says in observation and info["exit_code"] != 0
    assert env.step("echo still here")[0] == "still here\n"


def test_a_hanging_command_is_killed_at_the_timeout_and_the_shell_keeps_its_state(make_env) -> None:
    env = make_env(step_timeout_s=1.0)
    env.reset()
    env.step("cd semverkit")
    observation, _, _, _, info = env.step("sleep 600 & sleep 600")
    assert info["timed_out"] and info["exit_code"] == 137 and "timed out after 1 s" in observation
    assert env.step("pwd")[0] == "/testbed/semverkit\n"


def test_notices_of_killed_background_jobs_stay_with_the_timed_out_action(make_env) -> None:
    env = make_env(step_timeout_s=1.0)
    env.reset()
    for _ in range(5):  # bash reports a killed job when it reaps it, which raced with the next action
        assert env.step("sleep 600 & sleep 600")[-1]["timed_out"]
        assert env.step("echo next")[0] == "next\n"


def test_a_busy_loop_inside_the_shell_itself_is_killed_with_the_shell(make_env) -> None:
    env = make_env(step_timeout_s=1.0)
    env.reset()
    observation, _, _, _, info = env.step("while true; do :; done")
    assert info["timed_out"] and "new shell" in observation
    assert env.step("echo back")[0] == "back\n"


def test_killing_the_shell_is_recovered_at_the_next_action(env) -> None:
    observation, *_ = env.step("kill -9 $$")
    assert "new shell" in observation
    assert env.step("echo alive")[0] == "alive\n"


def test_a_full_file_system_and_a_broken_repository_are_recovered_by_reset(env) -> None:
    observation, _, _, _, info = env.step("dd if=/dev/zero of=/dev/shm/fill bs=1M count=100000")
    assert "No space left on device" in observation
    env.step("rm -rf /testbed/.git")
    _, info = env.reset()
    assert info["fresh"] is True  # the warm reset failed without .git, so a new container was started
    assert env.step("git status --short && df --output=avail /dev/shm | tail -1")[2] is False
    assert env.step("test -e /dev/shm/fill; echo $?")[0] == "1\n"
