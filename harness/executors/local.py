"""The default executor: a thread pool grading on this machine's engine (DOCKER_HOST or the local socket)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from harness.executors.base import GradeJob, GradeOutcome, Grader, grade_job
from harness.instances import TaskInstance


def engine_image_id(image: str) -> str | None:
    """Return the engine's id of `image` (sha256:...), or None when the engine or the image is not there."""
    try:
        from harness.sandbox.engine import connect_engine

        return connect_engine().images.get(image).id
    except Exception:  # no engine, no image: nothing to match a cached result against
        return None


class LocalExecutor:
    """Grades `workers` jobs at a time in threads of this process."""

    def __init__(self, workers: int = 1, image_id: Callable[[str], str | None] = engine_image_id) -> None:
        self.workers = max(1, workers)
        self._image_id = image_id

    def image_ids(self, instances: Sequence[TaskInstance]) -> dict[str, str | None]:
        """Return image -> this engine's id of it (None when absent)."""
        return {image: self._image_id(image) for image in {instance.image for instance in instances}}

    def run(self, jobs: Sequence[GradeJob], grader: Grader) -> Iterator[GradeOutcome]:
        """Grade the jobs in the pool; yield each outcome as it finishes."""
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="grade") as pool:
            futures = [pool.submit(grade_job, job, grader) for job in jobs]
            for future in as_completed(futures):
                yield future.result()
