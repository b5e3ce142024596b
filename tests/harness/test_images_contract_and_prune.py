"""`python -m harness.images check` names what an image lacks of SWE-bench's contract; `prune` lists (dry run)
and removes task images and stopped sandbox containers the project made."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

import pytest

from harness import TaskInstance, load_instances
from harness.images import check_image, ensure_swebench_layout_images
from harness.sandbox import labels

pytestmark = pytest.mark.docker
INSTANCE = "srl-demo__timespan-3"


def run(command: str) -> subprocess.CompletedProcess[str]:
    """Runs a README command line (`python` is this environment's interpreter)."""
    return subprocess.run(
        [sys.executable, *command.split()[1:]], capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def broken_image(docker_client) -> Iterator[str]:
    """Returns an image in SWE-bench's layout spoiled three ways: a changed tracked file, HEAD one commit
    past the base, no conda activate script (committed from a container; removed afterwards)."""
    instance = load_instances("demo", instance_ids=[INSTANCE])[0]
    layout = ensure_swebench_layout_images([instance])[INSTANCE]
    container = docker_client.containers.run(
        layout,
        [
            "bash",
            "-c",
            "cd /testbed && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m extra "
            "&& echo changed >> README.md && rm /opt/miniconda3/bin/activate",
        ],
        detach=True,
        labels={labels.SANDBOX: "1"},
    )
    container.wait()
    name = "srl-swe-test-broken/timespan:1"
    container.commit(repository=name.split(":")[0], tag="1")
    container.remove()
    yield name
    docker_client.images.remove(name, force=True)


def test_each_broken_part_of_the_contract_is_named(broken_image: str) -> None:
    row = load_instances("demo", instance_ids=[INSTANCE])[0].to_row()
    for derived in ("image", "eval_script", "log_parser", "eval_type"):
        row.pop(derived)  # derived by SWE-bench's rules: the conda testbed env, pytest
    instance = TaskInstance.from_row({**row, "image": broken_image}, "swe-bench-verified")
    results = {result.check: result for result in check_image(instance, timeout_s=60)}
    assert results["/testbed"].ok
    assert not results["HEAD=base"].ok and instance.base_commit[:12] in results["HEAD=base"].detail
    assert not results["clean"].ok and "README.md" in results["clean"].detail
    assert not results["conda"].ok and "activate" in results["conda"].detail
    assert not results["tests run"].ok


def test_prune_is_a_dry_run_by_default_and_removes_with_yes(docker_client) -> None:
    base = docker_client.images.get("srl-swe/base:bookworm")
    name = "srl-swe-test-prune/demo:1"
    docker_client.images.build(
        fileobj=io.BytesIO(b"FROM srl-swe/base:bookworm\nLABEL srl_swe.image=demo\nRUN true\n"),
        tag=name,
        rm=True,
        network_mode="none",
    )
    stopped = docker_client.containers.create(name, ["true"], labels={labels.SANDBOX: "1"})
    try:
        dry = run("python -m harness.images prune --match srl-swe-test-prune/*")
        assert dry.returncode == 0, dry.stderr
        assert "srl-swe-test-prune/demo:1" in dry.stdout and stopped.name in dry.stdout
        assert "dry run" in dry.stdout and docker_client.images.get(name)

        everything = run("python -m harness.images prune")  # the dry run lists, never removes
        assert everything.returncode == 0 and "srl-swe/base:bookworm" not in everything.stdout

        done = run("python -m harness.images prune --match srl-swe-test-prune/* --yes")
        assert done.returncode == 0, done.stderr
        assert "removed 2 of 2" in done.stdout
        assert not docker_client.images.list(name=name)
        assert docker_client.images.get(base.id)
    finally:
        subprocess.run(["docker", "rm", "-f", stopped.id], capture_output=True, check=False)
        subprocess.run(["docker", "rmi", "-f", name], capture_output=True, check=False)
