"""The sandbox contract: what every sandbox backend offers, written out in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable

TIMEOUT_EXIT_CODE = 137
"""Exit code reported for a command killed at its timeout (128 + SIGKILL, as a shell reports it)."""

MARKER_VAR = "SRL_SWE_EXEC_ID"
"""Environment variable holding a command's unique id, inherited by everything the command starts: at the
timeout, backends kill every process that carries it, including those that left the process group."""

KILL_MARKED_SCRIPT = (
    "declare -A killed; calm=0; for _ in {1..20}; do left=; for d in /proc/[0-9]*; do p=${d#/proc/}; "
    '[[ $p == "$$" || $p == "$2" ]] && continue; read -r st < "$d/stat" || continue; st=(${st##*) }); '
    "p+=:${st[19]}; [[ ${st[0]} == [ZX] || -n ${killed[$p]} ]] && continue; "
    'hit=; [[ -n $2 && ${st[2]} == "$2" ]] && hit=1; '
    '[[ -z $hit ]] && while IFS= read -r -d "" e; do [[ $e == $1 ]] && { hit=1; break; }; '
    'done < "$d/environ"; '
    '[[ -n $hit ]] && kill -STOP "${p%:*}" && left+=" $p"; done 2>/dev/null; '
    "if [[ -z $left ]]; then ((++calm < 3)) || exit 0; else calm=0; for p in $left; do killed[$p]=1; "
    'kill -KILL "${p%:*}"; done 2>/dev/null; fi; read -r -t 0.01 _; done; exit 1'
)
"""`bash -c` script killing every process whose environment holds an entry matching the glob "$1"
(`MARKER_VAR=<id>`, or `MARKER_VAR=*` for every command's) and, when "$2" is a pid, every other process of
its process group (a shell's subshells are forks: their environment is the shell's, without the marker;
and only root with CAP_SYS_PTRACE may read another exec's environment when commands run as a `user`).
Each round stops the ones it finds (a stopped process cannot fork) then kills them; it exits 0 once three
rounds in a row, 10 ms apart (`read -t` on an open stdin: no fork), found no new one, 1 after 20 rounds.
A killed process may take a while to die in a container out of CPU quota: it is not waited for (it is
known by pid and start time, as pids are soon reused). Builtins only, so it works when no pid is left."""


@dataclass(frozen=True)
class CommandResult:
    """What one command returned: its output (stdout and stderr interleaved) and how it ended."""

    output: str
    exit_code: int
    timed_out: bool
    duration_s: float
    truncated: bool
    restarted: str | None = None
    """What had to be started again because of (or before) this command: "shell", "container" or None."""


@runtime_checkable
class Sandbox(Protocol):
    """A place holding a repository where commands run with a timeout and files are read and written."""

    def run(self, command: str, timeout_s: float | None = None, workdir: str | None = None) -> CommandResult:
        """Runs `command` with bash; returns its result. None: the sandbox's default timeout / workdir."""
        ...

    def write_file(self, path: str, data: str | bytes, mode: int = 0o644) -> None:
        """Writes `data` to `path` (relative paths: from the workdir; parents created); returns nothing."""
        ...

    def read_file(self, path: str) -> bytes:
        """Returns the bytes of the file at `path`; raises FileNotFoundError when there is none."""
        ...

    def close(self) -> None:
        """Releases the sandbox; safe to call more than once."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...
