"""`LocalSandbox`: a temporary git work tree on this machine. UNSAFE — no isolation; for debugging only.

File paths are read as paths of a private root: `/testbed/a.py` is `<root>/testbed/a.py`, and the work
tree is the root's `config.workdir`. Commands, though, run directly on this machine as this user: they
see and can change the real file system, the network and every process of the user.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import git

from harness.sandbox.base import MARKER_VAR, TIMEOUT_EXIT_CODE, CommandResult
from harness.sandbox.config import SandboxConfig
from harness.sandbox.errors import SandboxError
from harness.sandbox.lifecycle import track, untrack
from harness.sandbox.output import collect_output

logger = logging.getLogger(__name__)

_READ_SIZE = 65536
_POLL_S = 0.1
_KILL_ROUNDS = 5


class LocalSandbox:
    """UNSAFE: a clone of a local git repository at `commit` in a temporary directory, removed by `close()`.

    Commands run as subprocesses of this process, in a new process group, with no isolation at all:
    use it only to debug agent actions quickly without a container engine, never for untrusted actions.
    Resource and network settings of `config` are ignored.
    """

    def __init__(self, repo: str | Path, commit: str, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.root = Path(tempfile.mkdtemp(prefix="srl-swe-local-sandbox-"))
        self.tree = self._host_path(self.config.workdir)
        logger.warning(
            "LocalSandbox is UNSAFE: commands run on this machine without isolation (work tree %s)", self.tree
        )
        track(self)
        try:
            _check_out(repo, commit, self.tree)
        except SandboxError:
            self.close()
            raise

    def run(self, command: str, timeout_s: float | None = None, workdir: str | None = None) -> CommandResult:
        """Runs `command` on this machine in the work tree; returns its result, killed with its children at
        the timeout."""
        self._require_open()
        marker = uuid.uuid4().hex
        started = time.monotonic()
        process = subprocess.Popen(
            [*self.config.shell, command],
            cwd=self._host_path(workdir or self.config.workdir),
            env={**os.environ, **self.config.env, MARKER_VAR: marker},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stop_reading = threading.Event()
        with process.stdout:
            collected = collect_output(
                _chunks(process.stdout.fileno(), stop_reading),
                self.config.timeout_s if timeout_s is None else timeout_s,
                self.config.max_output_bytes,
                kill=lambda: _kill_marked(process.pid, marker),
                abandon=stop_reading.set,
            )
        returncode = process.wait()
        return CommandResult(
            output=collected.text,
            exit_code=TIMEOUT_EXIT_CODE if collected.timed_out else _shell_exit_code(returncode),
            timed_out=collected.timed_out,
            duration_s=time.monotonic() - started,
            truncated=collected.truncated,
        )

    def write_file(self, path: str, data: str | bytes, mode: int = 0o644) -> None:
        """Writes `data` to `path` under the private root, creating missing parents; returns nothing."""
        target = self._host_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
        target.chmod(mode)

    def read_file(self, path: str) -> bytes:
        """Returns the bytes of the file at `path` under the private root."""
        target = self._host_path(path)
        if not target.exists():
            raise FileNotFoundError(f"no such file in the sandbox: {path}")
        return target.read_bytes()

    def close(self) -> None:
        """Deletes the temporary directory; safe to call more than once."""
        untrack(self)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _host_path(self, path: str) -> Path:
        """Returns where a sandbox path (absolute, or relative to the workdir) lies under the private root."""
        absolute = posixpath.normpath(posixpath.join("/", self.config.workdir, path))
        return self.root / absolute.lstrip("/")

    def _require_open(self) -> None:
        if not self.root.exists():
            raise SandboxError(f"local sandbox {self.root} is closed")


def _check_out(repo: str | Path, commit: str, dest: Path) -> None:
    """Clones `repo` into `dest` at `commit` (detached); raises SandboxError with git's complaint."""
    try:
        clone = git.Repo.clone_from(str(repo), dest, no_checkout=True)
        with clone:
            clone.git.checkout("--quiet", "--detach", commit)
    except git.GitCommandError as error:
        complaint = _first_line_of_stderr(error)
        raise SandboxError(f"could not check out {commit} of {repo}: {complaint}") from None


def _first_line_of_stderr(error: git.GitCommandError) -> str:
    """Returns the first line git wrote to stderr (GitPython wraps it as "stderr: '...'")."""
    text = str(error.stderr).strip().removeprefix("stderr: ")
    text = text[1:-1] if len(text) > 1 and text[0] == text[-1] == "'" else text
    return (text.strip().splitlines() or [f"git exit status {error.status}"])[0]


def _chunks(fd: int, stop: threading.Event) -> Iterator[bytes]:
    """Yields what arrives on `fd` until end of file or until `stop` is set."""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], _POLL_S)
        if not ready:
            continue
        chunk = os.read(fd, _READ_SIZE)
        if not chunk:
            return
        yield chunk


def _kill_marked(group: int, marker: str) -> None:
    """Kills the command's process group and every process whose environment holds the marker."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    needle = f"{MARKER_VAR}={marker}".encode()
    for _ in range(_KILL_ROUNDS):
        marked = [pid for pid in _pids() if needle in _environ(pid)]
        if not marked:
            return
        for pid in marked:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _pids() -> list[int]:
    """Returns the ids of the processes visible in /proc (none where there is no /proc)."""
    proc = Path("/proc")
    return [int(entry.name) for entry in proc.iterdir() if entry.name.isdigit()] if proc.is_dir() else []


def _environ(pid: int) -> list[bytes]:
    """Returns the environment entries a process started with (empty when it cannot be read)."""
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return []


def _shell_exit_code(returncode: int) -> int:
    """Returns a subprocess return code the way a shell reports it (128 + signal for a killed process)."""
    return 128 - returncode if returncode < 0 else returncode
