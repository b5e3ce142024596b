"""Where grading jobs run: `local` (a thread pool on this machine's engine, the default, no Ray) or `ray`
(sandbox-worker actors on the nodes of a Ray cluster, each on its own node's engine).

`harness.evaluation.evaluate` hands its per-instance jobs to an executor and writes what comes back; the Ray
executor lives in `harness.executors.ray_executor` and is imported only when asked for (Ray is an extra).
"""

from harness.executors.base import Executor, GradeJob, GradeOutcome, grade_job
from harness.executors.factory import open_executor
from harness.executors.local import LocalExecutor, engine_image_id

EXECUTORS = ("local", "ray")

__all__ = [
    "EXECUTORS",
    "Executor",
    "GradeJob",
    "GradeOutcome",
    "LocalExecutor",
    "engine_image_id",
    "grade_job",
    "open_executor",
]
