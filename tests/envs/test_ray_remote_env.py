"""RemoteEnv: a SWEEnv in a Ray actor on a cluster node, driven from here as if it were local."""

from __future__ import annotations

import pytest

from envs.replay import replay
from envs.scripted_expert import scripted_expert_actions
from envs.swe_env import SWEEnvConfig
from envs.wrappers import StepLimit
from tests.containers import containers_of
from tests.envs.conftest import ONE_PER_REPO
from tests.ray_cluster import two_node_cluster

pytestmark = [pytest.mark.docker, pytest.mark.ray]


@pytest.fixture(scope="module")
def cluster():
    """Yield a connected two-node Ray cluster for this module's tests."""
    with two_node_cluster() as made:
        yield made


def test_the_scripted_expert_resolves_instances_on_two_nodes_and_nothing_is_left(
    cluster, demo_instances
) -> None:
    from envs.remote import RemoteEnv

    config = SWEEnvConfig(step_timeout_s=20.0)
    envs = [RemoteEnv(demo_instances[iid], config) for iid in ONE_PER_REPO[:2]]
    try:
        placed = [env.where() for env in envs]
        assert len({where["node"] for where in placed}) == 2, "one env per node (one slot each)"
        pids = {where["pid"] for where in placed}
        for env in envs:
            report = replay(StepLimit(env, 30), scripted_expert_actions(env.instance))
            assert report.terminated and report.resolved is True and report.reward == 1.0
    finally:
        for env in envs:
            env.close()
    assert len(pids) == 2 and not containers_of(pids)


def test_remote_env_has_the_local_envs_spaces_and_renders(cluster, demo_instances) -> None:
    from envs.remote import RemoteEnv
    from envs.swe_env import SWEEnv

    instance = demo_instances[ONE_PER_REPO[0]]
    env = RemoteEnv(instance, SWEEnvConfig(step_timeout_s=20.0), render_mode="ansi")
    try:
        local = SWEEnv(instance, config=SWEEnvConfig(step_timeout_s=20.0))
        assert repr(env.observation_space) == repr(local.observation_space)
        assert env.action_space.max_length == local.action_space.max_length
        problem, _ = env.reset(seed=0)
        assert problem == instance.problem_statement == env.render()
        observation, reward, terminated, truncated, info = env.step("echo hi")
        assert (observation.strip(), reward, terminated, truncated, info["exit_code"]) == (
            "hi",
            0.0,
            False,
            False,
            0,
        )
    finally:
        env.close()
    with pytest.raises(RuntimeError, match="closed"):
        env.step("true")
