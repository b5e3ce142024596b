"""The episode's shell persists like SWE-agent's: cwd, variables and functions carry over between actions;
a shell that exits is replaced (and the observation says so)."""

from envs.swe_env import BROKEN_SANDBOX_EXIT_CODE
from harness.sandbox import SandboxConfig


def run(env, action: str) -> tuple[str, dict]:
    observation, _, _, _, info = env.step(action)
    return observation, info


def test_working_directory_variables_and_functions_carry_over(env) -> None:
    run(env, 'cd semverkit && export GREETING=hi && LOCAL=there && greet() { echo "$GREETING $LOCAL"; }')
    assert run(env, "pwd")[0] == "/testbed/semverkit\n"
    assert run(env, "greet")[0] == "hi there\n"
    assert run(env, "bash -c 'echo $GREETING'")[0] == "hi\n"


def test_stdout_and_stderr_arrive_in_order_with_the_exit_code(env) -> None:
    observation, info = run(env, "echo out; echo err >&2; echo out2; exit_code() { return 3; }; exit_code")
    assert observation == "out\nerr\nout2\n" and info["exit_code"] == 3


def test_a_command_reading_stdin_gets_end_of_file_instead_of_hanging(env) -> None:
    observation, info = run(env, 'cat; read -r line; echo "read:$?"')
    assert observation == "read:1\n" and not info["timed_out"]


def test_exit_replaces_the_shell_and_the_next_action_starts_fresh(env) -> None:
    run(env, "cd /tmp && export GONE=1")
    observation, info = run(env, "exit 4")
    assert info["exit_code"] == 4 and "new shell" in observation
    assert run(env, 'pwd; echo "${GONE:-unset}"')[0] == "/testbed\nunset\n"


def test_a_shell_that_exits_as_it_starts_is_an_observation_and_reset_recovers(env) -> None:
    env.sandbox.write_file("/root/.bashrc", "exit 5\n")
    run(env, "exit 1")
    observation, info = run(env, "echo never")
    assert "exited at its start with status 5" in observation and "reset()" in observation
    assert info["exit_code"] == BROKEN_SANDBOX_EXIT_CODE and info["error"]
    env.reset()  # the warm reset cannot start a shell either: a fresh container can
    assert run(env, "echo back")[0] == "back\n"


def test_tools_are_on_path_and_the_editor_edits_the_repository(env) -> None:
    run(env, "str_replace_editor create /testbed/hello.py --file_text 'print(1)\n'")
    observation, info = run(
        env, "str_replace_editor str_replace /testbed/hello.py --old_str 'print(1)' --new_str 'print(2)'"
    )
    assert info["exit_code"] == 0, observation
    assert run(env, "python3 hello.py")[0] == "2\n"
    assert "+print(2)" in env.current_patch()


def test_the_exec_shell_runs_each_action_in_a_new_bash(make_env) -> None:
    env = make_env(shell="exec")
    env.reset()
    run(env, "cd semverkit && export GONE=1")
    assert run(env, 'pwd; echo "${GONE:-unset}"; command -v submit')[0] == (
        "/testbed\nunset\n/opt/srl_swe_tools/bin/submit\n"
    )


def test_actions_run_as_the_sandbox_user_when_one_is_set(make_env) -> None:
    env = make_env(sandbox=SandboxConfig(user="1000:1000"))
    env.reset()
    assert run(env, "id -u; echo x >> README.md; git status --short")[0] == "1000\n M README.md\n"
    _, info = env.reset()
    assert info["fresh"] is False and run(env, "git status --short; id -u")[0] == "1000\n"


def test_an_actions_debug_trap_fires_on_its_own_commands_and_never_in_the_plumbings_output(env) -> None:
    assert run(env, "trap 'echo X' DEBUG")[0] == ""
    assert run(env, "echo a; echo b")[0] == "X\na\nX\nb\n"
    assert run(env, "trap -p DEBUG")[0] == "X\ntrap -- 'echo X' DEBUG\n"
    assert run(env, "trap - DEBUG")[0] == "X\n"
    assert run(env, "echo c")[0] == "c\n"


def test_an_actions_return_trap_is_kept_for_its_own_sourced_scripts(env) -> None:
    run(env, "trap 'echo R' RETURN; echo 'echo in' > /tmp/script.sh; trap 'echo X' DEBUG; trap - DEBUG")
    assert run(env, ". /tmp/script.sh")[0] == "in\nR\n"
    assert run(env, "echo d")[0] == "d\n"
    assert run(env, "trap -p")[0] == "trap -- 'echo R' RETURN\n"


def test_set_x_traces_the_actions_commands_only(env) -> None:
    run(env, "set -x")
    assert run(env, "echo traced")[0] == "++ echo traced\ntraced\n"


def test_terminal_programs_give_clean_observations(env) -> None:
    """TERM=dumb: terminfo knows it and it asks for no escape sequences; pagers are `cat`."""
    observation, info = run(env, "clear")
    assert observation == "" and info["exit_code"] == 1  # dumb has no clear-screen sequence
    observation, info = run(env, "top -b -n1 | head -1")
    assert observation.startswith("top - ") and "TERM" not in observation and info["exit_code"] == 0
    observation, _ = run(env, "git log -2 --format='%s'")
    assert len(observation.splitlines()) == 2 and "\x1b" not in observation
    run(env, "printf 'one\\ntwo\\n' > /tmp/page.txt")
    assert run(env, "$PAGER /tmp/page.txt; echo $TERM")[0] == "one\ntwo\ndumb\n"
    if run(env, "command -v less || true")[0]:  # task images may ship less; the demo's base image does not
        assert run(env, "less /tmp/page.txt")[0] == "one\ntwo\n"  # not a terminal: less copies the file
