"""Settings of a sandbox, with their defaults documented where they are declared."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SandboxConfig:
    """How a sandbox is made and how its commands run.

    `DockerSandbox` uses every field; `LocalSandbox` uses only `timeout_s`, `max_output_bytes`, `workdir`,
    `env` and `shell` (it has no isolation to configure).
    """

    image: str = "srl-swe/base:bookworm"
    """Image the container starts from; it must already be on the engine (nothing is pulled)."""
    memory: str | None = "4g"
    """Memory limit in docker's notation ("4g", "512m"); None for no limit."""
    pids_limit: int | None = 1024
    """Most processes the container may hold (bounds fork bombs); None for no limit."""
    cpus: float | None = 1.0
    """CPUs the container may use (a CFS quota, e.g. 1.5); None for no limit. One core by default, so that
    one episode's busy loops or fork bombs cannot take a whole host (one left 44 runnable processes on 2
    cores without it); run at most cores − 1 containers at once to leave the host a core. The engine
    rejects more than it has."""
    network_mode: str = "none"
    """Docker network mode; "none" (the default) leaves only loopback. "bridge" gives network access."""
    init: bool = True
    """Run an init process as PID 1 so that orphaned processes are reaped (podman needs catatonit)."""
    no_new_privileges: bool = True
    """Start the container with `no-new-privileges`: setuid binaries (su, sudo) cannot raise privileges."""
    cap_drop: tuple[str, ...] = ("AUDIT_WRITE", "MKNOD", "NET_RAW", "SETFCAP", "SYS_CHROOT")
    """Capabilities dropped from the engine's defaults. Kept: what package installs and test suites use
    (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETUID, SETGID, SETPCAP, NET_BIND_SERVICE)."""
    user: str | None = None
    """User every command runs as ("1000:1000", or a name the image knows); None: the image's user (root in
    SWE-bench images). The container itself runs as the image's user, which hands the workdir to this one
    at start (an exec as root in a container made for another user would hold no capabilities)."""
    disk_limit: str | None = "10g"
    """Most bytes the container may write (docker's notation). A quota (`--storage-opt size`) where the
    engine supports one (overlay2 on xfs with pquota); elsewhere every file is capped at this size
    (RLIMIT_FSIZE, which also stops `fallocate`) and `disk_usage_bytes` reports the total for a watcher
    (SWEEnv ends the episode past it). None: no limit."""
    timeout_s: float = 120.0
    """Timeout of a command when `run` is not given one; the command and its children are killed then."""
    max_output_bytes: int = 100_000
    """Most output bytes a command returns; beyond that its head and tail are kept around a marker."""
    workdir: str = "/testbed"
    """Directory commands start in and relative file paths are resolved against."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment variables for the container / every command."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra container labels, added to the `srl_swe.*` labels that the reaper reads."""
    shell: tuple[str, ...] = ("bash", "-lc")
    """Command line that runs a command string; a login shell picks up images' profile (e.g. conda)."""
