"""Grading on a Ray cluster of two simulated nodes: the same report as the local executor, a killed worker's
instance regraded elsewhere, a restarted driver resuming, no container left behind."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from harness import load_instances
from harness.evaluation import CACHE_KEY, evaluate
from harness.grading import grade
from harness.images import ensure_images
from tests.containers import containers_of
from tests.ray_cluster import two_node_cluster

pytestmark = [pytest.mark.docker, pytest.mark.ray]

VOLATILE = ("timings", "log_path")
"""Entry fields that differ between two gradings of the same patch (durations, where the log lies)."""


@pytest.fixture(scope="module")
def cluster():
    """Yield a connected two-node Ray cluster for this module's tests."""
    with two_node_cluster() as made:
        yield made


@pytest.fixture(scope="module")
def demo(docker_client):
    """Return the demo instances, their images built."""
    instances = load_instances("demo")
    ensure_images(instances)
    return instances


def stable(run) -> dict:
    """Return the run's entries without the fields that differ between gradings."""
    return {
        iid: {key: value for key, value in result[iid].items() if key not in VOLATILE}
        for iid, result in run.results.items()
    }


def test_gold_on_two_nodes_matches_local_and_a_restarted_driver_regrades_nothing(
    cluster, demo, tmp_path: Path
) -> None:
    from harness.executors.ray_executor import RayExecutor

    gold = {i.instance_id: i.patch for i in demo}
    local = evaluate(demo, gold, tmp_path / "local", model_name="gold", workers=2, progress=False)
    with RayExecutor() as executor:
        on_ray = evaluate(demo, gold, tmp_path / "ray", model_name="gold", executor=executor, progress=False)
        nodes = {info["node"] for info in executor.workers.values()}
        pids = {info["pid"] for info in executor.workers.values()}
        assert len(nodes) == 2, "the actors should sit on both nodes"
    assert json.loads(on_ray.report_path.read_text()) == json.loads(local.report_path.read_text())
    assert stable(on_ray) == stable(local)
    for iid in gold:  # the logs came back into the driver's run folder
        log = Path(on_ray.entry(iid)["log_path"])
        assert log.parent == on_ray.instance_dir(iid) and log.is_file()
        assert (log.parent / "patch.diff").read_text() == gold[iid]
    assert not containers_of(pids)

    with RayExecutor() as executor:  # the driver again, same run folder: everything is reused
        again = evaluate(demo, gold, tmp_path / "ray", model_name="gold", executor=executor, progress=False)
    assert sorted(again.reused) == sorted(gold) and again.results == on_ray.results


def test_a_worker_killed_mid_instance_has_it_regraded_elsewhere(cluster, demo, tmp_path: Path) -> None:
    from harness.executors.ray_executor import RayExecutor

    victim = demo[1].instance_id
    killed, graded = tmp_path / "killed.pid", tmp_path / "graded.txt"

    def dies_once_on_the_victim(instance, patch, **options):
        """Grade as usual, but the first time the victim comes, start its sandbox and die (SIGKILL)."""
        if instance.instance_id == victim and not killed.exists():
            from harness.sandbox import DockerSandbox, SandboxConfig

            killed.write_text(str(os.getpid()))
            DockerSandbox(SandboxConfig(image=instance.image))  # a container, then the worker dies
            os.kill(os.getpid(), signal.SIGKILL)
        result = grade(instance, patch, **options)
        with graded.open("a") as handle:
            handle.write(f"{instance.instance_id}\n")
        return result

    gold = {i.instance_id: i.patch for i in demo}
    with RayExecutor(max_retries=1) as executor:
        run = evaluate(
            demo, gold, tmp_path, model_name="gold", executor=executor, grader=dies_once_on_the_victim
        )
        pids = {info["pid"] for info in executor.workers.values()}
    report = json.loads(run.report_path.read_text())
    assert report["resolved_ids"] == sorted(gold) and report["error_ids"] == []
    assert list(report["retried"]) == [victim] and "died" in report["retried"][victim][0]
    assert sorted(graded.read_text().split()) == sorted(gold), "each instance graded once to the end"
    assert run.entry(victim)[CACHE_KEY]["instance_id"] == victim
    dead = int(killed.read_text())
    assert dead not in pids
    assert not containers_of(pids | {dead}), "the killed worker's sandbox was reaped"


def test_retries_are_bounded_and_the_cause_is_reported(cluster, demo, tmp_path: Path) -> None:
    from harness.executors.ray_executor import RayExecutor

    victim = demo[0].instance_id

    def always_dies_on_the_victim(instance, patch, **options):
        if instance.instance_id == victim:
            os.kill(os.getpid(), signal.SIGKILL)
        return grade(instance, patch, **options)

    with RayExecutor(max_retries=1) as executor:
        run = evaluate(
            demo[:2],
            {i.instance_id: i.patch for i in demo[:2]},
            tmp_path,
            executor=executor,
            grader=always_dies_on_the_victim,
            progress=False,
        )
    report = json.loads(run.report_path.read_text())
    assert report["error_ids"] == [victim] and report["resolved_ids"] == [demo[1].instance_id]
    assert len(report["retried"][victim]) == 2 and "died" in report["failure_reasons"][victim]
