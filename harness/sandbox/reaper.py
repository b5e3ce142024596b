"""Removing sandbox containers left behind by processes that died (e.g. killed with SIGKILL).

python -m harness.sandbox.reaper              # containers whose owner process is gone
python -m harness.sandbox.reaper --all --older-than 3600   # every sandbox container over an hour old
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time

import docker
import docker.errors
from docker.models.containers import Container

from harness.sandbox import labels
from harness.sandbox.engine import connect_engine
from harness.sandbox.errors import SandboxError


def reap(
    older_than_s: float = 0, only_dead_owners: bool = True, client: docker.DockerClient | None = None
) -> int:
    """Removes labelled sandbox containers at least `older_than_s` old; returns how many were removed.

    With `only_dead_owners` a container is removed only when it was made on this host by a process that
    no longer exists; without it, every labelled container old enough is removed, live owners or not.
    """
    client = client or connect_engine()
    now = time.time()
    removed = 0
    for container in client.containers.list(all=True, filters=labels.SANDBOX_FILTER):
        if now - _created(container) < older_than_s:
            continue
        if only_dead_owners and not _owner_is_gone(container):
            continue
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:  # removed meanwhile, e.g. by its owner closing it
            continue
        removed += 1
    return removed


def _created(container: Container) -> float:
    """Returns the creation time from our label; an unreadable one counts as created now (kept)."""
    try:
        return float(container.labels.get(labels.CREATED, ""))
    except ValueError:
        return time.time()


def _owner_is_gone(container: Container) -> bool:
    """Returns whether the owner process is known dead; owners on other hosts cannot be checked (kept)."""
    if container.labels.get(labels.OWNER_HOST) != socket.gethostname():
        return False
    try:
        pid = int(container.labels.get(labels.OWNER_PID, ""))
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def main(argv: list[str] | None = None) -> int:
    """Runs the reaper from the command line; returns the exit status (2: the engine did not answer)."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.sandbox.reaper", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--all", action="store_true", help="remove containers of live owners too (default: dead owners only)"
    )
    parser.add_argument(
        "--older-than", type=float, default=0, metavar="SECONDS", help="only containers at least this old"
    )
    args = parser.parse_args(argv)
    try:
        removed = reap(older_than_s=args.older_than, only_dead_owners=not args.all)
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"removed {removed} sandbox container(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
