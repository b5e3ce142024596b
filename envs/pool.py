"""A bounded pool of live environments for RL rollouts, reused across groups by SWEEnv's warm reset.

:class:`EnvPool` hands out one env per requested task instance (several entries of one instance — the members
of a GRPO group — each get their own env, so their own container). Returned envs stay alive, keyed by
instance, and the next request for that instance takes them back: its ``reset()`` is then a warm reset of
the running container instead of a new one. At most ``max_live`` envs are alive at once; idle envs of other
instances are closed, least recently used first, to make room. ``close()`` (or leaving the ``with`` block,
also through an exception) closes every env; the sandboxes' own exit hooks close them when the process is
interrupted or terminated, and :func:`harness.sandbox.reaper.reap`, run when a pool is made, removes what a
killed (SIGKILL) earlier run left behind.

The env is built by an injectable factory (``TaskInstance -> gym.Env``): :func:`swe_env_factory` makes local
SWEEnvs behind a step limit (and the expert-aware wrapper when expert actions are given); another factory
can put the env elsewhere (e.g. remote actors) as long as the object it returns behaves like a gym.Env.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence

import gymnasium as gym

from envs.expert import Expert
from envs.swe_env import SWEEnv, SWEEnvConfig
from envs.wrappers import ExpertAware, StepLimit
from harness import TaskInstance

EnvFactory = Callable[[TaskInstance], gym.Env]


def swe_env_factory(
    config: SWEEnvConfig,
    max_steps: int,
    experts: Mapping[str, Expert] | None = None,
    remote: bool = False,
) -> EnvFactory:
    """Return a factory of ``StepLimit(SWEEnv)`` envs (``StepLimit(ExpertAware(SWEEnv))`` for the instances
    ``experts`` has an expert for) with the given env settings and step limit; with ``remote`` each SWEEnv
    is a :class:`envs.remote.RemoteEnv` on a node of the connected Ray cluster (the wrappers stay here)."""

    def make(instance: TaskInstance) -> gym.Env:
        if remote:
            from envs.remote import RemoteEnv

            env: gym.Env = RemoteEnv(instance, config)
        else:
            env = SWEEnv(instance, config=config)
        if experts is not None and instance.instance_id in experts:
            env = ExpertAware(env, experts[instance.instance_id])
        return StepLimit(env, max_steps)

    return make


class EnvPool:
    """Live envs keyed by task instance, at most ``max_live`` at once (see the module docstring)."""

    def __init__(
        self,
        factory: EnvFactory,
        max_live: int,
        instances: Iterable[TaskInstance] = (),
        *,
        reap_first: bool = True,
    ) -> None:
        if max_live < 1:
            raise ValueError(f"max_live must be at least 1, not {max_live}")
        self.factory = factory
        self.max_live = max_live
        self._idle: OrderedDict[int, tuple[str, gym.Env]] = OrderedDict()  # least recently used first
        self._busy: dict[int, gym.Env] = {}
        self.created = 0
        if reap_first:
            from harness.sandbox.reaper import reap

            reap()
        instances = list(instances)
        if instances:
            from harness.images import ensure_images

            ensure_images(instances, pull=True)

    @property
    def live(self) -> int:
        """Return how many envs are alive (idle or handed out)."""
        return len(self._idle) + len(self._busy)

    def alive(self) -> list[gym.Env]:
        """Return the live envs, idle (least recently used first) then handed out."""
        return [env for _, env in self._idle.values()] + list(self._busy.values())

    def acquire(self, instances: Sequence[TaskInstance]) -> list[gym.Env]:
        """Return one env per entry of ``instances`` (its own, even for repeated instances), reusing idle envs
        of the same instance; ValueError when more are asked for than ``max_live`` allows."""
        if len(instances) + len(self._busy) > self.max_live:
            raise ValueError(
                f"{len(instances)} envs asked for with {len(self._busy)} in use: more than max_live "
                f"({self.max_live}); ask in smaller batches"
            )
        envs = []
        for instance in instances:
            env = self._take_idle(instance.instance_id)
            if env is None:
                self._make_room()
                env = self.factory(instance)
                self.created += 1
            self._busy[id(env)] = env
            envs.append(env)
        return envs

    def release(self, envs: Iterable[gym.Env]) -> None:
        """Give envs back to the pool (kept alive for the next request of their instance); returns nothing."""
        for env in envs:
            self._busy.pop(id(env), None)
            self._idle[id(env)] = (env.unwrapped.instance.instance_id, env)

    def close(self) -> None:
        """Close every env of the pool (idle and handed out); returns nothing. Safe to call twice."""
        envs = self.alive()
        self._idle.clear()
        self._busy.clear()
        for env in envs:
            with contextlib.suppress(Exception):  # one failing close must not keep the others open
                env.close()

    def __enter__(self) -> EnvPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _take_idle(self, instance_id: str) -> gym.Env | None:
        for key, (owner, env) in self._idle.items():
            if owner == instance_id:
                del self._idle[key]
                return env
        return None

    def _make_room(self) -> None:
        """Close least recently used idle envs until one more fits under ``max_live``."""
        while self.live >= self.max_live and self._idle:
            _, (_, env) = self._idle.popitem(last=False)
            with contextlib.suppress(Exception):
                env.close()
