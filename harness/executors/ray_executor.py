"""The Ray executor: grading jobs run on sandbox-worker actors spread over a Ray cluster's nodes.

Each actor takes one unit of the custom resource `srl_swe_sandbox_slots` (a node started with
`ray start --resources='{"srl_swe_sandbox_slots": 8}'` runs eight), so Ray places the actors and each one
grades on its own node's engine. Jobs go to idle actors one at a time and their outcomes stream back
(`ray.wait`); the driver writes each instance's logs into its own run folder, as the local executor does. An
actor (or its node) that dies mid-instance is replaced and the instance goes to the next idle actor, at most
`max_retries` times; the causes come back in the outcome. Without an address a local cluster is started with
`slots` slots (and stopped at the end); `address="auto"` or `host:port` joins a running one.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.executors.base import GradeJob, GradeOutcome, Grader
from harness.executors.worker import SandboxWorker
from harness.instances import TaskInstance

SLOT_RESOURCE = "srl_swe_sandbox_slots"
"""Ray custom resource a node offers once per sandbox it may run at a time."""
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20
"""Object store of a local cluster started here: jobs and logs are small."""


class RayExecutorError(HarnessError):
    """Ray is missing, the cluster cannot be reached or offers no sandbox slot, or a worker has no engine;
    one line."""


class RayExecutor:
    """Grades on `SandboxWorker` actors, one per sandbox slot of the cluster; use as a context manager."""

    def __init__(
        self,
        address: str | None = None,
        *,
        slots: int = 2,
        max_retries: int = 2,
        pull: bool = True,
        start_timeout_s: float = 600.0,
    ) -> None:
        self.address, self.slots, self.max_retries, self.pull = address, max(1, slots), max_retries, pull
        self.start_timeout_s = start_timeout_s
        self.workers: dict[Any, dict[str, Any]] = {}
        """Live actor -> where it runs (host, pid, node, reaped at start)."""
        self._owns_ray = False

    def __enter__(self) -> RayExecutor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Connect to (or start) the cluster; raise RayExecutorError when Ray is missing, the cluster cannot
        be reached or offers no sandbox slot. The actors start when the first job or image check comes."""
        ray = _ray()
        if not ray.is_initialized():
            try:
                if self.address is None:
                    ray.init(
                        address="local",
                        resources={SLOT_RESOURCE: self.slots},
                        object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                        include_dashboard=False,
                        log_to_driver=False,
                        logging_level=logging.ERROR,
                    )
                else:
                    _check_reachable(self.address)
                    ray.init(address=self.address, log_to_driver=False, logging_level=logging.ERROR)
            except (ConnectionError, ValueError, RuntimeError) as error:
                raise RayExecutorError(f"Ray cluster at {self.address}: {_first_line(error)}") from None
            self._owns_ray = True
        if self.capacity() < 1:
            self.close()
            raise RayExecutorError(
                f"no node of the Ray cluster offers the {SLOT_RESOURCE} resource: start each node with "
                f"ray start ... --resources='{{\"{SLOT_RESOURCE}\": N}}'"
            )

    def capacity(self) -> int:
        """Return the sandbox slots of the whole cluster (what its nodes offer, busy or not)."""
        return int(_ray().cluster_resources().get(SLOT_RESOURCE, 0))

    def _start_workers(self) -> None:
        """Start one actor per sandbox slot (once); raise RayExecutorError when one has no engine."""
        if self.workers:
            return
        ray = _ray()
        starting = [self._new_actor() for _ in range(self.capacity())]
        infos = ray.get([actor.where.remote() for actor in starting], timeout=self.start_timeout_s)
        self.workers.update(zip(starting, infos, strict=True))
        problems = [info["problem"] for info in infos if info["problem"]]
        if problems:
            raise RayExecutorError(f"a sandbox worker cannot grade: {problems[0]}")

    def image_ids(self, instances: Sequence[TaskInstance]) -> dict[str, str | None]:
        """Return image -> its id on the nodes that hold it (None when none does, or when nodes hold
        different images under one name: then a cached result never matches). Nothing is pulled here: a
        node pulls an image when it first grades an instance of it. Workers started for this are released
        again: they hold every sandbox slot, which the episodes' RemoteEnvs need before grading starts."""
        ray = _ray()
        started_here = not self.workers
        self._start_workers()
        try:
            images = sorted({instance.image for instance in instances})
            seen: dict[str, set[str]] = {image: set() for image in images}
            for ids in ray.get([actor.image_ids.remote(images) for actor in self.workers]):
                for image, image_id in ids.items():
                    if image_id is not None:
                        seen[image].add(image_id)
        finally:
            if started_here:
                self.release_workers()
        return {image: ids.pop() if len(ids) == 1 else None for image, ids in seen.items()}

    def run(self, jobs: Sequence[GradeJob], grader: Grader) -> Iterator[GradeOutcome]:
        """Grade the jobs on the actors; yield each outcome as it comes back, its logs already written into
        the job's folder."""
        ray = _ray()
        from ray.exceptions import RayActorError

        self._start_workers()
        grader_ref = ray.put(grader)
        queue: deque[tuple[GradeJob, list[str]]] = deque((job, []) for job in jobs)
        idle = list(self.workers)
        running: dict[Any, tuple[Any, GradeJob, list[str]]] = {}
        starting: dict[Any, Any] = {}
        while queue or running:
            while idle and queue:
                actor = idle.pop()
                job, causes = queue.popleft()
                running[actor.grade.remote(job, grader_ref, self.pull)] = (actor, job, causes)
            waiting = [*running, *starting]
            ready = (
                waiting
                and ray.wait(waiting, num_returns=1, timeout=None if running else self.start_timeout_s)[0]
            )
            if not ready:  # nothing grading and no worker left or able to start
                while queue:
                    job, causes = queue.popleft()
                    yield GradeOutcome(job.instance.instance_id, error=_no_worker(causes), retries=causes)
                break
            ref = ready[0]
            if ref in starting:
                actor = starting.pop(ref)
                with contextlib.suppress(RayActorError):
                    self.workers[actor] = ray.get(ref)
                    idle.append(actor)
                continue
            actor, job, causes = running.pop(ref)
            try:
                outcome, files, scratch = ray.get(ref)
            except RayActorError as error:
                where = self.workers.pop(actor, {})
                causes = [
                    *causes,
                    f"worker {where.get('host')}:{where.get('pid')} died ({_first_line(error)})",
                ]
                if len(causes) > self.max_retries:
                    yield GradeOutcome(job.instance.instance_id, error=causes[-1], retries=causes)
                else:
                    queue.appendleft((job, causes))
                replacement = self._new_actor()
                starting[replacement.where.remote()] = replacement
                continue
            idle.append(actor)
            outcome.retries = causes
            yield _landed(outcome, files, scratch, job.log_dir)
        for actor in starting.values():
            self.workers[actor] = {}

    def release_workers(self) -> None:
        """Close and remove every worker actor (each closes its sandboxes and reaps its node), freeing their
        sandbox slots; the next grading starts new ones."""
        ray = _ray()
        if ray.is_initialized() and self.workers:
            with contextlib.suppress(Exception):
                ray.get([actor.close.remote() for actor in self.workers], timeout=120)
            for actor in self.workers:
                with contextlib.suppress(Exception):
                    ray.kill(actor)
        self.workers.clear()

    def close(self) -> None:
        """Close every actor (each closes its sandboxes and reaps its node), then stop a cluster started
        here."""
        ray = _ray()
        self.release_workers()
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        self._owns_ray = False

    def _new_actor(self) -> Any:
        ray = _ray()
        actor_class = ray.remote(SandboxWorker).options(
            num_cpus=0, resources={SLOT_RESOURCE: 1}, max_restarts=0, max_task_retries=0
        )
        return actor_class.remote()


def _landed(outcome: GradeOutcome, files: dict[str, bytes], scratch: str, folder: Path) -> GradeOutcome:
    """Write the files a worker graded into its scratch folder into the job's own folder; return the outcome
    with its log path pointing there."""
    if not files:
        return outcome
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    result = outcome.result
    if result is not None and result.log_path and Path(result.log_path).parent == Path(scratch):
        outcome.result = replace(result, log_path=str(folder / Path(result.log_path).name))
    return outcome


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Raise RayExecutorError when nothing listens at a HOST:PORT address (Ray itself retries for minutes);
    `auto` and `ray://` addresses are left to Ray."""
    host, _, port = address.rpartition(":")
    if address == "auto" or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise RayExecutorError(
            f"no Ray cluster answers at {address} ({error}): start its head with `ray start --head` or fix "
            "--ray-address"
        ) from None


def _no_worker(causes: list[str]) -> str:
    last = f" (last: {causes[-1]})" if causes else ""
    return f"no sandbox worker left to grade it{last}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _ray() -> Any:
    """Return the ray module; raise RayExecutorError saying how to install it when it is missing."""
    try:
        import ray
    except ImportError:
        raise RayExecutorError(
            "--executor ray needs Ray: pip install 'srl-swe[ray]' (or use the default --executor local)"
        ) from None
    return ray
