"""DockerSandbox on the real engine: commands, timeouts that kill, bounded output, no network, files."""

from __future__ import annotations

import shutil
import subprocess
import time

import docker.errors
import pytest

from harness.sandbox import (
    TIMEOUT_EXIT_CODE,
    DockerSandbox,
    EngineNotReachableError,
    ImageMissingError,
    Sandbox,
    SandboxConfig,
    SandboxError,
    labels,
)

pytestmark = pytest.mark.docker


@pytest.fixture
def sandbox(docker_client, base_image):
    with DockerSandbox(SandboxConfig(image=base_image), client=docker_client) as opened:
        yield opened


def test_sandbox_follows_the_protocol(sandbox) -> None:
    assert isinstance(sandbox, Sandbox)


def test_run_returns_interleaved_output_and_exit_code(sandbox) -> None:
    result = sandbox.run("echo out; echo err >&2; exit 3")
    assert result.output == "out\nerr\n"
    assert result.exit_code == 3
    assert not result.timed_out and not result.truncated
    assert result.duration_s > 0


def test_commands_start_in_the_workdir_unless_told_otherwise(sandbox) -> None:
    assert sandbox.run("pwd").output == "/testbed\n"
    assert sandbox.run("pwd", workdir="/tmp").output == "/tmp\n"


def test_timeout_kills_the_command_and_its_children_and_the_sandbox_stays_usable(sandbox) -> None:
    result = sandbox.run("echo started; sleep 1001 & setsid sleep 1002 & sleep 1003", timeout_s=2)
    assert result.timed_out
    assert result.exit_code == TIMEOUT_EXIT_CODE
    assert result.output == "started\n"
    survivors = sandbox.run("pgrep -af 'sleep 100[123]'")
    assert survivors.exit_code == 1, survivors.output
    assert sandbox.run("echo ok").output == "ok\n"


def test_timeout_of_a_command_that_used_up_the_pids_limit_still_frees_the_sandbox(
    docker_client, base_image
) -> None:
    config = SandboxConfig(image=base_image, pids_limit=64)
    with DockerSandbox(config, client=docker_client) as sandbox:
        sandbox.write_file("kept.txt", "kept")
        result = sandbox.run("for i in $(seq 200); do sleep 1004 & done; wait", timeout_s=2)
        assert result.timed_out
        assert sandbox.run("cat kept.txt; pgrep -c -f 'sleep 1004'").output == "kept0\n"


def test_long_output_keeps_head_and_tail_around_a_marker(docker_client, base_image) -> None:
    config = SandboxConfig(image=base_image, max_output_bytes=1000)
    with DockerSandbox(config, client=docker_client) as sandbox:
        result = sandbox.run("seq 1 100000")
    assert result.truncated
    assert result.exit_code == 0
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.endswith("\n99999\n100000\n")
    assert "bytes of output truncated" in result.output
    assert len(result.output) < 1100


def test_network_is_off_by_default(sandbox) -> None:
    assert sandbox.run("ls /sys/class/net").output.split() == ["lo"]
    connect = "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)\""
    assert sandbox.run(connect).exit_code != 0


def test_limits_and_labels_reach_the_container(docker_client, base_image) -> None:
    config = SandboxConfig(
        image=base_image, memory="512m", pids_limit=256, cpus=1, labels={"purpose": "test"}
    )
    with DockerSandbox(config, client=docker_client) as sandbox:
        attrs = docker_client.containers.get(sandbox.container_id).attrs
    host = attrs["HostConfig"]
    assert (host["Memory"], host["PidsLimit"], host["NanoCpus"]) == (512 * 2**20, 256, 10**9)
    assert host["NetworkMode"] == "none" and host["Init"] is True
    container_labels = attrs["Config"]["Labels"]
    assert container_labels[labels.SANDBOX] == "1" and container_labels["purpose"] == "test"
    assert {labels.OWNER_PID, labels.OWNER_HOST, labels.CREATED} <= container_labels.keys()


def test_hardening_defaults_reach_the_container(sandbox, docker_client) -> None:
    host = docker_client.containers.get(sandbox.container_id).attrs["HostConfig"]
    assert host["NanoCpus"] == 10**9 and host["SecurityOpt"] == ["no-new-privileges"]
    assert set(host["CapDrop"]) == set(SandboxConfig().cap_drop)
    cap = f"{10 * 2**30 // 1024}\n"  # bash counts RLIMIT_FSIZE in KiB
    raised = sandbox.run("ulimit -f unlimited")
    assert raised.exit_code == 1 and "Operation not permitted" in raised.output  # not even as root
    assert sandbox.run("ulimit -f").output == cap
    assert "Operation not permitted" in sandbox.run("mknod /tmp/dev c 1 3").output  # CAP_MKNOD dropped


def test_commands_run_as_the_configured_user_who_owns_the_workdir(docker_client, base_image) -> None:
    with DockerSandbox(SandboxConfig(image=base_image, user="1000:1000"), client=docker_client) as sandbox:
        assert sandbox.run("id -u; touch /testbed/mine && stat -c %u /testbed/mine").output == "1000\n1000\n"
        result = sandbox.run("sleep 1005", timeout_s=1)
        assert result.timed_out and sandbox.run("pgrep -c -f 'sleep 1005'").output == "0\n"


def test_disk_usage_counts_what_the_container_wrote(sandbox) -> None:
    before = sandbox.disk_usage_bytes()
    sandbox.run("head -c 3000000 /dev/zero > /tmp/three_mb")
    assert sandbox.disk_usage_bytes() - before >= 3_000_000


def test_files_round_trip_with_parents_created_and_mode_kept(sandbox) -> None:
    payload = bytes(range(256)) * 10
    sandbox.write_file("/opt/new/dir/blob.bin", payload)
    assert sandbox.read_file("/opt/new/dir/blob.bin") == payload
    sandbox.write_file("tool.sh", "#!/bin/sh\necho tool ran\n", mode=0o755)
    assert sandbox.run("stat -c %a /testbed/tool.sh && ./tool.sh").output == "755\ntool ran\n"
    sandbox.run("ln -s tool.sh link.sh")
    assert sandbox.read_file("link.sh") == b"#!/bin/sh\necho tool ran\n"


def test_reading_a_missing_file_raises_file_not_found(sandbox) -> None:
    with pytest.raises(FileNotFoundError, match=r"/testbed/missing\.txt"):
        sandbox.read_file("missing.txt")


def test_close_removes_the_container_and_is_safe_twice(docker_client, base_image) -> None:
    sandbox = DockerSandbox(SandboxConfig(image=base_image), client=docker_client)
    sandbox.close()
    sandbox.close()
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(sandbox.container_id)
    with pytest.raises(SandboxError, match="is closed"):
        sandbox.run("true")


def test_missing_image_error_says_how_to_get_it(docker_client) -> None:
    with pytest.raises(ImageMissingError, match=r"image no-such/image:1 not found locally: pull it with"):
        DockerSandbox(SandboxConfig(image="no-such/image:1"), client=docker_client)


def test_unreachable_engine_error_names_the_address(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(EngineNotReachableError, match=r"^Docker engine not reachable at unix:///nonexistent"):
        DockerSandbox()


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_exec_gives_the_same_output_as_the_docker_cli_and_prints_both_costs(sandbox) -> None:
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        sdk = sandbox.run("echo $((6 * 7))")
    sdk_ms = (time.perf_counter() - started) / rounds * 1000
    cli_command = ["docker", "exec", sandbox.container_id, "bash", "-lc", "echo $((6 * 7))"]
    started = time.perf_counter()
    for _ in range(rounds):
        cli = subprocess.run(cli_command, capture_output=True, text=True, check=True)
    cli_ms = (time.perf_counter() - started) / rounds * 1000
    assert sdk.output == cli.stdout == "42\n"
    print(f"\nexec round trip: DockerSandbox.run {sdk_ms:.1f} ms, docker exec CLI {cli_ms:.1f} ms")
