"""Hostile actions on the real engine: each attack is contained, its step ends within the step timeout
+ 2 s, the env stays usable (next step, warm reset) and no container is left behind.

The sandbox is kept small (128 pids, 256 MiB, one CPU, 100 MB of disk, 3 s steps) so that no attack can
hurt the machine running the tests; nothing reaches any network but the container's loopback.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest

from envs.swe_env import BROKEN_SANDBOX_EXIT_CODE, INVALID_ACTION_EXIT_CODE, SWEEnv
from harness.sandbox import SandboxConfig, labels
from harness.sandbox.engine import connect_engine

pytestmark = pytest.mark.docker

TIMEOUT_S = 3.0
BOUND_S = TIMEOUT_S + 2.0
"""The step timeout plus the margin the issue allows for killing and recovering."""
SMALL = SandboxConfig(memory="256m", pids_limit=128, cpus=1.0, disk_limit="100m")
FORK_BOMB = ":(){ :|:& };:"
"""The classic bomb: each call backgrounds two more and returns, so the action itself returns at once."""
FOREGROUND_BOMB = "b() { b | b; }; b"
"""A bomb the action waits for: every call waits for its two children."""


@pytest.fixture
def hostile(make_env: Callable[..., SWEEnv]) -> Callable[..., SWEEnv]:
    """Returns a maker of reset envs on the small sandbox (keyword arguments: SWEEnvConfig fields)."""

    def make(**config: object) -> SWEEnv:
        env = make_env(step_timeout_s=TIMEOUT_S, sandbox=SMALL, **config)
        env.reset()
        return env

    return make


@pytest.fixture(autouse=True)
def no_container_left() -> Iterator[None]:
    """Fails a test whose envs left a sandbox container of this process behind once they were closed."""
    yield
    owned = {"label": [f"{labels.SANDBOX}=1", f"{labels.OWNER_PID}={os.getpid()}"]}
    assert connect_engine().api.containers(all=True, filters=owned) == []


def attack(env: SWEEnv, action: str) -> tuple[str, dict]:
    """Runs `action`; returns (observation, info) after asserting the step ended within BOUND_S."""
    started = time.monotonic()
    observation, _, _, _, info = env.step(action)
    elapsed = time.monotonic() - started
    assert elapsed <= BOUND_S, f"{action!r} took {elapsed:.1f} s: {observation[-500:]}"
    return observation, info


def assert_usable(env: SWEEnv) -> None:
    """Asserts that the env answers, resets warm or fresh within BOUND_S, and answers again."""
    assert attack(env, "echo ok")[0].endswith("ok\n")
    _, info = env.reset()
    assert info["reset_s"] <= BOUND_S, info
    assert attack(env, "echo ok; git status --short | wc -l")[0] == "ok\n0\n"


@pytest.mark.parametrize("background", ["kill", "keep"])
def test_a_fork_bomb_in_the_foreground_is_killed_within_the_bound(hostile, background) -> None:
    env = hostile(background=background)
    observation, info = attack(env, FOREGROUND_BOMB)
    assert info["timed_out"] and "timed out after 3 s" in observation
    assert_usable(env)


@pytest.mark.parametrize("background", ["kill", "keep"])
def test_a_fork_bomb_in_the_background_does_not_poison_later_steps(hostile, background) -> None:
    env = hostile(background=background)
    attack(env, "echo kept > /testbed/kept.txt")
    observation, _ = attack(env, f"({FORK_BOMB}) >/dev/null 2>&1 & sleep 1")
    assert "were killed" in observation or "restarted" in observation, observation
    observation, _ = attack(env, "cat /testbed/kept.txt; ls /proc | grep -c '^[0-9]'")
    lines = observation.split()
    assert lines[0] == "kept" and int(lines[1]) < 10, observation
    assert_usable(env)


def test_background_jobs_are_killed_at_the_end_of_the_step_by_default(hostile) -> None:
    env = hostile()
    observation, _ = attack(env, ":() { echo shadowed; }; sleep 600 & echo started")  # `:` is no no-op here
    assert observation.startswith("started\n") and "background" in observation and "killed" in observation
    assert "shadowed" not in observation and "restarted" not in observation
    assert attack(env, "pgrep -c -f 'sleep 600'")[0] == "0\n"


def test_kept_background_jobs_outlive_their_step(hostile) -> None:
    env = hostile(background="keep")
    assert attack(env, "sleep 600 >/dev/null 2>&1 & echo started")[0] == "started\n"
    assert attack(env, "pgrep -c -f 'sleep 600'")[0] == "1\n"


def test_a_memory_hog_is_killed_by_the_memory_limit(hostile) -> None:
    env = hostile()
    hog = "python3 -c 'x = []\nwhile True: x.append(bytearray(10**7))'"
    observation, info = attack(env, hog)
    assert info["exit_code"] != 0, observation
    assert_usable(env)


def test_a_disk_filler_meets_the_file_size_cap_and_the_watched_limit_ends_the_episode(hostile) -> None:
    env = hostile()
    started = time.monotonic()
    fill = "sleep 1; dd if=/dev/zero of=/tmp/fill bs=1M count=150 status=none"
    observation, _, terminated, truncated, info = env.step(fill)
    assert time.monotonic() - started <= BOUND_S
    assert "File size limit exceeded" in observation  # the file stopped at 100 MB
    assert truncated and not terminated and "over its disk limit of 100m" in observation
    assert info["exit_code"] == BROKEN_SANDBOX_EXIT_CODE and info["error"]
    assert env.episode_over
    _, info = env.reset()
    assert info["fresh"] is True
    assert attack(env, "ls /tmp/fill 2>&1 | wc -l; echo ok")[0] == "1\nok\n"


SHELL_KILLERS = {
    "kill every process": "kill -9 -1",
    "kill the shell": "kill -9 $$",
    "exec replacing the shell": "exec true",
    "exit": "exit 3",
    "the memory limit": "x=$(head -c 200000000 /dev/zero | tr '\\0' a)",
}
"""Actions that end the persistent shell or (kill -9 -1, through the init) the container; the memory hog
grows the shell itself past the 64 MiB limit of OOM_SANDBOX, so the kernel's OOM killer ends the shell."""
OOM_SANDBOX = SandboxConfig(memory="64m", pids_limit=128, cpus=1.0, disk_limit="100m")


def assert_next_action_runs(env: SWEEnv) -> None:
    """Asserts that the very next action (sent at once) runs in the repository: its file exists after."""
    observation, info = attack(env, "touch /testbed/ran.txt; echo ran")
    assert observation == "ran\n" and info["restarted"] is None, observation
    assert attack(env, "ls /testbed/ran.txt; cat /testbed/kept.txt")[0] == "/testbed/ran.txt\nkept\n"


@pytest.mark.parametrize("shell", ["persistent", "exec"])
@pytest.mark.parametrize("killer", SHELL_KILLERS)
def test_the_step_that_ends_the_shell_says_so_and_the_next_action_runs(make_env, shell, killer) -> None:
    env = make_env(step_timeout_s=TIMEOUT_S, sandbox=OOM_SANDBOX, shell=shell)
    env.reset()
    attack(env, "echo kept > /testbed/kept.txt")
    observation, info = attack(env, SHELL_KILLERS[killer])
    if killer == "kill every process":  # the init exits with its child: the container stops
        assert "container stopped" in observation or "main process was killed" in observation, observation
        assert "the container was restarted" in observation
        assert info["restarted"] == "container", observation
    elif shell == "persistent":
        assert "the shell exited with status" in observation and "new shell" in observation, observation
        assert info["restarted"] == "shell" and info["exit_code"] == int(observation.split()[5].rstrip("]"))
    else:  # each action has its own bash: nothing carries over, nothing to restart
        assert info["restarted"] is None, observation
    if killer == "the memory limit":
        assert info["exit_code"] == 137, observation
    assert_next_action_runs(env)


@pytest.mark.parametrize("shell", ["persistent", "exec"])
@pytest.mark.parametrize("engine", ["restart", "stop"])
def test_a_container_the_engine_restarted_or_stopped_between_steps_runs_the_next_action(
    hostile, shell, engine
) -> None:
    env = hostile(shell=shell)
    attack(env, "echo kept > /testbed/kept.txt")
    api, container_id = env.sandbox.client.api, env.sandbox.container_id
    if engine == "restart":
        api.restart(container_id, timeout=0)
    else:
        api.stop(container_id, timeout=0)
    observation, info = attack(env, "touch /testbed/ran.txt; echo ran")
    assert observation.endswith("ran\n"), observation
    if engine == "stop" or shell == "persistent":
        assert "container" in observation and "restarted" in observation, observation
        assert info["restarted"] == "container"
    assert attack(env, "ls /testbed/ran.txt; cat /testbed/kept.txt")[0] == "/testbed/ran.txt\nkept\n"
    assert_usable(env)


def test_a_shell_stopped_between_steps_is_replaced_and_the_next_action_runs(hostile) -> None:
    env = hostile()
    attack(env, "echo kept > /testbed/kept.txt")
    shell_pid = attack(env, "echo $$")[0].strip()
    assert env.sandbox.run(f"kill -STOP {shell_pid}").exit_code == 0  # it can read no more actions
    observation, info = attack(env, "touch /testbed/ran.txt; echo ran")
    assert "did not start the action within 1.5 s" in observation, observation
    assert observation.endswith("ran\n")
    assert info["restarted"] == "shell"
    assert attack(env, "ls /testbed/ran.txt; cat /testbed/kept.txt")[0] == "/testbed/ran.txt\nkept\n"


@pytest.mark.parametrize("limit", ["-n 4", "-S -n 8", "-u 1", "-s 16", "-v 100000"])
def test_lowered_resource_limits_replace_the_shell_and_the_next_action_runs(hostile, limit) -> None:
    env = hostile()
    attack(env, "echo kept > /testbed/kept.txt")
    before, _ = attack(env, "ulimit -n -u -s -v")
    observation, info = attack(env, f"ulimit {limit}")
    assert "resource limits (ulimit)" in observation and "shell was replaced" in observation, observation
    assert info["restarted"] == "shell"
    assert_next_action_runs(env)
    assert attack(env, "ulimit -n -u -s -v")[0] == before
    assert attack(env, "python3 -c 'print(1)'")[0] == "1\n"


def test_a_core_size_limit_is_the_actions_to_change(hostile) -> None:
    env = hostile()
    attack(env, "cd /tmp")
    observation, info = attack(env, "ulimit -c 0")
    assert observation == "" and info["restarted"] is None
    assert attack(env, "pwd; ulimit -c")[0] == "/tmp\n0\n"


@pytest.mark.parametrize(
    "shadow",
    [
        "printf() { :; }; base64() { :; }; eval() { :; }; export() { :; }",
        "builtin() { :; }; unset() { :; }; read() { :; }; shopt() { :; }",
        "shopt -s expand_aliases; alias builtin=true unset=true eval=true printf=true",
        "exec >&- 2>&-",
        "exec >/dev/null 2>&1",
        "PATH=/nowhere; hash -r",
    ],
)
def test_shadowed_plumbing_leaves_the_next_action_working(hostile, shadow) -> None:
    env = hostile()
    attack(env, shadow)
    for _ in range(2):
        observation, info = attack(env, "echo after; /bin/false")
        assert observation == "after\n" and info["exit_code"] == 1 and not info["timed_out"]


@pytest.mark.parametrize("breaker", ["enable -n printf", "enable -n builtin", "set -n", "exec 254>&-"])
def test_plumbing_broken_beyond_repair_is_replaced_within_the_bound(hostile, breaker) -> None:
    env = hostile()
    attack(env, breaker)
    observation, _ = attack(env, "echo after")  # at worst this one times out and the shell is replaced
    assert observation.startswith("after\n") or "new shell" in observation, observation
    assert_usable(env)


@pytest.mark.parametrize(
    "replacement", ["exec python3", "exec sleep 600", "exec bash", "exec true", "exec sh -c 'exit 7'"]
)
def test_exec_replacing_the_shell_is_recovered(hostile, replacement) -> None:
    env = hostile()
    observation, _ = attack(env, replacement)
    assert "new shell" in observation, observation
    assert_usable(env)


@pytest.mark.parametrize("action", ["echo '\ud800'", "\udfff", "ls\ud83d"])
def test_lone_surrogates_are_refused_with_an_observation(env, action) -> None:
    observation, _, _, _, info = env.step(action)
    assert "lone surrogate" in observation and info["exit_code"] == INVALID_ACTION_EXIT_CODE
    assert env.step("echo ok")[0] == "ok\n"


def test_control_characters_and_raw_bytes_reach_bash_unchanged(env) -> None:
    weird = "a\x01\x1b[31mb\x7f\x04\x03c\r"
    observation, *_ = env.step(f"printf '%s' '{weird}' | od -An -c | tr -s ' '")
    assert observation.split() == [
        "a",
        "001",
        "033",
        "[",
        "3",
        "1",
        "m",
        "b",
        "177",
        "004",
        "003",
        "c",
        "\\r",
    ]
    assert env.step("printf '%s' '\udcff' | od -An -tx1")[0].split() == ["ff"]  # surrogateescape: a byte
    assert env.step("echo 'é ✓ 😀'")[0] == "é ✓ 😀\n"
    assert env.step("echo one\r\necho two\n\n")[0] == "one\r\ntwo\n"  # bash keeps a CR as a character


def test_an_output_flood_is_bounded_and_the_env_answers(hostile) -> None:
    env = hostile()
    observation, info = attack(env, "yes 'flood flood flood'")
    assert info["timed_out"] and info["output_clipped"]
    assert len(observation) <= env.config.max_observation_chars + 500
    observation, info = attack(env, "yes 'background flood' & sleep 0.5")
    assert info["output_clipped"] or len(observation) <= env.config.max_observation_chars + 500
    assert_usable(env)


def test_a_removed_repository_is_reported_in_info_when_the_patch_is_asked_for(hostile) -> None:
    env = hostile(patch_in_info=True)
    _, info = attack(env, "rm -rf /testbed/.git")
    assert info["patch"] is None and "could not diff the repository" in info["error"]
    assert_usable(env)  # the warm reset fails without .git: a fresh container
