"""Grading as SWE-bench grades: the grading container's network and limits are settings (SWE-bench's by
default: network on, no memory or pids limit); a patch that is not a string is refused; an unresolved result
says which expected tests failed, errored or never appeared in the log."""

from __future__ import annotations

import dataclasses

import pytest

from harness import load_instances
from harness.errors import InvalidPatchError
from harness.grading import GradingConfig, grade
from harness.images import ensure_images
from harness.sandbox import DockerSandbox, SandboxConfig

pytestmark = pytest.mark.docker
INSTANCE = "srl-demo__timespan-3"


@pytest.fixture(scope="module")
def instance(docker_client):
    """Returns one demo instance, its image built."""
    found = load_instances("demo", instance_ids=[INSTANCE])[0]
    ensure_images([found])
    return found


def _recording(seen: list[dict]):
    def factory(config: SandboxConfig) -> DockerSandbox:
        sandbox = DockerSandbox(config)
        host = sandbox.client.api.inspect_container(sandbox.container_id)["HostConfig"]
        seen.append({"network": host["NetworkMode"], "memory": host["Memory"], "pids": host["PidsLimit"]})
        return sandbox

    return factory


def test_grading_defaults_to_swebench_network_on_and_no_limits(instance) -> None:
    seen: list[dict] = []
    result = grade(instance, instance.patch, sandbox_factory=_recording(seen))
    assert result.resolved
    assert seen[0]["network"] == "bridge" and seen[0]["memory"] == 0 and seen[0]["pids"] in (None, 0, -1)


def test_grading_network_and_limits_are_settings(instance) -> None:
    seen: list[dict] = []
    settings = GradingConfig(network_mode="none", memory="1g", pids_limit=256)
    assert grade(instance, instance.patch, sandbox_factory=_recording(seen), config=settings).resolved
    assert seen[0] == {"network": "none", "memory": 2**30, "pids": 256}


@pytest.mark.parametrize("patch", [None, 3, b"diff"])
def test_a_patch_that_is_not_a_string_is_refused_before_any_container(patch, instance) -> None:
    with pytest.raises(InvalidPatchError, match=f"instance {INSTANCE}: the patch must be a string"):
        grade(instance, patch, sandbox_factory=lambda config: pytest.fail("no sandbox for a bad patch"))


def test_bad_grading_settings_are_named() -> None:
    with pytest.raises(ValueError, match="memory"):
        GradingConfig(memory="lots")
    with pytest.raises(ValueError, match="pids_limit"):
        GradingConfig(pids_limit=0)


def test_unresolved_names_failed_and_never_seen_tests_with_a_hint_for_foreign_paths(instance) -> None:
    foreign = "/home/someone/checkout/tests/test_format.py::test_gone"
    row = dataclasses.replace(instance, PASS_TO_PASS=[*instance.PASS_TO_PASS, foreign])
    result = grade(row, "")
    assert not result.resolved
    diagnosis = result.diagnosis
    assert set(instance.FAIL_TO_PASS) <= set(diagnosis["failed"]) | set(diagnosis["errored"])
    assert diagnosis["missing"] == [foreign]
    assert "machine-specific" in diagnosis["hint"] and foreign in diagnosis["hint"]
    assert diagnosis["tests_in_log"] > 0
    assert grade(instance, instance.patch).diagnosis == {}
