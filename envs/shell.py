"""Running an episode's actions in a sandbox: one long-lived bash (persistent) or one bash per action (exec).

SWE-agent's trajectories assume a persistent shell: `cd`, `export`, functions, aliases and `set` options
carry over from one action to the next, so `PersistentShell` keeps one `bash --login` running in the
container, attached to a docker exec socket. Each action is sent as one `$'...'` literal (every byte outside
printable ASCII escaped) and run with `eval` (so a syntax error is an error message, never a half-read
command), stdin from /dev/null (a command waiting for input gets EOF instead of eating the protocol), stdout
and stderr merged into a copy of the output pipe kept at fd 254 (an action that closes or redirects its
stdout gets it back at the next action). The shell prints a start token before the action and an end token
after it carrying the exit code, the container's process count and the flags of the checks below; the rest
of the plumbing runs with stdout and stderr closed, so nothing it triggers (a DEBUG trap the action set,
`set -x`) reaches an observation. The action's DEBUG and RETURN traps are saved and cleared after it and
restored as the first line of the next action, so they fire on the action's own commands (bash runs a
DEBUG trap before every command, so one the action has also runs, silenced, before the few plumbing commands
between the action's end and the clearing: nothing can clear it earlier).

The plumbing cannot be shadowed by the action: it runs only builtins called as `\builtin NAME`, after a
function named `builtin` is removed by `unset -f` in POSIX mode (entered by assigning POSIXLY_CORRECT, which
no function or alias can intercept; there special builtins such as `unset` come before functions). An action
that breaks the shell in a way this cannot undo (`exec python3`, `set -n`, closing fd 254) is caught by the
timeout like a hung command.

Every process an action starts inherits a marker variable; at the timeout those processes are killed (within
KILL_BUDGET_S) and the shell, back at its prompt, keeps its state. When the killer cannot run in
time (a fork bomb holds every pid) or the shell itself does not return (a builtin loop), the engine restarts
the container: files are kept, every process ends.

The step whose action ends the shell says so and replaces what must be replaced, and the next action runs
in the new shell: a shell that exits (`exit`, `kill -9 $$`, `exec true`, `set -e` then a failure, the
memory limit's OOM kill) is dropped and the next action starts a new one; an action that kills the
container's main process (`kill -9 -1`: the init then stops the container) is seen by the end token's check
of that process (gone, exiting or with a SIGKILL pending) and the container is restarted before the step
returns; an action that changes the shell's resource limits (`ulimit -n 4` leaves it unable to open a file;
any limit but the core size, compared with the start's, kept in read-only variables) gets the shell
replaced. A shell found dead before it printed an action's start token (the engine restarted or stopped the
container between steps), or that does not print it within _ANSWER_GRACE_S (stopped; it is killed first),
is replaced, the container started again if needed, and the action sent again: no action is dropped unrun.
The observation says what happened and `CommandResult.restarted` names it; the working directory and
variables are then back to their start.

Background processes follow `background`: "kill" (the default of SWEEnvConfig) kills what an action left
running when it returns; "keep" lets them run, as SWE-agent does, unless they hold half the container's pids
limit, the sign of a runaway (fork bomb), when they are all killed. Either way the observation says so.

`ExecShell` runs each action in a new `bash` through `Sandbox.run` (no state carries over); it works on any
sandbox and is the baseline the benchmark compares with. On a DockerSandbox it restarts a container that
stopped, before an action that could not start (then runs it) or after one that killed the main process (the
action's bash checks that process in an EXIT trap; one more exec checks when the trap did not report).
"""

from __future__ import annotations

import contextlib
import select
import shlex
import socket
import struct
import time
import uuid
from dataclasses import replace
from typing import Literal, Protocol

import docker

from envs.tools import STATE_DIR
from harness.sandbox import TIMEOUT_EXIT_CODE, CommandResult, DockerSandbox, Sandbox, SandboxError
from harness.sandbox.base import MARKER_VAR
from harness.sandbox.docker import KILL_BUDGET_S, command_prefix, kill_marked_argv
from harness.sandbox.output import KILL_GRACE_S, BoundedOutput

QUIET_TOOL_ENV = {
    "TERM": "dumb",
    "PAGER": "cat",
    "MANPAGER": "cat",
    "GIT_PAGER": "cat",
    "LESS": "-R",
    "PIP_PROGRESS_BAR": "off",
    "TQDM_DISABLE": "1",
}
"""Variables that keep pagers and progress bars from waiting on or flooding a terminal nobody watches.
TERM=dumb names the terminal the output goes to (none): terminfo knows it, so `clear`, `top -b` and curses
tools run without "TERM environment variable not set", and it asks for no escape sequences (no colors,
`clear` prints nothing)."""

_TOKEN_PREFIX = "__SRL_SWE_DONE_"
_HEADER = struct.Struct(">BxxxL")
"""Header of one frame of a non-tty docker exec stream: stream number, payload length."""
_RESTART_NOTE = "The next action starts a new shell: working directory and variables are back to their start."
_RAN_IN_NEW_SHELL = "The action ran in a new shell: working directory and variables are back to their start."
_CONTAINER_RESTARTED = "the container was restarted; files are kept, every process in it ended"
_STARTED = b"-\n"
"""What follows the token on the line the shell prints as it starts an action (the end adds a space)."""
_TRAPS_FILE = f"{STATE_DIR}/traps.$$"
"""Where the plumbing keeps the action's DEBUG and RETURN traps while it runs (`$$`: the shell's pid)."""
_LIMITS_PROBE = (
    "IFS= read -r -d '' l </proc/$$/limits; "
    'declare -r __srl_swe_lh="${l%%Max core file size*}" __srl_swe_lt="${l#*Max core file size*$\'\\n\'}" '
    "&& echo 'limits kept'; "
)
"""Keeps the shell's /proc/PID/limits text but for the core size line (the one limit an action may change
freely), in two read-only variables the action cannot change: the text before that line and after it. Kept
in the shell rather than sent with every action: bash reads a line from a socket one byte at a time."""
_START_TIMEOUT_S = 60.0
_ANSWER_GRACE_S = 1.5
"""How long a shell may take to print an action's start token (its first command) before it counts as broken
by an earlier action (`exec 254>&-`, `enable -n printf`, `set -n`) and is replaced, the action sent again."""
_RETURN_GRACE_S = 0.4
"""How long a shell whose action was killed may take to print its end token before the container restarts."""
_OUTPUT_FD = 254
_PIDS_FILES = ("/sys/fs/cgroup/pids.current", "/sys/fs/cgroup/pids/pids.current")
"""Where a container sees its process count: cgroup v2, then v1."""
_EVERY_ACTION = "*"
"""Marker pattern matching the processes of every action (see kill_marked_argv)."""
_UNSHADOW = (
    "__srl_swe_opts=$BASHOPTS; POSIXLY_CORRECT=y; \\unset -f builtin; \\unset POSIXLY_CORRECT; "
    "[[ :$__srl_swe_opts: == *:inherit_errexit:* ]] || \\builtin shopt -u inherit_errexit; "
)
"""Removes a function named `builtin` with the real `unset` (POSIX mode), then leaves POSIX mode and undoes
the one option entering it sets. From here on `\\builtin NAME` is bash's own NAME."""
_ESCAPED = [chr(b) if 32 <= b < 127 and chr(b) not in "\\'" else f"\\x{b:02x}" for b in range(256)]
_MAIN_PROBE = (
    '__srl_swe_m=; for d in /proc/[0-9]*; do read -r s < "$d/stat" 2>/dev/null || continue; s=${s##*) }; '
    's=${s#* }; p=${d#/proc/}; [ "${s%% *}" = 1 ] && '
    '{ [ -z "$__srl_swe_m" ] || [ "$p" -lt "$__srl_swe_m" ]; } '
    '&& __srl_swe_m=$p; done; echo "main $__srl_swe_m"; '
)
"""Prints the pid of the container's main process: with an init as PID 1, its first child (the sandbox's
`sleep infinity`), which `kill -9 -1` can kill, and the init then stops the container."""
_MAIN_ALIVE = (
    'm=; for d in /proc/[0-9]*; do read -r s < "$d/stat" || continue; s=${s##*) }; p=${d#/proc/}; '
    '[[ ${s#* } == "1 "* ]] && [[ -z $m || $p -lt $m ]] && { m=$p; f=$s; }; done 2>/dev/null; '
    '[[ -n $m ]] && read -r -a f <<< "$f" && [[ ${f[0]} != [ZXx] ]] && (( !(f[6] & 4) && !(f[28] & 256) ))'
)
"""bash whose status is 0 when the container's main process (see _MAIN_PROBE) is neither gone nor dying
(exiting, or a SIGKILL pending)."""
_CHECK_BUDGET_S = 2.0
"""Longest the exec shell waits for _MAIN_ALIVE_ARGV (an exec takes long on a busy engine; a stopped
container answers at once)."""
Background = Literal["kill", "keep"]
NO_OP = ""
"""An action that runs nothing (`eval` of an empty string); unlike `:`, no function can shadow it."""
_REAP = "\\builtin wait"
"""Run after a kill: returns once bash has reaped the killed jobs, so that its notices of them ("Killed
sleep 600") end this observation instead of opening the next one."""


class Shell(Protocol):
    """Where an episode's actions run; `run` never raises for what the action itself does."""

    def run(self, command: str, timeout_s: float) -> CommandResult:
        """Runs one action; returns its output, exit code, duration and whether it timed out."""
        ...

    def close(self) -> None:
        """Stops the shell (not the sandbox); safe to call more than once."""
        ...


def shell_prelude(workdir: str, path_dirs: list[str], env: dict[str, str]) -> str:
    """Returns the bash lines that start every shell: cd to `workdir`, `path_dirs` first on PATH, `env`."""
    exports = {**QUIET_TOOL_ENV, **env}
    lines = [f"cd {shlex.quote(workdir)}"]
    lines += [f'export PATH={shlex.quote(":".join(path_dirs))}:"$PATH"'] if path_dirs else []
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    return "\n".join(lines) + "\n"


class ExecShell:
    """Each action in a new `bash` through `sandbox.run`, after the prelude; nothing carries over.

    On a DockerSandbox a stopped container is restarted: before the action when it cannot start (the
    action then runs), and after it when the container's main process is gone (`kill -9 -1`), the
    observation saying so.
    """

    def __init__(self, sandbox: Sandbox, prelude: str) -> None:
        self._sandbox = sandbox
        self._prelude = prelude

    def run(self, command: str, timeout_s: float) -> CommandResult:
        """Runs `command` after the prelude in a fresh bash; returns its result.

        On a DockerSandbox with an init, the bash checks the container's main process as it exits (an
        EXIT trap printing a token when it is alive); without the token (the action replaced the trap,
        exec'd or was killed) one more exec checks it.
        """
        docker_sandbox = self._sandbox if isinstance(self._sandbox, DockerSandbox) else None
        watched = docker_sandbox is not None and docker_sandbox.config.init
        alive = f"{_TOKEN_PREFIX}{uuid.uuid4().hex}__"
        echo = f"{{ {_MAIN_ALIVE} && echo {alive[:8]}''{alive[8:]}; }} 2>/dev/null"  # no `set -x` trace
        trap = f"trap {shlex.quote(echo)} EXIT\n"
        script = (trap if watched else "") + self._prelude + command
        before = after = ""
        try:
            result = self._sandbox.run(script, timeout_s=timeout_s)
        except SandboxError:
            if docker_sandbox is None or _running(docker_sandbox):
                raise
            docker_sandbox.restart()
            before = f"[the container had stopped: {_CONTAINER_RESTARTED}; the action ran after]\n"
            result = self._sandbox.run(script, timeout_s=timeout_s)
        checked = result.output.endswith(f"{alive}\n")
        if checked:
            result = replace(result, output=result.output[: -len(alive) - 1])
        main_alive = ["bash", "-c", _MAIN_ALIVE]
        if watched and not checked and not docker_sandbox.run_bounded(main_alive, _CHECK_BUDGET_S):
            docker_sandbox.restart()
            after = (
                "[the container's main process was killed, which stops the container, or the container ran "
                f"no command after the action: {_CONTAINER_RESTARTED}]\n"
            )
        if not before and not after:
            return result
        text = result.output
        text += "\n" if after and text and not text.endswith("\n") else ""
        return replace(result, output=before + text + after, restarted="container")

    def close(self) -> None:
        """Nothing to stop: every action had its own process."""


def _running(sandbox: DockerSandbox) -> bool:
    """Returns whether the engine reports the sandbox's container as running."""
    try:
        return bool(sandbox.client.api.inspect_container(sandbox.container_id)["State"]["Running"])
    except docker.errors.APIError:
        return False


class PersistentShell:
    """One `bash --login` kept running in a container, fed actions through a docker exec socket."""

    def __init__(
        self, sandbox: DockerSandbox, prelude: str, max_output_bytes: int, background: Background = "kill"
    ) -> None:
        self._api = sandbox.client.api
        self._sandbox = sandbox
        self._container_id = sandbox.container_id
        self._prelude = prelude
        self._max_output_bytes = max_output_bytes
        self._background = background
        self._socket: socket.socket | None = None
        self._stream: _ExecStream | None = None
        self._exec_id = ""
        self._pid = 0
        self._pids_file = ""
        self._idle_pids = 0
        self._max_pids: int | None = None
        self._main = 0
        self._limits = False
        self._traps_saved = False
        self._container_started_at = ""
        self._unstarted = ""
        self._user_token = ""
        self._restarted: str | None = None
        self._start()

    def run(self, command: str, timeout_s: float) -> CommandResult:
        """Runs `command` in the shell; returns its result, with notes on whatever had to be killed or
        replaced (`restarted` names it). A shell or container found dead before the action started is
        replaced first and the action runs in the new one. Raises SandboxError only when no shell can be
        started (e.g. ~/.bashrc exits)."""
        started = time.monotonic()
        self._restarted = None
        marker = uuid.uuid4().hex
        output = BoundedOutput(self._max_output_bytes)
        timed_out, before, notes, token = False, [], [], ""
        try:
            token, ended = self._start_action(command, marker, output, started + timeout_s, before)
            if ended is None:
                timed_out, exit_code = True, TIMEOUT_EXIT_CODE
                notes.append(f"[timed out after {timeout_s:g} s: the command and its children were killed]")
                notes += self._stop_action(marker, token, output)
            else:
                exit_code, pids, flags = ended
                notes += self._after_action(pids, flags, output)
        except _ShellExited as exited:
            exit_code = exited.exit_code
            notes.append(f"[{self._replace(f'the shell exited with status {exit_code}')}] {_RESTART_NOTE}")
        except KeyboardInterrupt:  # leave the shell at its prompt (or replaced), then let Ctrl-C go on
            if token:
                self._stop_action(marker, token, output)
            else:
                self._discard()
            raise
        text = "".join(f"{note}\n" for note in before) + output.text()
        if notes:
            text += ("" if not text or text.endswith("\n") else "\n") + "\n".join(notes) + "\n"
        return CommandResult(
            output=text,
            exit_code=exit_code,
            timed_out=timed_out,
            duration_s=time.monotonic() - started,
            truncated=output.truncated,
            restarted=self._restarted,
        )

    def close(self) -> None:
        """Ends the shell by closing its input (it exits at its prompt); safe to call more than once.

        Jobs it left running in the background are the caller's to kill (SWEEnv's reset does).
        """
        self._discard()

    def _start_action(
        self, command: str, marker: str, output: BoundedOutput, deadline: float, before: list[str]
    ) -> tuple[str, tuple[int, int | None, str] | None]:
        """Sends `command` to a live shell and reads its output; returns (token, what _read_until returned).

        A shell that ended before the action started (the engine restarted or stopped the container, or
        the container stopped after the last action) or did not start it within _ANSWER_GRACE_S (it is
        killed first; if it started the action meanwhile, that is the action's result) is replaced, with a
        note in `before`, and the action sent again: no action is dropped unrun. Raises SandboxError when
        that happens twice in a row.
        """
        for attempt in range(2):
            if self._stream is None:
                self._start_or_restart(before)
            try:
                token = self._send_action(command, marker, own=False)
                return token, self._read_until(token, output, deadline, _ANSWER_GRACE_S)
            except (_NotStarted, _Unanswered) as dead:
                if attempt:
                    where = self._container_id[:12]
                    raise SandboxError(f"the shell in {where} failed twice to start the action") from None
                if isinstance(dead, _Unanswered):
                    self._sandbox.run_bounded(["kill", "-9", str(self._pid)], KILL_BUDGET_S)
                    with contextlib.suppress(_NotStarted):  # what it printed before it died decides
                        ended = self._read_until(token, output, time.monotonic() + _RETURN_GRACE_S)
                        if ended is not None:
                            return token, ended
                    what = self._replace(f"the shell did not start the action within {_ANSWER_GRACE_S:g} s")
                    before.append(
                        f"[{what} (an earlier action broke it): it was replaced] {_RAN_IN_NEW_SHELL}"
                    )
                else:
                    what = self._replace(f"the shell had ended (status {dead.exit_code})")
                    before.append(f"[{what} before this action started] {_RAN_IN_NEW_SHELL}")
        raise AssertionError("unreachable")

    def _start_or_restart(self, before: list[str]) -> None:
        """Starts a shell; when the container is not running, restarts it first and notes that in `before`."""
        try:
            self._start()
            return
        except SandboxError:
            if _running(self._sandbox):
                raise
        self._sandbox.restart()
        self._restarted = "container"
        before.append(f"[the container had stopped: {_CONTAINER_RESTARTED}] {_RAN_IN_NEW_SHELL}")
        self._start()

    def _after_action(self, pids: int | None, flags: str, output: BoundedOutput) -> list[str]:
        """Checks what the action left behind; returns the notes on what had to be killed or replaced.

        "m" in `flags`: the container's main process is gone or dying, so the engine is about to stop the
        container (`kill -9 -1`): it is restarted now. "l": the shell's resource limits differ from its
        start (`ulimit -n 4` leaves it unable to open a file): the shell is replaced.
        """
        if "m" in flags:
            return [
                self._restart_container("the container's main process was killed, which stops the container")
            ]
        if "l" in flags:
            why = "the action changed the shell's resource limits (ulimit), which its own plumbing relies on"
            return [f"[{self._replace(why)}; the shell was replaced] {_RESTART_NOTE}"]
        return self._police_background(pids, output)

    def _start(self) -> None:
        """Starts the bash, runs ~/.bashrc and the prelude, and learns where it reads its process count,
        which process keeps the container running and the shell's resource limits.

        Raises SandboxError when the shell cannot start, exits or hangs before it is ready.
        """
        try:
            self._exec_id = self._api.exec_create(
                self._container_id,
                [*command_prefix(self._sandbox.config), "bash", "--login"],
                user=self._sandbox.config.user or "",
                stdin=True,
                stdout=True,
                stderr=True,
                tty=False,
            )["Id"]
            sock = self._api.exec_start(self._exec_id, socket=True)
            self._container_started_at = self._api.inspect_container(self._container_id)["State"]["StartedAt"]
        except docker.errors.APIError as error:
            where = self._container_id[:12]
            raise SandboxError(f"could not start a shell in {where}: {error.explanation}") from None
        self._socket = getattr(sock, "_sock", sock)
        self._socket.settimeout(None)
        self._stream = _ExecStream(self._socket)
        self._pid, self._pids_file, self._main, self._limits, self._traps_saved = 0, "", 0, False, False
        rcfile = '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc" >/dev/null 2>&1'
        probe_files = " ".join(_PIDS_FILES)
        main = _MAIN_PROBE if self._sandbox.config.init else ""
        probe = (
            f'for f in {probe_files}; do [ -r "$f" ] && read -r n < "$f" && '
            'read -r m < "${f%.current}.max" && echo "pids $f $n $m" && break; done; '
            f'{main}mkdir -p {STATE_DIR} 2>/dev/null; {_LIMITS_PROBE}echo "pid $$"'
        )
        found = BoundedOutput(self._max_output_bytes)
        where = f"the shell in container {self._container_id[:12]}"
        try:
            self._socket.sendall(f"exec {_OUTPUT_FD}>&1\n".encode())
            token = self._send_action(f"{rcfile}\n{self._prelude}\n{probe}", marker="start", own=True)
            ready = self._read_until(token, found, time.monotonic() + _START_TIMEOUT_S) is not None
        except (_ShellExited, OSError) as exited:
            self._discard()
            status = exited.exit_code if isinstance(exited, _ShellExited) else "unknown"
            raise SandboxError(f"{where} exited at its start with status {status}") from None
        if not ready:
            self._discard()
            raise SandboxError(f"{where} did not start within {_START_TIMEOUT_S:g} s")
        probed = dict(line.partition(" ")[::2] for line in found.text().splitlines() if " " in line)
        self._pid = int(probed.get("pid", "0"))
        self._main = int(probed["main"]) if probed.get("main", "").isdigit() else 0
        self._limits = probed.get("limits") == "kept"
        pids_file, idle, most = [*probed.get("pids", "").split(), "", "", ""][:3]
        if idle.isdigit():
            self._pids_file, self._idle_pids = pids_file, int(idle)
            self._max_pids = int(most) if most.isdigit() else None

    def _send_action(self, command: str, marker: str, own: bool) -> str:
        """Sends one action to the shell; returns the token that will end its output.

        The shell prints the token followed by "-" as it starts the action, and the token with the exit
        code, the process count and the flags of the checks (see _after_action) as it ends. The line runs
        with stdout and stderr closed (only the action's and the tokens' output reach the pipe): whatever
        the action's DEBUG trap or `set -x` print around the plumbing goes nowhere. Unless `own` (the
        plumbing's own commands), the action's DEBUG and RETURN traps, saved in _TRAPS_FILE after the last
        action, are restored as its first line and saved and cleared again after it.
        """
        token = f"{_TOKEN_PREFIX}{uuid.uuid4().hex}__"
        restore = (
            f"if [[ -s {_TRAPS_FILE} ]]; then \\builtin read -r -d '' __srl_swe_t <{_TRAPS_FILE} || "
            '\\builtin true; \\builtin eval "$__srl_swe_t"; fi\n'
            if self._traps_saved and not own
            else ""
        )
        save = (
            ""
            if own
            else f"\\builtin trap -p RETURN DEBUG >{_TRAPS_FILE} || \\builtin true; "
            f"[[ -s {_TRAPS_FILE} ]] && {{ __srl_swe_fl+=t; \\builtin trap - DEBUG RETURN; }}; "
        )
        limits = (
            "__srl_swe_l=; IFS= \\builtin read -r -d '' __srl_swe_l </proc/$$/limits || \\builtin true; "
            '[[ ${__srl_swe_l:0:${#__srl_swe_lh}} == "$__srl_swe_lh" && '
            '${__srl_swe_l: -${#__srl_swe_lt}} == "$__srl_swe_lt" ]] || __srl_swe_fl+=l; '
            if self._limits and not own
            else ""
        )
        main = (
            f"__srl_swe_m=(); IFS=' ' \\builtin read -r -a __srl_swe_m </proc/{self._main}/stat || "
            "\\builtin true; [[ ${__srl_swe_m[2]-X} != [ZXx] ]] && "
            "(( !(${__srl_swe_m[8]-0} & 4) && !(${__srl_swe_m[30]-0} & 256) )) || __srl_swe_fl+=m; "
            if self._main and not own
            else ""
        )
        count = f"\\builtin read -r __srl_swe_pids <{self._pids_file} || " if self._pids_file else ""
        # Tokens are printed from two halves so that a `set -x` trace of this line never holds one whole.
        # An empty line follows: after an action's syntax error inside `eval` in a compound command, bash
        # does not take the next line's first word as a reserved word (`{`); an empty line resets that.
        line = (
            f"{{ {_UNSHADOW}"
            f"\\builtin printf '%s%s-\\n' {token[:8]} {token[8:]} >&{_OUTPUT_FD}; "
            f"\\builtin export {MARKER_VAR}={marker}; "
            f"\\builtin eval {_ansi_c(restore + command)} </dev/null >&{_OUTPUT_FD} 2>&{_OUTPUT_FD}; "
            f"__srl_swe_rc=$?; {_UNSHADOW}__srl_swe_fl=-; {save}\\builtin unset {MARKER_VAR}; "
            f"{limits}{main}{count}__srl_swe_pids=-; "
            f"\\builtin printf '%s%s %s %s %s\\n' {token[:8]} {token[8:]} "
            f'"$__srl_swe_rc" "$__srl_swe_pids" "$__srl_swe_fl" >&{_OUTPUT_FD}; }} >&- 2>&-\n\n'
        )
        self._unstarted = token
        self._user_token = self._user_token if own else token
        try:
            self._socket.sendall(line.encode("ascii"))
        except OSError:
            raise self._exited(_NotStarted) from None
        return token

    def _read_until(
        self, token: str, output: BoundedOutput, deadline: float, answer_s: float | None = None
    ) -> tuple[int, int | None, str] | None:
        """Streams output into `output` until the end token; returns (exit code, process count or None,
        flags of the checks), None at the deadline. Raises _NotStarted when the shell ended before it
        started the action, _ShellExited when it ended after, _Unanswered when it did not start the action
        within `answer_s` (when given)."""
        start = token.encode() + _STARTED
        needle = token.encode() + b" "
        pending = bytearray()
        answer_by = deadline if answer_s is None else time.monotonic() + answer_s
        while True:
            unanswered = self._unstarted == token and answer_by < deadline
            chunk = self._stream.read((answer_by if unanswered else deadline) - time.monotonic())
            if not chunk:
                output.append(bytes(pending))
                if chunk is None and unanswered:
                    raise _Unanswered
                if chunk is None:
                    return None
                raise self._exited(_NotStarted if self._unstarted == token else _ShellExited)
            pending += chunk
            if self._unstarted == token:
                begun = pending.find(start)
                if begun < 0:
                    keep = len(start) - 1
                    if len(pending) > keep:
                        output.append(bytes(pending[:-keep]))
                        del pending[:-keep]
                    continue
                output.append(bytes(pending[:begun]))  # what background jobs printed since the last action
                del pending[: begun + len(start)]
                self._unstarted = ""
            found = pending.find(needle)
            if found >= 0:
                output.append(bytes(pending[:found]))
                rest = bytes(pending[found + len(needle) :])
                while b"\n" not in rest:
                    more = self._stream.read(KILL_GRACE_S)
                    if not more:
                        raise self._exited(_ShellExited)
                    rest += more
                trailer, _, leftover = rest.partition(b"\n")
                self._stream.unread(leftover)  # what background jobs printed after: the next action's
                code, pids, flags = [*trailer.decode("ascii", "replace").split(" "), "", ""][:3]
                if token == self._user_token:
                    self._traps_saved = "t" in flags
                return int(code), int(pids) if pids.isdigit() else None, flags
            keep = len(needle) - 1
            if len(pending) > keep:
                output.append(bytes(pending[:-keep]))
                del pending[:-keep]

    def _stop_action(self, marker: str, token: str, output: BoundedOutput) -> list[str]:
        """Kills the action's processes; returns notes, empty when the shell came back with its state.

        The shell's whole process group is killed with it, so in background="keep" the jobs of earlier
        actions end too. A shell that came back reaps the killed jobs (_REAP); whatever does not finish
        within KILL_BUDGET_S + 2 × _RETURN_GRACE_S ends in a restart of the container.
        """
        if self._sandbox.run_bounded(kill_marked_argv(marker, self._pid), KILL_BUDGET_S):
            try:
                if self._read_until(token, output, time.monotonic() + _RETURN_GRACE_S) is not None:
                    reap = self._send_action(_REAP, marker, own=True)
                    if self._read_until(reap, output, time.monotonic() + _RETURN_GRACE_S) is not None:
                        return []
            except _ShellExited as exited:  # the action had replaced the shell (`exec sleep 600`)
                return [
                    f"[{self._replace(f'the shell exited with status {exited.exit_code}')}] {_RESTART_NOTE}"
                ]
        return [self._restart_container("the command could not be stopped inside the container")]

    def _police_background(self, pids: int | None, output: BoundedOutput) -> list[str]:
        """Applies the background policy after an action returned; returns notes on what was killed.

        Each kill is checked with the process count that reaping the killed jobs (_REAP) reports. The
        container is restarted when the killer cannot finish, the shell does not answer, or after two kills
        the count is still a runaway's (a count just above idle is the killer's own exec, not yet gone).
        """
        if pids is not None:
            self._idle_pids = min(self._idle_pids, pids)
        if pids is None or pids <= self._idle_pids:
            return []
        runaway = self._runaway(pids)
        if self._background == "keep" and not runaway:
            return []
        why = (
            f"background processes held {pids} of the container's {self._max_pids} pids"
            if runaway
            else "background processes the action left running"
        )
        killed = f"[{why} were killed (background={self._background!r})]"
        for attempt in range(2):
            if not self._sandbox.run_bounded(kill_marked_argv(_EVERY_ACTION, self._pid), KILL_BUDGET_S):
                break
            try:
                reap = self._send_action(_REAP, "reap", own=True)
                ended = self._read_until(reap, output, time.monotonic() + _RETURN_GRACE_S)
            except _ShellExited:
                break
            if ended is None:
                break
            left = ended[1]
            if left is None or left <= self._idle_pids or (attempt and not self._runaway(left)):
                return [killed]
        return [self._restart_container(why)]

    def _runaway(self, pids: int) -> bool:
        """Returns whether `pids` processes are half the container's limit or more (a fork bomb's sign)."""
        return self._max_pids is not None and pids >= self._max_pids // 2

    def _replace(self, what: str) -> str:
        """Drops the shell (the next action starts a new one) and kills what it left (background="kill"),
        or checks that the container still runs commands; restarts the container when it does not (or
        says that the engine did); returns `what` with what was done about it."""
        self._discard()
        self._restarted = self._restarted or "shell"
        started_at = self._started_at()
        if started_at and started_at != self._container_started_at:
            self._restarted = "container"
            return f"{what}: the engine restarted the container; files are kept, every process in it ended"
        probe = kill_marked_argv(_EVERY_ACTION, self._pid) if self._background == "kill" else ["true"]
        if not self._sandbox.run_bounded(probe, KILL_BUDGET_S):
            self._sandbox.restart()
            self._restarted = "container"
            return f"{what} and the container stopped: {_CONTAINER_RESTARTED}"
        return what

    def _restart_container(self, why: str) -> str:
        """Restarts the container through the engine (files kept, every process ended); returns the note."""
        self._discard()
        self._sandbox.restart()
        self._restarted = "container"
        return f"[{why}: {_CONTAINER_RESTARTED}] {_RESTART_NOTE}"

    def _started_at(self) -> str:
        """Returns when the container last started, as the engine says ("" when it cannot say)."""
        try:
            return self._api.inspect_container(self._container_id)["State"]["StartedAt"]
        except docker.errors.APIError:
            return ""

    def _exited(self, kind: type[_ShellExited]) -> _ShellExited:
        """Returns the error (`kind`) for a shell that exited, with its exit code once the engine says it."""
        deadline = time.monotonic() + _RETURN_GRACE_S
        state: dict = {"Running": True, "ExitCode": None}
        with contextlib.suppress(docker.errors.APIError):
            while time.monotonic() < deadline:
                state = self._api.exec_inspect(self._exec_id)
                if not state["Running"] and state["ExitCode"] is not None:
                    break
                time.sleep(0.01)
        return kind(state["ExitCode"] if state["ExitCode"] is not None else -1)

    def _discard(self) -> None:
        """Drops the socket (a shell still at its prompt exits on end of input); returns nothing."""
        if self._stream is None:
            return
        self._stream = None
        with contextlib.suppress(OSError):
            self._socket.close()


def _ansi_c(text: str) -> str:
    """Returns `text` as one bash `$'...'` literal, every byte outside printable ASCII escaped."""
    return "$'" + "".join(_ESCAPED[byte] for byte in text.encode("utf-8", "surrogateescape")) + "'"


class _ShellExited(Exception):
    """The shell's process ended (its output stream closed) while it ran an action."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"the shell exited with status {exit_code}")
        self.exit_code = exit_code


class _NotStarted(_ShellExited):
    """The shell's process ended before it started the action sent to it."""


class _Unanswered(Exception):
    """The shell did not start the action sent to it in time (an earlier action broke its plumbing)."""


class _ExecStream:
    """The stdout payload of a non-tty docker exec socket, read with a deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._raw = bytearray()
        self._ready = bytearray()

    def read(self, timeout_s: float) -> bytes | None:
        """Returns the next payload bytes; b"" at end of stream; None when `timeout_s` passes first."""
        deadline = time.monotonic() + max(timeout_s, 0)
        while not self._ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([self._socket], [], [], remaining)
            if not readable:
                return None
            try:
                data = self._socket.recv(1 << 16)
            except OSError:  # reset by the engine: the same as its end
                return b""
            if not data:
                return b""
            self._raw += data
            self._split_frames()
        chunk = bytes(self._ready)
        self._ready.clear()
        return chunk

    def unread(self, data: bytes) -> None:
        """Puts payload bytes back in front of the stream; returns nothing."""
        self._ready[:0] = data

    def _split_frames(self) -> None:
        while len(self._raw) >= _HEADER.size:
            _, length = _HEADER.unpack_from(self._raw)
            if len(self._raw) < _HEADER.size + length:
                return
            self._ready += self._raw[_HEADER.size : _HEADER.size + length]
            del self._raw[: _HEADER.size + length]
