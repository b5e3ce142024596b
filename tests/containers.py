"""Which sandbox containers of given processes are still on the engine (for the no-container-left tests)."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from harness.sandbox import labels
from harness.sandbox.engine import connect_engine


def containers_of(pids: Iterable[int]) -> list[str]:
    """Return the ids of the sandbox containers that one of ``pids`` (processes of this host) made and that
    still exist."""
    owners = {str(pid) for pid in pids}
    return [
        summary["Id"]
        for summary in connect_engine().api.containers(all=True, filters=labels.SANDBOX_FILTER)
        if summary.get("Labels", {}).get(labels.OWNER_PID) in owners
        and summary.get("Labels", {}).get(labels.OWNER_HOST) == socket.gethostname()
    ]
