"""An image map and missing images: unknown ids are warned about, a missing image is named with its instance
and where its name came from, pulled when a registry answers (a real `docker-registry` here), one line when
none does or `--no-pull` forbids it."""

from __future__ import annotations

import io
import json
import logging
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness import load_instances
from harness.images import ensure_images
from harness.sandbox.errors import ImageMissingError

FIXTURES = Path(__file__).parent / "fixtures"
VERIFIED = FIXTURES / "swe_bench_verified.jsonl"


def test_unknown_ids_of_an_image_map_are_warned_and_sources_recorded(tmp_path: Path, caplog) -> None:
    image_map = tmp_path / "images.yaml"
    image_map.write_text("django__django-11099: mirror.local/django:1\ndjango__djngo-11099: typo:1\n")
    with caplog.at_level(logging.WARNING, logger="harness.instances"):
        instances = load_instances("swe-bench-verified", VERIFIED, image_map=image_map)
    assert "django__djngo-11099" in caplog.text and str(image_map) in caplog.text
    by_id = {instance.instance_id: instance for instance in instances}
    assert by_id["django__django-11099"].image == "mirror.local/django:1"
    assert by_id["django__django-11099"].image_source == f"image map {image_map}"
    assert by_id["pytest-dev__pytest-5227"].image_source == "the swe-bench-verified naming rule"
    row = {**json.loads(VERIFIED.read_text().splitlines()[0]), "image": "mine/own:1"}
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps(row) + "\n")
    assert load_instances("swe-bench-verified", rows)[0].image_source == f"field 'image' of {rows} line 1"


def test_a_missing_image_is_one_line_naming_instance_and_source_when_no_registry_answers(
    docker_client, tmp_path: Path
) -> None:
    image_map = tmp_path / "images.json"
    image_map.write_text(json.dumps({"django__django-11099": "registry.invalid/none/django:1"}))
    instances = load_instances("swe-bench-verified", VERIFIED, ["django__django-11099"], image_map=image_map)
    with pytest.raises(ImageMissingError) as raised:
        ensure_images(instances, progress=False)
    message = str(raised.value)
    assert "\n" not in message
    assert "registry.invalid/none/django:1 for instance django__django-11099" in message
    assert f"(from image map {image_map})" in message and "--image-map" in message

    with pytest.raises(ImageMissingError, match="--no-pull forbids pulling"):
        ensure_images(instances, pull=False)


def test_check_with_no_pull_is_one_line_and_exit_2(docker_client, tmp_path: Path) -> None:
    command = f"python -m harness.images check --task swe-bench-verified --path {VERIFIED} --no-pull"
    done = subprocess.run(
        [sys.executable, *command.split()[1:]], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 2 and done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "for instance django__django-11099 (from the swe-bench-verified naming rule)" in done.stderr


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Returns host:port of a private registry (Debian's docker-registry) this module started and stops."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    folder = tmp_path_factory.mktemp("registry")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = folder / "config.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {folder}/data\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    server = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_missing_image_is_pulled_when_a_registry_answers(
    docker_client, registry: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SRL_SWE_CACHE", str(tmp_path / "cache"))
    name = f"{registry}/srl-swe-test/pulled:1"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        member = tarfile.TarInfo("hello.txt")
        member.size = 6
        tar.addfile(member, io.BytesIO(b"hello\n"))
    docker_client.api.import_image_from_data(archive.getvalue(), repository=name.rsplit(":", 1)[0], tag="1")
    for _ in docker_client.api.push(name.rsplit(":", 1)[0], tag="1", stream=True, decode=True):
        pass
    docker_client.images.remove(name)
    instances = load_instances(
        "swe-bench-verified", VERIFIED, ["django__django-11099"], image_map={"django__django-11099": name}
    )
    try:
        assert ensure_images(instances) == [name]
        assert docker_client.images.get(name)
        assert (tmp_path / "cache" / "pulled_images.txt").read_text().split() == [name]
    finally:
        docker_client.images.remove(name, force=True)


def test_a_registry_without_the_image_is_named(docker_client, registry: str) -> None:
    name = f"{registry}/srl-swe-test/never-pushed:1"
    instances = load_instances(
        "swe-bench-verified", VERIFIED, ["django__django-11099"], image_map={"django__django-11099": name}
    )
    with pytest.raises(ImageMissingError, match="the registry refused") as raised:
        ensure_images(instances, progress=False)
    assert name in str(raised.value) and "\n" not in str(raised.value)
