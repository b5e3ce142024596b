"""Container image names: the real naming rules of SWE-bench, SWE-Gym and SWE-smith, the demo rule, and
a user-supplied map (instance id -> image) that overrides them."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

import yaml

from harness.errors import ImageMapError

DEMO_NAMESPACE = "srl-swe-demo"


def swebench_image(instance_id: str, namespace: str = "swebench", arch: str = "x86_64") -> str:
    """Return SWE-bench's published image for an instance: `__` becomes `_1776_`, all lower case."""
    return f"{namespace}/sweb.eval.{arch}.{instance_id}:latest".replace("__", "_1776_").lower()


def swegym_image(instance_id: str, namespace: str = "xingyaoww", arch: str = "x86_64") -> str:
    """Return SWE-Gym's published image for an instance: `__` becomes `_s_`, all lower case."""
    return f"{namespace}/sweb.eval.{arch}.{instance_id}:latest".replace("__", "_s_").lower()


def swesmith_image(instance_id: str, namespace: str = "swebench", arch: str | None = None) -> str:
    """Return SWE-smith's per-repository image for an instance id `<owner>__<repo>.<commit8>.<bug>`.

    SWE-smith builds one image per mirrored repository, named
    `<namespace>/swesmith.<arch>.<owner>_1776_<repo>.<commit[:8]>` in lower case (no tag), the arch being
    the host's (`arm64` on ARM hosts, `x86_64` otherwise) unless given. Rows of the published dataset carry
    the x86_64 name in `image_name`; older exports used the `jyangballin` namespace.
    """
    repo_key = instance_id.rsplit(".", 1)[0]
    return f"{namespace}/swesmith.{arch or host_arch()}.{repo_key.replace('__', '_1776_')}".lower()


def swesmith_image_for_host(name: str) -> str:
    """Return a SWE-smith image name with the host's arch (a row's x86_64 name becomes arm64 on ARM hosts)."""
    return re.sub(r"(^|/)swesmith\.(x86_64|arm64)\.", rf"\1swesmith.{host_arch()}.", name, count=1)


def host_arch() -> str:
    """Return the image arch SWE-smith uses on this host: `arm64` on aarch64/arm64 machines, else `x86_64`."""
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def demo_image(repo: str, base_commit: str) -> str:
    """Return the locally built demo image: `srl-swe-demo/<repo name>:<base_commit[:12]>`."""
    return f"{DEMO_NAMESPACE}/{repo.rsplit('/', 1)[-1].lower()}:{base_commit[:12]}"


def load_image_map(path: str | Path) -> dict[str, str]:
    """Return the instance-id -> image mapping held in a JSON or YAML file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ImageMapError(f"cannot read image map {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        first_line = str(error).splitlines()[0]
        raise ImageMapError(f"image map {path} is not valid JSON/YAML: {first_line}") from None
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in data.items()
    ):
        raise ImageMapError(f"image map {path} must map instance ids to image names (strings)")
    return data
