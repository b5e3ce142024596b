"""Benchmark of SWEEnv on the real engine, every number from the same run.

- reset: warm (same container: repository restored, the world outside it checked against the fresh
  container's and given back) after an episode that wrote nothing outside the repository and after one that
  wrote the seven leaks of issue 19, against fresh (new container);
- per-step cost of the action `true`: the persistent shell, one bash per action (`exec` shell), and a raw
  `docker exec CID true` round-trip through the docker CLI, the baseline the issue names;
- steps/s of `true` with 1, 2 and 4 envs in parallel (gymnasium's AsyncVectorEnv, shared memory off).

    python benchmarks/bench_env.py [--instance-ids ID] [--resets 5] [--steps 50] [--envs 1 2 4]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable

import gymnasium as gym
from rich.console import Console
from rich.table import Table

import envs
from envs.swe_env import SWEEnv, SWEEnvConfig
from harness import load_instances
from harness.images import ensure_images
from harness.sandbox import DockerSandbox


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Returns the median wall time of `repeats` calls of `action`."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


EDIT_ONLY = "echo '# edit' >> README.md && str_replace_editor view /testbed/README.md > /dev/null"
"""An episode that changes only the repository (and the editor's state)."""
LEAKY = (
    f"{EDIT_ONLY} && echo s > /root/notes && echo 'print(1)' > /tmp/reproduce.py && "
    "echo 'export A=1' >> ~/.bashrc && echo 'export B=1' >> /etc/bash.bashrc && "
    "python3 -c \"import site; open(site.getsitepackages()[0] + '/x.pth', 'w').write('')\" && "
    "git config --global user.name leak"
)
"""An episode that also writes the leaks of issue 19 outside the repository."""


def median_reset_seconds(env: SWEEnv, episode: str | None, repeats: int) -> float:
    """Returns the median seconds of `repeats` resets of `env`, each after running `episode` (untimed);
    episode None: fresh resets. Raises when a warm reset went fresh (it would measure the wrong thing)."""
    times = []
    for _ in range(repeats):
        if episode is not None:
            env.step(episode)
        started = time.perf_counter()
        _, info = env.reset(options={"fresh": episode is None})
        times.append(time.perf_counter() - started)
        if episode is not None and info["fresh"]:
            raise RuntimeError(f"the warm reset went fresh: {info['fresh_reason']}")
    return statistics.median(times)


def reset_times(instance, repeats: int) -> dict[str, float]:
    """Returns the median reset seconds: warm after an edit-only episode, warm after a leaky one, fresh."""
    env = SWEEnv(instance)
    try:
        env.reset()
        return {
            "warm, repository edits only": median_reset_seconds(env, EDIT_ONLY, repeats),
            "warm, the seven leaks undone": median_reset_seconds(env, LEAKY, repeats),
            "fresh (new container)": median_reset_seconds(env, None, repeats),
        }
    finally:
        env.close()


def step_times(instance, repeats: int) -> dict[str, float]:
    """Returns the median seconds of `true` per persistent step, exec step and raw docker exec."""
    results = {}
    for shell in ("persistent", "exec"):
        env = SWEEnv(instance, config=SWEEnvConfig(shell=shell))
        try:
            env.reset()
            results[shell] = median_seconds(lambda env=env: env.step("true"), repeats)
            if shell == "persistent":
                assert isinstance(env.sandbox, DockerSandbox)
                command = ["docker", "exec", env.sandbox.container_id, "true"]
                results["docker exec CLI"] = median_seconds(
                    lambda command=command: subprocess.run(command, check=True), repeats
                )
        finally:
            env.close()
    return results


def vector_steps_per_second(instance, num_envs: int, steps: int) -> float:
    """Returns the steps/s (summed over envs) of `true` in an AsyncVectorEnv of `num_envs` envs."""
    vector = gym.make_vec(
        envs.ENV_ID,
        num_envs=num_envs,
        vectorization_mode="async",
        vector_kwargs={"shared_memory": False},
        instance=instance,
    )
    try:
        vector.reset(seed=0)
        actions = ("true",) * num_envs
        vector.step(actions)
        started = time.perf_counter()
        for _ in range(steps):
            vector.step(actions)
        return num_envs * steps / (time.perf_counter() - started)
    finally:
        vector.close()


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints the tables; returns the exit status."""
    parser = argparse.ArgumentParser(prog="bench_env.py", description=__doc__.splitlines()[0])
    parser.add_argument("--instance-ids", default="srl-demo__semverkit-8", help="demo instance id")
    parser.add_argument("--resets", type=int, default=5, help="resets timed per kind (median)")
    parser.add_argument("--steps", type=int, default=50, help="steps timed per measurement")
    parser.add_argument("--envs", type=int, nargs="+", default=[1, 2, 4], help="parallel env counts")
    args = parser.parse_args(argv)
    instance = load_instances("demo", instance_ids=[args.instance_ids])[0]
    ensure_images([instance])
    console = Console()

    resets = reset_times(instance, args.resets)
    fresh = resets["fresh (new container)"]
    table = Table(title=f"reset ({args.resets} each, median)")
    for column in ("kind", "seconds", "vs fresh"):
        table.add_column(column, justify="right")
    for name, seconds in resets.items():
        ratio = "1.0x" if seconds == fresh else f"{fresh / seconds:.1f}x faster"
        table.add_row(name, f"{seconds:.3f}", ratio)
    console.print(table)

    per_step = step_times(instance, args.steps)
    baseline = per_step["docker exec CLI"]
    table = Table(title=f"one `true` ({args.steps} each, median)")
    for column in ("how", "ms", "vs docker exec CLI"):
        table.add_column(column, justify="right")
    for name, seconds in per_step.items():
        table.add_row(name, f"{seconds * 1000:.1f}", f"{seconds / baseline:.2f}x")
    console.print(table)

    rates = {count: vector_steps_per_second(instance, count, args.steps) for count in args.envs}
    table = Table(title=f"parallel envs, AsyncVectorEnv ({args.steps} vector steps of `true`)")
    for column in ("envs", "steps/s", "vs 1 env"):
        table.add_column(column, justify="right")
    first = rates[args.envs[0]]
    for count, rate in rates.items():
        table.add_row(str(count), f"{rate:.0f}", f"{rate / first:.2f}x")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
