"""SWEEnv's settings given as a dict are checked and converted when the env is made; an image map reaches
the env through gym.make and `python -m envs`; episodes run with the network off while grading keeps
SWE-bench's (on)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import envs  # noqa: F401  (registers srl_swe/SWE-v0)
from envs.swe_env import SWEEnv, SWEEnvConfig
from harness.sandbox import SandboxConfig
from harness.sandbox.errors import ImageMissingError

INSTANCE = "srl-demo__timespan-3"


def test_a_dict_config_is_converted_when_the_env_is_made(instance) -> None:
    env = SWEEnv(instance, config={"grade_log_dir": "logs", "sandbox": {"memory": "2g"}, "step_timeout_s": 5})
    assert env.config.grade_log_dir == Path("logs")
    assert isinstance(env.config.sandbox, SandboxConfig) and env.config.sandbox.memory == "2g"
    assert env.config.grade_network_mode == "bridge" and env.config.sandbox.network_mode == "none"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"grade_log_dirr": "logs"}, "unknown field(s) grade_log_dirr"),
        ({"step_timeout_s": "60"}, "SWEEnvConfig.step_timeout_s must be a number > 0"),
        ({"shell": "zsh"}, "SWEEnvConfig.shell"),
        ({"grade_memory": "plenty"}, "memory"),
        ({"sandbox": {"memroy": "1g"}}, "unknown: memroy"),
        ({"test_infra_changes": "ignore"}, 'SWEEnvConfig.test_infra_changes must be "reject" or "strip" or'),
    ],
)
def test_a_bad_dict_config_is_named_at_construction(instance, config: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)")):
        SWEEnv(instance, config=config)


@pytest.mark.docker
def test_episodes_have_no_network_by_default(make_env) -> None:
    env = make_env()
    env.reset()
    host = env.sandbox.client.api.inspect_container(env.sandbox.container_id)["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert SWEEnvConfig().grading().network_mode == "bridge"


@pytest.mark.docker
def test_gym_make_takes_an_image_map_and_names_a_missing_mapped_image(demo_instances, tmp_path: Path) -> None:
    image_map = tmp_path / "images.yaml"
    image_map.write_text(f"{INSTANCE}: srl-swe-test/not-built:1\n")
    env = gym.make("srl_swe/SWE-v0", task="demo", instance_id=INSTANCE, image_map=str(image_map))
    try:
        assert env.unwrapped.instance.image == "srl-swe-test/not-built:1"
        with pytest.raises(ImageMissingError) as raised:
            env.reset()
    finally:
        env.close()
    assert f"srl-swe-test/not-built:1 for instance {INSTANCE} (from image map {image_map})" in str(
        raised.value
    )


@pytest.mark.docker
def test_python_m_envs_with_a_missing_mapped_image_is_one_line_exit_2(demo_instances, tmp_path: Path) -> None:
    image_map = tmp_path / "images.yaml"
    image_map.write_text(f"{INSTANCE}: srl-swe-test/not-built:1\n")
    command = f"python -m envs --task demo --instance-ids {INSTANCE} --image-map {image_map} --no-pull"
    done = subprocess.run(
        [sys.executable, *command.split()[1:]], input=":quit\n", capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert f"for instance {INSTANCE} (from image map {image_map})" in done.stderr
