"""Running an episode's actions in a sandbox: one long-lived bash (persistent) or one bash per action (exec).

SWE-agent's trajectories assume a persistent shell: `cd`, `export`, functions, aliases and `set` options
carry over from one action to the next, so `PersistentShell` keeps one `bash --login` running in the
container, attached to a docker exec socket. Each action is sent as one `$'...'` literal (every byte outside
printable ASCII escaped) and run with `eval` (so a syntax error is an error message, never a half-read
command), stdin from /dev/null (a command waiting for input gets EOF instead of eating the protocol), stdout
and stderr merged into a copy of the output pipe kept at fd 254 (an action that closes or redirects its
stdout gets it back at the next action), then an end token carrying the exit code and the container's
process count is printed.

The plumbing cannot be shadowed by the action: it runs only builtins called as `\builtin NAME`, after a
function named `builtin` is removed by `unset -f` in POSIX mode (entered by assigning POSIXLY_CORRECT, which
no function or alias can intercept; there special builtins such as `unset` come before functions). An action
that breaks the shell in a way this cannot undo (`exec python3`, `set -n`, closing fd 254) is caught by the
timeout like a hung command.

Every process an action starts inherits a marker variable; at the timeout those processes are killed (within
KILL_BUDGET_S) and the shell, back at its prompt, keeps its state. When the killer cannot run in
time (a fork bomb holds every pid) or the shell itself does not return (a builtin loop), the engine restarts
the container: files are kept, every process ends. A shell that exits (`exit`, `set -e` then a failure,
`kill -9 -1`, which also stops the container) is replaced, the container started again if it stopped. The
observation says so: the working directory and variables are then back to their start.

Background processes follow `background`: "kill" (the default of SWEEnvConfig) kills what an action left
running when it returns; "keep" lets them run, as SWE-agent does, unless they hold half the container's pids
limit, the sign of a runaway (fork bomb), when they are all killed. Either way the observation says so.

`ExecShell` runs each action in a new `bash` through `Sandbox.run` (no state carries over); it works on any
sandbox and is the baseline the benchmark compares with.
"""

from __future__ import annotations

import contextlib
import select
import shlex
import socket
import struct
import time
import uuid
from typing import Literal, Protocol

import docker

from harness.sandbox import TIMEOUT_EXIT_CODE, CommandResult, DockerSandbox, Sandbox, SandboxError
from harness.sandbox.base import MARKER_VAR
from harness.sandbox.docker import KILL_BUDGET_S, command_prefix, kill_marked_argv
from harness.sandbox.output import KILL_GRACE_S, BoundedOutput

QUIET_TOOL_ENV = {
    "PAGER": "cat",
    "MANPAGER": "cat",
    "GIT_PAGER": "cat",
    "LESS": "-R",
    "PIP_PROGRESS_BAR": "off",
    "TQDM_DISABLE": "1",
}
"""Variables that keep pagers and progress bars from waiting on or flooding a terminal nobody watches."""

_TOKEN_PREFIX = "__SRL_SWE_DONE_"
_HEADER = struct.Struct(">BxxxL")
"""Header of one frame of a non-tty docker exec stream: stream number, payload length."""
_RESTART_NOTE = "The next action starts a new shell: working directory and variables are back to their start."
_START_TIMEOUT_S = 60.0
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
    """Each action in a new `bash` through `sandbox.run`, after the prelude; nothing carries over."""

    def __init__(self, sandbox: Sandbox, prelude: str) -> None:
        self._sandbox = sandbox
        self._prelude = prelude

    def run(self, command: str, timeout_s: float) -> CommandResult:
        """Runs `command` after the prelude in a fresh bash; returns its result."""
        return self._sandbox.run(self._prelude + command, timeout_s=timeout_s)

    def close(self) -> None:
        """Nothing to stop: every action had its own process."""


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
        self._start()

    def run(self, command: str, timeout_s: float) -> CommandResult:
        """Runs `command` in the shell; returns its result, with notes on whatever had to be killed or
        replaced. Raises SandboxError only when no shell can be started (e.g. ~/.bashrc exits)."""
        started = time.monotonic()
        if self._stream is None:
            self._start()
        marker = uuid.uuid4().hex
        output = BoundedOutput(self._max_output_bytes)
        timed_out, notes, token = False, [], ""
        try:
            token = self._send_action(command, marker)
            ended = self._read_until(token, output, started + timeout_s)
            if ended is None:
                timed_out, exit_code = True, TIMEOUT_EXIT_CODE
                notes.append(f"[timed out after {timeout_s:g} s: the command and its children were killed]")
                notes += self._stop_action(marker, token, output)
            else:
                exit_code, pids = ended
                notes += self._police_background(pids, output)
        except _ShellExited as exited:
            exit_code = exited.exit_code
            notes += self._after_exit(exit_code)
        except KeyboardInterrupt:  # leave the shell at its prompt (or replaced), then let Ctrl-C go on
            if token:
                self._stop_action(marker, token, output)
            else:
                self._discard()
            raise
        text = output.text()
        if notes:
            text += ("" if not text or text.endswith("\n") else "\n") + "\n".join(notes) + "\n"
        return CommandResult(
            output=text,
            exit_code=exit_code,
            timed_out=timed_out,
            duration_s=time.monotonic() - started,
            truncated=output.truncated,
        )

    def close(self) -> None:
        """Ends the shell by closing its input (it exits at its prompt); safe to call more than once.

        Jobs it left running in the background are the caller's to kill (SWEEnv's reset does).
        """
        self._discard()

    def _start(self) -> None:
        """Starts the bash, runs ~/.bashrc and the prelude, and learns where it reads its process count.

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
        except docker.errors.APIError as error:
            where = self._container_id[:12]
            raise SandboxError(f"could not start a shell in {where}: {error.explanation}") from None
        self._socket = getattr(sock, "_sock", sock)
        self._socket.settimeout(None)
        self._stream = _ExecStream(self._socket)
        self._pid, self._pids_file = 0, ""
        rcfile = '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc" >/dev/null 2>&1'
        probe_files = " ".join(_PIDS_FILES)
        probe = (
            f'for f in {probe_files}; do [ -r "$f" ] && read -r n < "$f" && '
            'read -r m < "${f%.current}.max" && echo "$f $n $m" && break; done; echo $$'
        )
        found = BoundedOutput(self._max_output_bytes)
        where = f"the shell in container {self._container_id[:12]}"
        try:
            self._socket.sendall(f"exec {_OUTPUT_FD}>&1\n".encode())
            token = self._send_action(f"{rcfile}\n{self._prelude}\n{probe}", marker="start")
            ready = self._read_until(token, found, time.monotonic() + _START_TIMEOUT_S) is not None
        except (_ShellExited, OSError) as exited:
            self._discard()
            status = exited.exit_code if isinstance(exited, _ShellExited) else "unknown"
            raise SandboxError(f"{where} exited at its start with status {status}") from None
        if not ready:
            self._discard()
            raise SandboxError(f"{where} did not start within {_START_TIMEOUT_S:g} s")
        *_, pids_file, idle, most, pid = ["", "", "", "", *found.text().split()]
        self._pid = int(pid)
        if idle.isdigit():
            self._pids_file, self._idle_pids = pids_file, int(idle)
            self._max_pids = int(most) if most.isdigit() else None

    def _send_action(self, command: str, marker: str) -> str:
        """Sends one action to the shell; returns the token that will end its output."""
        token = f"{_TOKEN_PREFIX}{uuid.uuid4().hex}__"
        literal = "".join(_ESCAPED[byte] for byte in command.encode("utf-8", "surrogateescape"))
        count = (
            f"\\builtin read -r __srl_swe_pids <{self._pids_file} 2>/dev/null || " if self._pids_file else ""
        )
        # Printed from two halves so that a `set -x` trace of this line never holds the token whole.
        line = (
            f"{_UNSHADOW}\\builtin export {MARKER_VAR}={marker}; "
            f"\\builtin eval $'{literal}' </dev/null >&{_OUTPUT_FD} 2>&{_OUTPUT_FD}; "
            f"__srl_swe_rc=$?; {_UNSHADOW}\\builtin unset {MARKER_VAR}; {count}__srl_swe_pids=-; "
            f'\\builtin printf \'%s%s %s %s\\n\' {token[:8]} {token[8:]} "$__srl_swe_rc" "$__srl_swe_pids" '
            f">&{_OUTPUT_FD}\n"
        )
        try:
            self._socket.sendall(line.encode("ascii"))
        except OSError:
            raise self._exited() from None
        return token

    def _read_until(
        self, token: str, output: BoundedOutput, deadline: float
    ) -> tuple[int, int | None] | None:
        """Streams output into `output` until the end token; returns (exit code, process count or None),
        None at the deadline."""
        needle = token.encode() + b" "
        pending = bytearray()
        while True:
            chunk = self._stream.read(deadline - time.monotonic())
            if not chunk:
                output.append(bytes(pending))
                if chunk is None:
                    return None
                raise self._exited()
            pending += chunk
            found = pending.find(needle)
            if found >= 0:
                output.append(bytes(pending[:found]))
                rest = bytes(pending[found + len(needle) :])
                while b"\n" not in rest:
                    more = self._stream.read(KILL_GRACE_S)
                    if not more:
                        raise self._exited()
                    rest += more
                trailer, _, leftover = rest.partition(b"\n")
                self._stream.unread(leftover)  # what background jobs printed after: the next action's
                code, _, pids = trailer.decode("ascii", "replace").partition(" ")
                return int(code), int(pids) if pids.isdigit() else None
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
                    reap = self._send_action(_REAP, marker)
                    if self._read_until(reap, output, time.monotonic() + _RETURN_GRACE_S) is not None:
                        return []
            except _ShellExited as exited:  # the action had replaced the shell (`exec sleep 600`)
                return self._after_exit(exited.exit_code)
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
                reap = self._send_action(_REAP, "reap")
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

    def _after_exit(self, exit_code: int) -> list[str]:
        """Handles a shell that exited: kills what it left (background="kill") or checks that the container
        still runs commands; restarts it when not (`kill -9 -1` ends its init); returns the notes."""
        self._discard()
        probe = kill_marked_argv(_EVERY_ACTION, self._pid) if self._background == "kill" else ["true"]
        if not self._sandbox.run_bounded(probe, KILL_BUDGET_S):
            return [
                self._restart_container(f"the shell exited with status {exit_code} and the container stopped")
            ]
        return [f"[the shell exited with status {exit_code}] {_RESTART_NOTE}"]

    def _restart_container(self, why: str) -> str:
        """Restarts the container through the engine (files kept, every process ended); returns the note."""
        self._discard()
        self._sandbox.restart()
        return (
            f"[{why}: the container was restarted; files are kept, every process in it ended] {_RESTART_NOTE}"
        )

    def _exited(self) -> _ShellExited:
        """Returns the error for a shell that exited, with its exit code once the engine reports it."""
        deadline = time.monotonic() + _RETURN_GRACE_S
        state: dict = {"Running": True, "ExitCode": None}
        with contextlib.suppress(docker.errors.APIError):
            while time.monotonic() < deadline:
                state = self._api.exec_inspect(self._exec_id)
                if not state["Running"] and state["ExitCode"] is not None:
                    break
                time.sleep(0.01)
        return _ShellExited(state["ExitCode"] if state["ExitCode"] is not None else -1)

    def _discard(self) -> None:
        """Drops the socket (a shell still at its prompt exits on end of input); returns nothing."""
        if self._stream is None:
            return
        self._stream = None
        with contextlib.suppress(OSError):
            self._socket.close()


class _ShellExited(Exception):
    """The shell's process ended (its output stream closed)."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"the shell exited with status {exit_code}")
        self.exit_code = exit_code


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
