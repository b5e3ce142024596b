"""The contract between `harness.evaluation` and an executor: jobs in, outcomes out as they finish."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.grading import GradeResult, GradingConfig
from harness.instances import TaskInstance

Grader = Callable[..., GradeResult]
"""`grader(instance, patch, *, log_dir, timeout_s, model_name[, config]) -> GradeResult` (harness.grading)."""


@dataclass(frozen=True)
class GradeJob:
    """One instance to grade: its patch, the folder its logs belong in, and the grading settings."""

    instance: TaskInstance
    patch: str
    log_dir: Path
    timeout_s: float = 1800.0
    model_name: str = "srl_swe"
    config: GradingConfig | None = None

    def options(self, log_dir: Path | None = None) -> dict[str, Any]:
        """Return the grader's keyword arguments, logs going to `log_dir` (default: the job's folder)."""
        options: dict[str, Any] = {
            "log_dir": log_dir or self.log_dir,
            "timeout_s": self.timeout_s,
            "model_name": self.model_name,
        }
        if self.config is not None:
            options["config"] = self.config
        return options


@dataclass
class GradeOutcome:
    """What came back for a job: its result, or why it has none (`error`); `retries` lists the causes of
    attempts lost on the way (a worker or node that died mid-instance)."""

    instance_id: str
    result: GradeResult | None = None
    error: str | None = None
    retries: list[str] = field(default_factory=list)


class Executor(Protocol):
    """Runs grading jobs somewhere and streams their outcomes back."""

    def image_ids(self, instances: Sequence[TaskInstance]) -> dict[str, str | None]:
        """Return image -> the id the graders' engines hold for it (None: unknown, nothing cached matches)."""
        ...

    def run(self, jobs: Sequence[GradeJob], grader: Grader) -> Iterator[GradeOutcome]:
        """Grade every job with `grader`; yield one outcome per job, in the order they finish."""
        ...


def grade_job(job: GradeJob, grader: Grader, log_dir: Path | None = None) -> GradeOutcome:
    """Run `grader` on one job (logs to `log_dir`, default the job's folder); return its outcome, an
    exception (an engine or image problem) becoming the outcome's error."""
    try:
        result = grader(job.instance, job.patch, **job.options(log_dir))
    except Exception as error:
        return GradeOutcome(job.instance.instance_id, error=f"{type(error).__name__}: {error}")
    return GradeOutcome(job.instance.instance_id, result)
