"""Connecting to the container engine named by the environment (DOCKER_HOST, or the default socket)."""

from __future__ import annotations

import os

import docker
import docker.errors
import requests

from harness.sandbox.errors import EngineNotReachableError, ImageMissingError

DEFAULT_ENGINE_URL = "unix:///var/run/docker.sock"


def connect_engine() -> docker.DockerClient:
    """Returns a client for the engine that answered a ping; raises EngineNotReachableError otherwise.

    Podman works through its docker-compatible socket: point DOCKER_HOST at it
    (e.g. unix:///run/user/1000/podman/podman.sock, or a rootful `podman system service --time=0 URL`).
    Its containers.conf may need three settings: `default_ulimits` within this host's hard limits where root
    lacks CAP_SYS_RESOURCE (inside another container: "error setting rlimit ... operation not permitted"),
    a short `exit_command_delay` (default 300 s, one conmon process per finished command meanwhile), and
    `runtime = "runc"` on hosts with hybrid cgroups, where the default runtime crun starts no container.
    `init=True` needs catatonit on the podman host.
    """
    url = os.environ.get("DOCKER_HOST", DEFAULT_ENGINE_URL)
    try:
        client = docker.from_env()
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise EngineNotReachableError(
            f"Docker engine not reachable at {url}: start dockerd or set DOCKER_HOST ({_first_line(error)})"
        ) from None
    return client


def require_image(client: docker.DockerClient, image: str) -> None:
    """Returns when `image` is on the engine; raises ImageMissingError saying how to get it otherwise."""
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise ImageMissingError(f"image {image} not found locally: {_how_to_get(image)}") from None


def _how_to_get(image: str) -> str:
    """Returns the command that makes `image` available: our offline builds, or a pull for the others."""
    if image.startswith("srl-swe/"):
        return "build it with `python -m harness.images ensure-base`"
    if image.startswith("srl-swe-demo/"):
        return "build it with `python -m harness.images ensure-demo`"
    return f"pull it with `docker pull {image}`"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
