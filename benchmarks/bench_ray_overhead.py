"""Benchmark: gold validation of the demo set on the local executor against the Ray executor, same run,
same cores (2 grading slots each), and the per-instance costs a cluster is sized from.

Each round grades every demo instance's gold patch from scratch (`force`) with the local thread pool and
with a local Ray cluster of the same slots; rounds alternate so that neither side gets a warmer engine. The
Ray cluster and its actors are started once, before the rounds (their start is reported apart: a long run
pays it once). Printed: wall time per round, the overhead ratio Ray/local, the cluster start, and the median
per-instance phase costs (container start, patch apply, tests) the README's scaling model uses.

    python benchmarks/bench_ray_overhead.py [--rounds 3] [--slots 2] [--instance-ids ID ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness import load_instances
from harness.evaluation import evaluate
from harness.executors import LocalExecutor
from harness.executors.ray_executor import RayExecutor
from harness.images import ensure_images

PHASES = ("container_start", "patch_apply", "tests")


def timed_round(instances, executor, folder: Path) -> tuple[float, list[dict]]:
    """Grade the gold patches on `executor` into `folder`; return (wall seconds, the entries)."""
    gold = {i.instance_id: i.patch for i in instances}
    started = time.perf_counter()
    run = evaluate(instances, gold, folder, model_name="gold", executor=executor, force=True, progress=False)
    wall = time.perf_counter() - started
    unresolved = [i for i in gold if not (run.entry(i) or {}).get("resolved")]
    if unresolved:
        raise SystemExit(f"gold patches did not resolve {unresolved}: fix the demo set before timing")
    return wall, [run.entry(i) for i in gold]


def main() -> None:
    """Run the rounds; print the table of wall times and the per-instance costs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slots", type=int, default=2, help="threads of the local executor = Ray slots")
    parser.add_argument("--instance-ids", nargs="*")
    args = parser.parse_args()
    instances = load_instances("demo", instance_ids=args.instance_ids)
    ensure_images(instances)
    local = LocalExecutor(args.slots)
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    entries: list[dict] = []
    started = time.perf_counter()
    with RayExecutor(slots=args.slots) as on_ray, tempfile.TemporaryDirectory() as tmp:
        on_ray.image_ids(instances)  # actors started, images checked on the node
        ray_start = time.perf_counter() - started
        for number in range(args.rounds):
            for name, executor in (("local", local), ("ray", on_ray))[:: 1 if number % 2 == 0 else -1]:
                wall, graded = timed_round(instances, executor, Path(tmp) / f"{name}-{number}")
                walls[name].append(wall)
                entries += graded
    local_s, ray_s = statistics.median(walls["local"]), statistics.median(walls["ray"])
    table = Table(
        title=f"gold validation of {len(instances)} demo instances, {args.slots} slots, median of "
        f"{args.rounds} rounds"
    )
    table.add_column("executor")
    table.add_column("wall s", justify="right")
    table.add_column("rounds", justify="right")
    table.add_column("instances/hour", justify="right")
    for name, seconds in (("local", local_s), ("ray", ray_s)):
        rounds = " ".join(f"{w:.2f}" for w in walls[name])
        table.add_row(name, f"{seconds:.2f}", rounds, f"{len(instances) * 3600 / seconds:.0f}")
    console = Console()
    console.print(table)
    console.print(
        f"Ray / local wall time: {ray_s / local_s:.3f} (overhead {100 * (ray_s / local_s - 1):+.1f}%)"
    )
    console.print(f"Ray cluster + actors start (once per run): {ray_start:.2f} s")
    costs = {phase: statistics.median(e["timings"].get(phase, 0.0) for e in entries) for phase in PHASES}
    per_instance = sum(costs.values())
    slot_seconds = ray_s * args.slots / len(instances)
    console.print(
        "per-instance median: "
        + ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in costs.items())
        + f"; sum {per_instance:.2f} s; wall per instance per slot {slot_seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
