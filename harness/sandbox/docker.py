"""`DockerSandbox`: a long-lived container on a Docker engine (or podman's docker-compatible socket).

Commands run through exec in `config.shell`; each carries a unique marker variable in its environment,
so that at its timeout the command and every process it started (even in a new session) are found in
`/proc` and killed, and the container stays usable. That killer uses bash builtins only and has a hard
deadline (KILL_BUDGET_S); when it cannot finish in time (a fork bomb holds every pid, so nothing starts),
the engine restarts the container, which needs no process inside it: its files are kept, all its
processes end. Files move as in-memory tar archives.

Hardening (see SandboxConfig): a CPU quota, `no-new-privileges`, dropped capabilities, an optional user,
and a disk limit: a quota where the storage driver has one (overlay2 on xfs), else a per-file size limit
(command_prefix) plus `disk_usage_bytes` for a watcher.

Kept to what podman's compatible API also offers: no `auto_remove` (it races with reading the result),
no runtimes, swap or kernel-memory limits, no exec `Pid`, and no docker CLI; a storage quota is asked
for only where the engine reports overlay2 on xfs.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import select
import socket
import tarfile
import time
import uuid
from typing import Any, Self

import docker
import docker.errors
from docker.models.containers import Container
from docker.utils.socket import frames_iter

from harness.sandbox.base import KILL_MARKED_SCRIPT, MARKER_VAR, TIMEOUT_EXIT_CODE, CommandResult
from harness.sandbox.config import SandboxConfig
from harness.sandbox.engine import connect_engine, require_image
from harness.sandbox.errors import SandboxError
from harness.sandbox.labels import sandbox_labels
from harness.sandbox.lifecycle import track, untrack
from harness.sandbox.output import collect_output

STDERR_INTO_STDOUT = ("sh", "-c", 'exec "$@" 2>&1', "sh")
"""Prefix that gives the shell one output pipe, so stdout and stderr keep their order (exec keeps two)."""


def command_prefix(config: SandboxConfig) -> tuple[str, ...]:
    """Returns what every command of a sandbox with `config` runs under: STDERR_INTO_STDOUT and, with a disk
    limit, a cap on the size of any file it writes (RLIMIT_FSIZE through sh's `ulimit -f`, in 512-byte
    blocks; root in the container cannot raise it without CAP_SYS_RESOURCE, which Docker does not grant).

    Set per command rather than as the container's ulimit: podman replaces its containers.conf
    `default_ulimits` by a container's own, and its built-in open-files default then exceeds what a host
    like this one allows, so no container would start."""
    if config.disk_limit is None:
        return STDERR_INTO_STDOUT
    blocks = docker.utils.parse_bytes(config.disk_limit) // 512
    return ("sh", "-c", f'ulimit -f {blocks}; exec "$@" 2>&1', "sh")


KILL_BUDGET_S = 0.8
"""Longest a kill inside the container may take before the engine restarts the container instead."""
ROOT_USER = "0"
"""Exec user for what only root may do (handing the workdir to `SandboxConfig.user`)."""
ADMIN_SHELL = ("bash", "--noprofile", "--norc", "-c")
"""Shell for commands that must not run the container's profile or rc files (which an episode may have
written): `run(..., shell=ADMIN_SHELL)`."""

IMAGE_CACHE_BYTES = 16 << 20
"""Most bytes of image archives (`image_archive`) a sandbox keeps for later calls."""

_EXIT_CODE_WAIT_S = 5.0
_MAX_SYMLINK_HOPS = 8
_quota_support: dict[str, bool] = {}
"""Whether an engine (by its address) takes a storage quota; learned once per process."""


class DockerSandbox:
    """A sandbox in one container started from `config.image`, removed by `close()`."""

    def __init__(
        self, config: SandboxConfig | None = None, client: docker.DockerClient | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        self._client = client or connect_engine()
        require_image(self._client, self.config.image)
        self._reference: Container | None = None
        self._image_files: dict[str, bytes] = {}
        self._container: Container | None = self._start_container()
        track(self)

    @property
    def container_id(self) -> str:
        """Returns the id of the container (also after close)."""
        return self._container_id

    @property
    def client(self) -> docker.DockerClient:
        """Returns the engine client the sandbox talks through (for streams `run` does not offer)."""
        return self._client

    def run(
        self,
        command: str,
        timeout_s: float | None = None,
        workdir: str | None = None,
        *,
        user: str | None = None,
        shell: tuple[str, ...] | None = None,
    ) -> CommandResult:
        """Runs `command` in the container; returns its result, killed with its children at the timeout.

        `user` and `shell` replace the config's for this command (e.g. ROOT_USER and ADMIN_SHELL for the
        env's own upkeep, which must not run what an episode wrote into the login shell's start files).
        """
        container = self._open_container()
        marker = uuid.uuid4().hex
        started = time.monotonic()
        exec_id, sock = self._start_exec(
            container,
            command,
            workdir or self.config.workdir,
            marker,
            self.config.user if user is None else user,
            shell or self.config.shell,
        )
        raw = getattr(sock, "_sock", sock)
        raw.settimeout(None)  # a command may stay silent longer than the client's HTTP timeout
        try:
            collected = collect_output(
                (data for _, data in frames_iter(sock, tty=False)),
                self.config.timeout_s if timeout_s is None else timeout_s,
                self.config.max_output_bytes,
                kill=lambda: self._kill_marked(marker),
                abandon=lambda: _shut(raw),
            )
        finally:
            sock.close()
        exit_code = TIMEOUT_EXIT_CODE if collected.timed_out else self._exit_code(exec_id)
        return CommandResult(
            output=collected.text,
            exit_code=exit_code,
            timed_out=collected.timed_out,
            duration_s=time.monotonic() - started,
            truncated=collected.truncated,
        )

    def run_bounded(self, argv: list[str], timeout_s: float, user: str | None = None) -> bool:
        """Runs `argv` (as `user`, default the config's) with a hard deadline, ignoring its output; returns
        whether it exited 0 in time. Never raises: a stopped, gone or process-full container answers False.

        The killers run as the commands' own user: root without CAP_SYS_PTRACE cannot read another user's
        /proc/PID/environ, where the markers are.
        """
        api = self._client.api
        deadline = time.monotonic() + timeout_s
        try:
            exec_id = api.exec_create(
                self._container_id, argv, stdin=True, user=user or self.config.user or ""
            )["Id"]  # an open stdin that never speaks lets `read -t` pause without a fork
            sock = api.exec_start(exec_id, socket=True)
        except docker.errors.APIError:
            return False
        raw = getattr(sock, "_sock", sock)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([raw], [], [], remaining)[0]:
                    return False
                if not raw.recv(1 << 16):
                    break
        except OSError:
            return False
        finally:
            sock.close()
        with contextlib.suppress(docker.errors.APIError):
            while time.monotonic() < deadline:
                state = api.exec_inspect(exec_id)
                if not state["Running"] and state["ExitCode"] is not None:
                    return state["ExitCode"] == 0
                time.sleep(0.005)
        return False

    def restart(self) -> None:
        """Kills every process in the container through the engine and starts it again; returns nothing.

        Files are kept (tmpfs mounts such as /dev/shm are emptied); raises SandboxError when the engine
        cannot start it again.
        """
        self._open_container()
        try:
            self._client.api.restart(self._container_id, timeout=0)
        except docker.errors.APIError as error:
            raise SandboxError(
                f"could not restart container {self._container_id[:12]}: {error.explanation}"
            ) from None

    def disk_usage_bytes(self) -> int:
        """Returns the bytes the container wrote (its writable layer), as the engine reports them."""
        api = self._client.api
        self._open_container()
        response = api._get(api._url("/containers/{0}/json", self._container_id), params={"size": 1})
        return int(api._result(response, json=True).get("SizeRw") or 0)

    def changes(self) -> list[tuple[str, str]]:
        """Returns the engine's changes of the container against its image (what `docker diff` lists), as
        (kind, path) pairs with kind "A" (added), "C" (changed) or "D" (deleted)."""
        self._open_container()
        try:
            found = self._client.api.diff(self._container_id) or []
        except docker.errors.APIError as error:
            raise SandboxError(f"the engine could not list the changes: {error.explanation}") from None
        return [("CAD"[change["Kind"]], change["Path"]) for change in found]

    def image_archive(self, path: str) -> bytes:
        """Returns a tar archive of `path` (a file, a link or a whole folder) as the container's image holds
        it, members named from its base name. Read from a reference container of the same image that is
        created on first use, never started, and removed by close(); as that image cannot change, answers
        are kept (up to IMAGE_CACHE_BYTES in all). Raises FileNotFoundError when the image has no `path`,
        SandboxError when the engine cannot give it."""
        self._open_container()
        if path in self._image_files:
            return self._image_files[path]
        if self._reference is None:
            try:
                self._reference = self._client.containers.create(
                    self.config.image,
                    ["true"],
                    name=f"srl-swe-reference-{uuid.uuid4().hex[:12]}",
                    labels=sandbox_labels(self.config.labels),
                )
            except docker.errors.APIError as error:
                raise SandboxError(
                    f"could not create a reference container of {self.config.image}: {error.explanation}"
                ) from None
        try:
            chunks, _ = self._reference.get_archive(path)
            data = b"".join(chunks)
        except docker.errors.NotFound:
            raise FileNotFoundError(f"no {path} in image {self.config.image}") from None
        except docker.errors.APIError as error:
            raise SandboxError(
                f"could not read {path} from {self.config.image}: {error.explanation}"
            ) from None
        if sum(map(len, self._image_files.values())) + len(data) <= IMAGE_CACHE_BYTES:
            self._image_files[path] = data
        return data

    def container_archive(self, path: str) -> bytes:
        """Returns a tar archive of `path` (a file, a link or a whole folder) as the running container holds
        it now, members named from its base name (as `image_archive` names them). Raises FileNotFoundError
        when the container has no `path`, SandboxError when the engine cannot give it."""
        container = self._open_container()
        try:
            chunks, _ = container.get_archive(path)
            return b"".join(chunks)
        except docker.errors.NotFound:
            raise FileNotFoundError(f"no {path} in container {container.id[:12]}") from None
        except docker.errors.APIError as error:
            raise SandboxError(f"could not read {path} from the container: {error.explanation}") from None

    def put_archive(self, folder: str, data: bytes) -> None:
        """Unpacks the tar archive `data` into `folder` of the container (an existing path that an archive
        member names is replaced); returns nothing."""
        container = self._open_container()
        try:
            container.put_archive(folder, data)
        except docker.errors.APIError as error:
            raise SandboxError(f"could not unpack an archive into {folder}: {error.explanation}") from None

    def write_file(self, path: str, data: str | bytes, mode: int = 0o644) -> None:
        """Writes `data` to `path` in the container, creating missing parents; returns nothing."""
        container = self._open_container()
        payload = data.encode() if isinstance(data, str) else data
        member = tarfile.TarInfo(self._absolute(path).lstrip("/"))
        member.size, member.mode, member.mtime = len(payload), mode, int(time.time())
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.addfile(member, io.BytesIO(payload))
        try:
            container.put_archive("/", archive.getvalue())
        except docker.errors.APIError as error:
            raise SandboxError(f"could not write {path} in the sandbox: {error.explanation}") from None

    def read_file(self, path: str) -> bytes:
        """Returns the bytes of the file at `path` in the container (symlinks followed)."""
        container = self._open_container()
        target = self._absolute(path)
        for _ in range(_MAX_SYMLINK_HOPS):
            member, content = _fetch_member(container, target)
            if member.issym():
                target = posixpath.normpath(posixpath.join(posixpath.dirname(target), member.linkname))
                continue
            if not member.isfile():
                raise IsADirectoryError(f"not a regular file in the sandbox: {target}")
            return content
        raise SandboxError(f"too many symlinks resolving {path} in the sandbox")

    def close(self) -> None:
        """Removes the container (forced, with its anonymous volumes); safe to call more than once."""
        container, self._container = self._container, None
        if container is None:
            return
        untrack(self)
        reference, self._reference = self._reference, None
        if reference is not None:
            with contextlib.suppress(docker.errors.APIError):
                reference.remove(force=True)
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            raise SandboxError(
                f"could not remove container {container.short_id}: {error.explanation}"
            ) from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start_container(self) -> Container:
        """Creates and starts the container; removes it again when it cannot start."""
        config = self.config
        options = _container_options(config)
        quota = config.disk_limit is not None and _takes_quota(self._client)
        try:
            quota_option = {"storage_opt": {"size": config.disk_limit}} if quota else {}
            container = self._create(options | quota_option)
        except docker.errors.APIError as error:
            if not quota:
                raise SandboxError(
                    f"could not create a container from {config.image}: {error.explanation}"
                ) from None
            _quota_support[self._client.api.base_url] = False  # xfs without pquota: the per-file limit
            return self._start_container()
        self._container_id = container.id
        try:
            container.start()
        except docker.errors.APIError as error:
            with contextlib.suppress(docker.errors.APIError):  # the start failure is the error to report
                container.remove(force=True)
            raise SandboxError(
                f"could not start a container from {config.image}: {error.explanation}"
            ) from None
        handed = config.user is None or self.run_bounded(
            ["chown", "-R", config.user, config.workdir], config.timeout_s, user=ROOT_USER
        )
        if not handed:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
            raise SandboxError(f"could not hand {config.workdir} to user {config.user} in {config.image}")
        return container

    def _create(self, options: dict[str, Any]) -> Container:
        """Creates (does not start) the container with `options`; returns it."""
        return self._client.containers.create(
            self.config.image,
            ["sleep", "infinity"],
            name=f"srl-swe-sandbox-{uuid.uuid4().hex[:12]}",
            labels=sandbox_labels(self.config.labels),
            **options,
        )

    def _open_container(self) -> Container:
        if self._container is None:
            raise SandboxError(f"sandbox {self._container_id[:12]} is closed")
        return self._container

    def _absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.config.workdir, path))

    def _start_exec(
        self, container: Container, command: str, workdir: str, marker: str, user: str | None, shell: tuple
    ) -> tuple[str, Any]:
        """Starts `command` through exec; returns the exec id and the socket carrying its output."""
        api = self._client.api
        try:
            exec_id = api.exec_create(
                container.id,
                [*command_prefix(self.config), *shell, command],
                workdir=workdir,
                environment={MARKER_VAR: marker},
                user=user or "",
            )["Id"]
            return exec_id, api.exec_start(exec_id, socket=True)
        except docker.errors.APIError as error:
            raise SandboxError(f"could not run in {container.short_id}: {error.explanation}") from None

    def _kill_marked(self, marker: str) -> None:
        """Kills the command's processes; restarts the container (files kept) when that cannot be done in
        KILL_BUDGET_S, e.g. when the command used up the pids limit so that no killer can start."""
        if not self.run_bounded(kill_marked_argv(marker), KILL_BUDGET_S):
            self.restart()

    def _exit_code(self, exec_id: str) -> int:
        """Returns the exit code of a finished exec, waiting briefly for engines that report it late."""
        deadline = time.monotonic() + _EXIT_CODE_WAIT_S
        while True:
            state = self._client.api.exec_inspect(exec_id)
            if not state["Running"] and state["ExitCode"] is not None:
                return state["ExitCode"]
            if time.monotonic() > deadline:
                raise SandboxError(f"the engine reported no exit code for exec {exec_id[:12]}")
            time.sleep(0.01)


def kill_marked_argv(marker: str, group: int | None = None) -> list[str]:
    """Returns the command line that kills every process carrying `marker` ("*": any) and the rest of
    process group `group` (see KILL_MARKED_SCRIPT)."""
    return ["bash", "-c", KILL_MARKED_SCRIPT, "bash", f"{MARKER_VAR}={marker}", str(group or "")]


def _container_options(config: SandboxConfig) -> dict[str, Any]:
    """Returns the create() arguments for `config`'s limits and hardening (no storage quota)."""
    options: dict[str, Any] = {
        "init": config.init,
        "network_mode": config.network_mode,
        "working_dir": config.workdir,
        "environment": config.env,
        "mem_limit": config.memory,
        "pids_limit": config.pids_limit,
        "nano_cpus": None if config.cpus is None else int(config.cpus * 1e9),
        "security_opt": ["no-new-privileges"] if config.no_new_privileges else None,
        "cap_drop": list(config.cap_drop) or None,
    }
    return {key: value for key, value in options.items() if value is not None}


def _takes_quota(client: docker.DockerClient) -> bool:
    """Returns whether the engine's storage driver takes a per-container size (overlay2 on xfs)."""
    address = client.api.base_url
    if address not in _quota_support:
        info = client.info()
        backing = dict(info.get("DriverStatus") or []).get("Backing Filesystem")
        _quota_support[address] = info.get("Driver") == "overlay2" and backing == "xfs"
    return _quota_support[address]


def _fetch_member(container: Container, path: str) -> tuple[tarfile.TarInfo, bytes]:
    """Returns the archive entry for `path` and, for a regular file, its bytes."""
    try:
        chunks, _ = container.get_archive(path)
    except docker.errors.NotFound:
        raise FileNotFoundError(f"no such file in the sandbox: {path}") from None
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        member = tar.next()
        if member is None:
            raise SandboxError(f"the engine returned an empty archive for {path}")
        handle = tar.extractfile(member) if member.isfile() else None
        return member, handle.read() if handle else b""


def _shut(raw: Any) -> None:
    """Shuts a socket down so a thread blocked reading it wakes up."""
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_RDWR)
