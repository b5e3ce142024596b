"""The reaper removes sandbox containers left behind by dead processes, and only those unless told."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import docker.errors
import pytest

from harness.sandbox import DockerSandbox, SandboxConfig, labels
from harness.sandbox.reaper import reap

pytestmark = pytest.mark.docker

TEN_YEARS_S = 10 * 365 * 24 * 3600


@pytest.fixture
def labelled_container(docker_client, base_image):
    """Returns a factory of sandbox-labelled containers with chosen labels; removes them afterwards."""
    made = []

    def make(**overrides: str):
        container = docker_client.containers.run(
            base_image,
            ["sleep", "infinity"],
            detach=True,
            network_mode="none",
            labels={**labels.sandbox_labels(), **overrides},
        )
        made.append(container)
        return container

    yield make
    for container in made:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


def _exists(client, container) -> bool:
    try:
        client.containers.get(container.id)
    except docker.errors.NotFound:
        return False
    return True


def test_reap_removes_containers_of_dead_owners_and_keeps_live_ones(
    docker_client, base_image, labelled_container
) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    orphan = labelled_container(**{labels.OWNER_PID: str(finished.pid)})
    with DockerSandbox(SandboxConfig(image=base_image), client=docker_client) as live:
        assert reap(client=docker_client) >= 1
        assert not _exists(docker_client, orphan)
        assert live.run("echo still here").output == "still here\n"


def test_reap_all_removes_old_containers_of_live_owners_too(docker_client, labelled_container) -> None:
    ancient = labelled_container(**{labels.CREATED: "1"})
    recent = labelled_container()
    assert reap(older_than_s=TEN_YEARS_S, client=docker_client) == 0
    assert reap(older_than_s=TEN_YEARS_S, only_dead_owners=False, client=docker_client) == 1
    assert not _exists(docker_client, ancient)
    assert _exists(docker_client, recent)


def test_reaper_cli_reports_how_many_it_removed(docker_client, labelled_container) -> None:
    ancient = labelled_container(**{labels.CREATED: "1"})
    command = [sys.executable, "-m", "harness.sandbox.reaper", "--all", "--older-than", str(TEN_YEARS_S)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "removed 1 sandbox container(s)"
    assert not _exists(docker_client, ancient)


def test_reaper_cli_says_in_one_line_when_the_engine_does_not_answer() -> None:
    command = [sys.executable, "-m", "harness.sandbox.reaper"]
    env = {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("error: Docker engine not reachable at unix:///nonexistent/docker.sock")
    assert len(done.stderr.strip().splitlines()) == 1
