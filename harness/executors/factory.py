"""Choosing an executor by name, as the command lines do (`--executor local|ray`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from harness.executors.base import Executor
from harness.executors.local import LocalExecutor


@contextlib.contextmanager
def open_executor(
    kind: str = "local",
    *,
    workers: int = 1,
    address: str | None = None,
    max_retries: int = 2,
    pull: bool = True,
) -> Iterator[Executor]:
    """Yield the executor called `kind`, closed at the end of the block: `local` (`workers` threads) or
    `ray` (the cluster at `address`, or a local one with `workers` sandbox slots; an instance whose worker
    died is regraded at most `max_retries` times; nodes pull missing images when `pull`)."""
    if kind == "local":
        yield LocalExecutor(workers)
        return
    if kind != "ray":
        raise ValueError(f"executor must be local or ray, not {kind!r}")
    from harness.executors.ray_executor import RayExecutor

    with RayExecutor(address, slots=workers, max_retries=max_retries, pull=pull) as executor:
        yield executor
