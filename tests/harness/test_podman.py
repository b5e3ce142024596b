"""DockerSandbox on podman's docker-compatible API: commands, timeouts, files, limits, a real grading and an
env's warm reset.

A private podman API service is started for the session on a socket under the test's temporary folder.
Images go into podman's store once: the base image is moved from the Docker engine when that has it
(`docker save | podman load`, through both APIs) and built by `harness.images` otherwise; the demo image
is built by `harness.images` through podman's build API.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import requests

from envs.swe_env import SWEEnv, SWEEnvConfig
from harness import load_instances
from harness.grading import grade
from harness.images import ensure_base_image, ensure_images
from harness.sandbox import TIMEOUT_EXIT_CODE, DockerSandbox, SandboxConfig, labels
from harness.sandbox.engine import connect_engine
from harness.sandbox.errors import EngineNotReachableError

pytestmark = pytest.mark.podman

PODMAN = shutil.which("podman")
BASE_IMAGE = "srl-swe/base:bookworm"
SERVICE_START_S = 30.0
SERVICE_STOP_S = 10.0
CGROUP_V2_LIMITS = "/sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max"
CGROUP_V1_LIMITS = "/sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes"
PODMAN_DEFAULT_RLIMIT = 1_048_576
"""What podman gives a container for open files and processes unless containers.conf says otherwise."""
PODMAN_OWN_NPROC = 32_768
"""Podman lowers its own RLIMIT_NPROC to this at start; a container cannot be given more."""


HYBRID_CGROUP2_MOUNT = "/sys/fs/cgroup/unified"
"""Where hosts with hybrid cgroups (v1 controllers plus a cgroup2 hierarchy) mount the cgroup2 part."""

EXEC_RECORD_KEPT_S = 10
"""How long podman keeps a finished exec's record, and a conmon process for it (default 300 s: thousands of
processes under many short commands). DockerSandbox reads an exec's exit code as soon as its output ends."""


def _hard_limit(kind: int, cap: int) -> int:
    """Returns this process's hard limit of `kind`, at most `cap` (which also stands for unlimited)."""
    hard = resource.getrlimit(kind)[1]
    return cap if hard == resource.RLIM_INFINITY else min(hard, cap)


def _cgroup_mounts() -> dict[str, str]:
    """Returns mount point -> file system type of this host's cgroup mounts."""
    mounts = {}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, point, kind, *_ = line.split()
        if kind in ("cgroup", "cgroup2"):
            mounts[point] = kind
    return mounts


def _oci_runtime() -> str | None:
    """Returns the OCI runtime podman must use here: "runc" on hybrid cgroups, None for podman's default.

    On a host that mounts cgroup v1 controllers plus a cgroup2 at /sys/fs/cgroup/unified, podman's default
    runtime crun refuses every container ("cgroups in hybrid mode not supported"); runc runs them.
    """
    mounts = _cgroup_mounts()
    if mounts.get(HYBRID_CGROUP2_MOUNT) != "cgroup2" or mounts.get("/sys/fs/cgroup") == "cgroup2":
        return None
    if shutil.which("runc") is None:
        pytest.fail("this host has hybrid cgroups, where podman needs runc: apt-get install runc")
    return "runc"


def _containers_conf() -> str:
    """Returns a containers.conf whose containers this machine can start, with short exec records.

    Podman's default rlimits exceed the hard limits of a root without CAP_SYS_RESOURCE (e.g. inside another
    container), and then no container starts ("error setting rlimit ...: operation not permitted"); on
    hybrid cgroups the runtime must be runc (see _oci_runtime).
    """
    nofile = _hard_limit(resource.RLIMIT_NOFILE, PODMAN_DEFAULT_RLIMIT)
    nproc = _hard_limit(resource.RLIMIT_NPROC, PODMAN_OWN_NPROC)
    runtime = _oci_runtime()
    return (
        f'[containers]\ndefault_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        f"[engine]\nexit_command_delay = {EXEC_RECORD_KEPT_S}\n"
        + (f'runtime = "{runtime}"\n' if runtime else "")
    )


def _wait_until_answering(url: str, service: subprocess.Popen, log: Path) -> docker.DockerClient:
    """Returns a client once the service at `url` answers a ping; fails when it exits or stays silent."""
    deadline = time.monotonic() + SERVICE_START_S
    while True:
        with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
            return docker.DockerClient(base_url=url)  # asks the service for its API version
        if service.poll() is not None:
            pytest.fail(f"podman system service exited with {service.returncode}: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"podman system service did not answer at {url} within {SERVICE_START_S:.0f} s")
        time.sleep(0.1)


def _stop(service: subprocess.Popen) -> None:
    service.terminate()
    try:
        service.wait(SERVICE_STOP_S)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait()


def _our_containers(client: docker.DockerClient) -> list:
    """Returns the sandbox containers on `client`'s engine made by this test process."""
    return [
        container
        for container in client.containers.list(all=True, filters=labels.SANDBOX_FILTER)
        if container.labels.get(labels.OWNER_PID) == str(os.getpid())
    ]


@pytest.fixture(scope="session")
def podman_url(tmp_path_factory) -> Iterator[str]:
    """Yields the address of a private podman API service; stops it and checks for leftovers at the end."""
    if PODMAN is None:
        pytest.skip("the podman binary is not installed (apt-get install podman catatonit)")
    folder = tmp_path_factory.mktemp("podman")
    conf = folder / "containers.conf"
    conf.write_text(_containers_conf())
    url = f"unix://{folder / 'podman.sock'}"
    log = folder / "service.log"
    with log.open("wb") as log_file:
        service = subprocess.Popen(
            [PODMAN, "system", "service", "--time=0", url],
            env={**os.environ, "CONTAINERS_CONF": str(conf)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        client = _wait_until_answering(url, service, log)
        yield url
        left = _our_containers(client)
        for container in left:
            container.remove(force=True)
        client.close()
        assert not left, f"sandbox containers left behind on podman: {[c.name for c in left]}"
    finally:
        _stop(service)


@pytest.fixture(scope="session")
def podman_client(podman_url) -> Iterator[docker.DockerClient]:
    """Yields a docker SDK client of the private podman service, with the base image in its store."""
    client = docker.DockerClient(base_url=podman_url)
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        _bring_base_image(podman_url, client)
    yield client
    client.close()


def _bring_base_image(podman_url: str, podman: docker.DockerClient) -> None:
    """Moves the base image from the Docker engine into podman; builds it there when Docker lacks it."""
    try:
        source = connect_engine().images.get(BASE_IMAGE)
    except (EngineNotReachableError, docker.errors.ImageNotFound):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DOCKER_HOST", podman_url)
            ensure_base_image(BASE_IMAGE)
        return
    podman.images.load(source.save(named=True))


@pytest.fixture
def sandbox(podman_client) -> Iterator[DockerSandbox]:
    with DockerSandbox(SandboxConfig(image=BASE_IMAGE), client=podman_client) as opened:
        yield opened


def test_run_gives_output_exit_code_and_workdir_on_podman(sandbox) -> None:
    result = sandbox.run("echo out; echo err >&2; exit 3")
    assert (result.output, result.exit_code, result.timed_out) == ("out\nerr\n", 3, False)
    assert sandbox.run("pwd", workdir="/tmp").output == "/tmp\n"
    assert sandbox.run("cat /proc/1/comm").output != "sleep\n"  # PID 1 is an init (catatonit)


def test_timeout_on_podman_kills_the_command_and_its_children(sandbox) -> None:
    result = sandbox.run("echo started; sleep 1001 & setsid sleep 1002 & sleep 1003", timeout_s=2)
    assert (result.output, result.exit_code, result.timed_out) == ("started\n", TIMEOUT_EXIT_CODE, True)
    assert sandbox.run("pgrep -af 'sleep 100[123]'").exit_code == 1
    assert sandbox.run("echo ok").output == "ok\n"


def test_timeout_on_podman_after_the_pids_limit_is_used_up_restarts_and_keeps_files(podman_client) -> None:
    with DockerSandbox(SandboxConfig(image=BASE_IMAGE, pids_limit=64), client=podman_client) as sandbox:
        sandbox.write_file("kept.txt", "kept")
        assert sandbox.run("for i in $(seq 200); do sleep 1004 & done; wait", timeout_s=2).timed_out
        assert sandbox.run("cat kept.txt; pgrep -c -f 'sleep 1004'").output == "kept0\n"


def test_output_on_podman_is_bounded_to_head_and_tail(podman_client) -> None:
    config = SandboxConfig(image=BASE_IMAGE, max_output_bytes=1000)
    with DockerSandbox(config, client=podman_client) as sandbox:
        result = sandbox.run("seq 1 100000")
    assert result.truncated and result.exit_code == 0
    assert result.output.startswith("1\n2\n") and result.output.endswith("\n100000\n")


def test_network_is_off_and_limits_and_labels_reach_the_podman_container(podman_client) -> None:
    config = SandboxConfig(image=BASE_IMAGE, memory="512m", pids_limit=256, cpus=1, labels={"purpose": "t"})
    with DockerSandbox(config, client=podman_client) as sandbox:
        assert sandbox.run("ls /sys/class/net").output.split() == ["lo"]
        cgroup = sandbox.run(f"cat {CGROUP_V2_LIMITS} 2>/dev/null || cat {CGROUP_V1_LIMITS}").output
        assert cgroup.split() == ["256", str(512 * 2**20)]  # what the kernel enforces, v2 or v1
        attrs = podman_client.containers.get(sandbox.container_id).attrs
    host = attrs["HostConfig"]
    assert (host["Memory"], host["PidsLimit"], host["NanoCpus"]) == (512 * 2**20, 256, 10**9)
    assert host["NetworkMode"] == "none"
    assert attrs["Config"]["Labels"][labels.SANDBOX] == "1" and attrs["Config"]["Labels"]["purpose"] == "t"


def test_files_round_trip_on_podman(sandbox) -> None:
    payload = bytes(range(256)) * 10
    sandbox.write_file("/opt/new/dir/blob.bin", payload)
    assert sandbox.read_file("/opt/new/dir/blob.bin") == payload
    sandbox.write_file("tool.sh", "#!/bin/sh\necho tool ran\n", mode=0o755)
    assert sandbox.run("stat -c %a tool.sh && ln -s tool.sh link.sh && ./link.sh").output == "755\ntool ran\n"
    assert sandbox.read_file("link.sh") == b"#!/bin/sh\necho tool ran\n"
    with pytest.raises(FileNotFoundError, match=r"/testbed/missing\.txt"):
        sandbox.read_file("missing.txt")


def test_close_removes_the_podman_container(podman_client) -> None:
    sandbox = DockerSandbox(SandboxConfig(image=BASE_IMAGE), client=podman_client)
    sandbox.close()
    sandbox.close()
    with pytest.raises(docker.errors.NotFound):
        podman_client.containers.get(sandbox.container_id)


def test_gold_patch_of_a_demo_instance_resolves_on_podman(podman_url, podman_client, tmp_path: Path) -> None:
    instance = load_instances("demo")[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_HOST", podman_url)
        ensure_images([instance])
    result = grade(
        instance,
        instance.patch,
        log_dir=tmp_path,
        sandbox_factory=lambda config: DockerSandbox(config, client=podman_client),
    )
    assert result.patch_applied and result.resolved, Path(result.log_path).read_text()[-3000:]


def test_a_warm_reset_on_podman_gives_back_a_fresh_container_s_world(podman_url, podman_client) -> None:
    instance = load_instances("demo")[0]
    leaks = (
        "echo leak >> ~/.bashrc && echo leak > /tmp/leak && echo leak >> /etc/bash.bashrc && "
        "git config --global user.name leak && echo x > /dev/shm/leak && "
        "python3 -c \"import site; open(site.getsitepackages()[0] + '/leak.pth', 'w')\""
    )
    look = "ls -A /tmp /dev/shm /usr/local/lib/python3*/*-packages; cat ~/.bashrc /etc/bash.bashrc ~/.git*"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_HOST", podman_url)
        env = SWEEnv(
            instance,
            config=SWEEnvConfig(step_timeout_s=20.0, pull_images=False),
            sandbox_factory=lambda config: DockerSandbox(config, client=podman_client),
        )
        try:
            env.reset()
            before = env.step(look)[0]
            assert env.step(leaks)[4]["exit_code"] == 0
            _, info = env.reset()
            assert info["fresh"] is False, info["fresh_reason"]
            assert env.step(look)[0] == before
        finally:
            env.close()
