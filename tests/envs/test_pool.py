"""EnvPool: one container per group member, containers reused across groups by warm reset, a bounded number
alive, all removed on close, and those of a killed run removed by the next pool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from envs.pool import EnvPool, swe_env_factory
from envs.swe_env import SWEEnvConfig
from harness import TaskInstance
from tests.containers import containers_of

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]


def factory():
    return swe_env_factory(SWEEnvConfig(step_timeout_s=20.0), max_steps=3)


def test_group_members_get_own_containers_reused_by_warm_reset(
    demo_instances: dict[str, TaskInstance],
) -> None:
    instance = demo_instances["srl-demo__semverkit-8"]
    with EnvPool(factory(), max_live=2, instances=[instance]) as pool:
        first = pool.acquire([instance, instance])
        resets = [env.reset()[1] for env in first]
        assert all(info["fresh"] for info in resets)
        sandboxes = {id(env.unwrapped.sandbox) for env in first}
        assert len(sandboxes) == 2  # each member of the group on its own container
        pool.release(first)

        again = pool.acquire([instance, instance])
        assert {id(env) for env in again} == {id(env) for env in first}
        assert not any(env.reset()[1]["fresh"] for env in again)  # warm reset of the same containers
        assert pool.created == 2 and pool.live == 2
        pool.release(again)
    assert containers_of([os.getpid()]) == []


def test_live_envs_stay_within_the_bound(demo_instances: dict[str, TaskInstance]) -> None:
    one, other = demo_instances["srl-demo__semverkit-8"], demo_instances["srl-demo__tabulet-12"]
    with EnvPool(factory(), max_live=2, instances=[one, other]) as pool:
        envs = pool.acquire([one, one])
        for env in envs:
            env.reset()
        with pytest.raises(ValueError, match="max_live"):
            pool.acquire([other])
        pool.release(envs)
        (env,) = pool.acquire([other])  # an idle env of another instance is closed to make room
        env.reset()
        assert pool.live == 2 and len(containers_of([os.getpid()])) == 2
    assert containers_of([os.getpid()]) == []


def test_containers_of_a_killed_run_are_reaped_by_the_next_pool(
    demo_instances: dict[str, TaskInstance],
) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from envs.pool import EnvPool, swe_env_factory
        from envs.swe_env import SWEEnvConfig
        from harness import load_instances

        instance = load_instances("demo", instance_ids=["srl-demo__semverkit-8"])[0]
        pool = EnvPool(swe_env_factory(SWEEnvConfig(), 3), max_live=1)
        pool.acquire([instance])[0].reset()
        print("ready", flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert len(containers_of([child.pid])) == 1
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert len(containers_of([child.pid])) == 1  # SIGKILL runs no exit hook
    EnvPool(factory(), max_live=1).close()
    assert containers_of([child.pid]) == []
