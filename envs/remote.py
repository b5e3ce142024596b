"""`RemoteEnv`: a Gymnasium env whose SWEEnv lives in a Ray actor on a cluster node, on that node's engine.

`RemoteEnv(instance, config)` behaves like `SWEEnv(instance, config=config)` to its caller (the agent loop,
wrappers such as StepLimit, an env pool's factory): reset, step, render, close, current_patch and
submit_current_patch go to an `EnvWorker` actor that holds the SWEEnv. The actor takes `slots` units of the
cluster's `srl_swe_sandbox_slots` resource, so Ray places it on a node that offers sandboxes; at start it
reaps the containers dead processes left on its node and makes the instance's image present there (one
worker of a node at a time). Paths in the config (e.g. `grade_log_dir`) are the node's. Ray must be
connected first (`ray.init`, or an open `harness.executors.ray_executor.RayExecutor`).
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

import gymnasium as gym

from envs.swe_env import SWEEnv, SWEEnvConfig
from harness import TaskInstance
from harness.executors.ray_executor import SLOT_RESOURCE, RayExecutorError


class EnvWorker:
    """The body of the actor behind a RemoteEnv: one SWEEnv on this node's engine."""

    def __init__(self, instance: TaskInstance, config: SWEEnvConfig) -> None:
        from harness.executors.worker import node_lock
        from harness.images import ensure_images
        from harness.sandbox.reaper import reap

        reap(only_dead_owners=True)
        with node_lock():
            ensure_images([instance], pull=config.pull_images, progress=False)
        self.env = SWEEnv(instance, config=config, render_mode="ansi")

    def where(self) -> dict[str, Any]:
        """Return the host, process id and Ray node id this env runs on."""
        import os
        import socket

        import ray

        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "node": ray.get_runtime_context().get_node_id(),
        }

    def spaces(self) -> tuple[gym.Space, gym.Space]:
        """Return the env's (observation space, action space)."""
        return self.env.observation_space, self.env.action_space

    def reset(self, seed: int | None, options: dict[str, Any] | None) -> tuple[str, dict]:
        """Return SWEEnv.reset's (problem statement, info)."""
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Return SWEEnv.step's (observation, reward, terminated, truncated, info)."""
        return self.env.step(action)

    def render(self) -> str | None:
        """Return the last action and its observation as text."""
        return self.env.render()

    def current_patch(self) -> str:
        """Return SWEEnv.current_patch: the diff of the repository against its base commit."""
        return self.env.current_patch()

    def submit_current_patch(self) -> tuple[float, dict[str, Any]]:
        """Return SWEEnv.submit_current_patch's (reward, info): the current patch graded, the episode over."""
        return self.env.submit_current_patch()

    def close(self) -> None:
        """Close the env (its container is removed)."""
        self.env.close()


class RemoteEnv(gym.Env):
    """A SWEEnv on a Ray node, driven from here (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = SWEEnv.metadata

    def __init__(
        self,
        instance: TaskInstance,
        config: SWEEnvConfig | None = None,
        *,
        render_mode: str | None = None,
        slots: float = 1.0,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise RayExecutorError("RemoteEnv needs Ray: pip install 'srl-swe[ray]'") from None
        if not ray.is_initialized():
            raise RayExecutorError("RemoteEnv needs a Ray connection: call ray.init(...) first")
        self.instance = instance
        self.config = config or SWEEnvConfig()
        self.render_mode = render_mode
        worker = ray.remote(EnvWorker).options(
            num_cpus=0, resources={SLOT_RESOURCE: slots}, max_restarts=0, max_task_retries=0
        )
        self._actor: Any = worker.remote(instance, self.config)
        self.observation_space, self.action_space = ray.get(self._actor.spaces.remote())

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Reset the remote SWEEnv; return (problem statement, info)."""
        super().reset(seed=seed)
        return self._call("reset", seed, options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Step the remote SWEEnv; return (observation, reward, terminated, truncated, info)."""
        return self._call("step", action)

    def render(self) -> str | None:
        """Return the last action and its observation as text in "ansi" mode; None without a render mode."""
        return self._call("render") if self.render_mode == "ansi" else None

    def where(self) -> dict[str, Any]:
        """Return the host, process id and Ray node id the env runs on."""
        return self._call("where")

    def current_patch(self) -> str:
        """Return the remote repository's diff against its base commit."""
        return self._call("current_patch")

    def submit_current_patch(self) -> tuple[float, dict[str, Any]]:
        """Grade the current patch and end the episode, as SWEEnv does (StepLimit calls it); return (reward,
        info)."""
        return self._call("submit_current_patch")

    def close(self) -> None:
        """Close the remote env and end its actor; safe to call more than once."""
        import ray

        actor, self._actor = self._actor, None
        if actor is None:
            return
        with contextlib.suppress(Exception):  # a dead actor's node reaps its container at the next start
            ray.get(actor.close.remote(), timeout=60)
        with contextlib.suppress(Exception):
            ray.kill(actor)

    def _call(self, method: str, *args: Any) -> Any:
        import ray

        if self._actor is None:
            raise RuntimeError("RemoteEnv is closed")
        return ray.get(getattr(self._actor, method).remote(*args))
