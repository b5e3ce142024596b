"""The body of a Ray sandbox worker: grades jobs on its own node's engine (DOCKER_HOST in the worker's
environment, or the local socket). Plain Python: `harness.executors.ray_executor` makes it an actor.

At start it removes the containers that dead processes left on its node (the reaper). Before grading an
instance it makes the instance's image present (a demo image built, another pulled), one worker of a node at
a time (a file lock), so a node pulls an image once and only the images of the instances it grades; `close`
closes its sandboxes and reaps again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.executors.base import GradeJob, GradeOutcome, Grader, grade_job
from harness.executors.local import engine_image_id
from harness.instances import TaskInstance

NODE_LOCK = "srl_swe-images.lock"
"""File in the node's temporary folder that serialises image builds and pulls between its workers."""


@contextlib.contextmanager
def node_lock(path: Path | None = None) -> Iterator[None]:
    """Hold this node's image lock (an exclusive flock) for the `with` block."""
    path = path or Path(tempfile.gettempdir()) / NODE_LOCK
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SandboxWorker:
    """Grades one job at a time on this node's engine; every method returns plain data (errors as text)."""

    def __init__(self) -> None:
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.problem: str | None = None
        self._ensured: set[str] = set()
        self.reaped = self._reap()

    def where(self) -> dict[str, object]:
        """Return host, pid, node id, containers reaped at start, and the problem that stops it (or None)."""
        import ray

        node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
        return {
            "host": self.host,
            "pid": self.pid,
            "node": node,
            "reaped": self.reaped,
            "problem": self.problem,
        }

    def image_ids(self, images: Sequence[str]) -> dict[str, str | None]:
        """Return image -> this node's engine id of it (None where the node does not hold it)."""
        return {image: engine_image_id(image) for image in images}

    def _ensure_image(self, instance: TaskInstance, pull: bool) -> None:
        """Make the instance's image present on this node (build a demo one, pull another when `pull`),
        one worker of the node at a time; a worker checks each image once."""
        from harness.images import ensure_images

        if instance.image in self._ensured:
            return
        with node_lock():
            ensure_images([instance], pull=pull, progress=False)
        self._ensured.add(instance.image)

    def grade(
        self, job: GradeJob, grader: Grader, pull: bool = True
    ) -> tuple[GradeOutcome, dict[str, bytes], str]:
        """Grade one job into a scratch folder, its image made present first (pulled when `pull`); return
        (outcome, the folder's files by name, the folder)."""
        iid = job.instance.instance_id
        if self.problem:
            return GradeOutcome(iid, error=self.problem), {}, ""
        try:
            self._ensure_image(job.instance, pull)
        except Exception as error:  # missing and not to be pulled, no registry, no disk: this one fails
            return GradeOutcome(iid, error=f"{self.host}: {type(error).__name__}: {error}"), {}, ""
        scratch = Path(tempfile.mkdtemp(prefix="srl-swe-worker-"))
        try:
            outcome = grade_job(job, grader, scratch)
            files = {p.name: p.read_bytes() for p in scratch.iterdir() if p.is_file()}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return outcome, files, str(scratch)

    def close(self) -> int:
        """Close this worker's open sandboxes and reap the node's orphans; return how many were reaped."""
        from harness.sandbox.lifecycle import close_all

        close_all()
        return self._reap()

    def _reap(self) -> int:
        """Remove the node's containers whose owner process is gone; return how many (0 without an engine,
        which is then this worker's problem)."""
        from harness.sandbox.reaper import reap

        try:
            return reap(only_dead_owners=True)
        except Exception as error:
            self.problem = f"{self.host}: {type(error).__name__}: {error}"
            return 0
