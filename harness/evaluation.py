"""Grading many predictions in parallel, crash-safe: each result is written atomically as it finishes.

Layout of a run (swebench's, under our own root):
  <run_dir>/<model>/<instance_id>/patch.diff, run_instance.log, report.json
  <run_dir>/<model>.<run_id>.json      the run report (swebench's schema-2 keys), rewritten at the end
A rerun with the same run_dir reuses an instance's report.json only when its instance id, patch (sha256)
and image id (the engine's, so a rebuilt image is regraded) all match what it was graded with; anything
else is regraded, and `force=True` regrades everything. Instances whose grading failed for an
infrastructure reason have no report.json and are retried.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.executors import Executor, GradeJob, LocalExecutor, engine_image_id
from harness.grading import GradeResult, GradingConfig, grade
from harness.instances import TaskInstance

__all__ = ["CACHE_KEY", "REPORT_FILE", "EvaluationRun", "engine_image_id", "evaluate", "run_report"]

REPORT_FILE = "report.json"
CACHE_KEY = "graded_with"
"""Key of a report entry holding what it was graded with: instance id, patch sha256, image and image id."""


def patch_digest(patch: str) -> str:
    """Return the sha256 hex digest of a patch's text."""
    return hashlib.sha256(patch.encode("utf-8", "surrogateescape")).hexdigest()


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path` so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class EvaluationRun:
    """Where a run lives and what it found; `results` maps instance id to its swebench-style entry."""

    run_dir: Path
    run_id: str
    model_name: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    report_path: Path | None = None
    reused: list[str] = field(default_factory=list)
    """Instances whose cached result matched (same instance, patch and image id) and was not regraded."""
    retries: dict[str, list[str]] = field(default_factory=dict)
    """Instances an executor had to grade again, with the cause of each lost attempt (a worker died)."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """What made the numbers: versions, commit, grading settings, image ids, the caller's manifest."""

    def entry(self, instance_id: str) -> dict[str, Any] | None:
        """Return the swebench report entry of one instance (resolved, tests_status, ...), or None."""
        found = self.results.get(instance_id)
        return found[instance_id] if found else None

    def instance_dir(self, instance_id: str) -> Path:
        """Return the folder holding one instance's patch, log and report."""
        return self.run_dir / self.model_name.replace("/", "__") / instance_id


def evaluate(
    instances: Iterable[TaskInstance],
    predictions: Mapping[str, str | None],
    run_dir: Path,
    *,
    run_id: str = "srl_swe",
    model_name: str = "srl_swe",
    workers: int = 1,
    timeout_s: float = 1800.0,
    grader: Callable[..., GradeResult] = grade,
    progress: bool = True,
    force: bool = False,
    grading: GradingConfig | None = None,
    image_id: Callable[[str], str | None] = engine_image_id,
    executor: Executor | None = None,
    manifest: Mapping[str, Any] | None = None,
    unavailable: Mapping[str, str] | None = None,
) -> EvaluationRun:
    """Grade every instance's predicted patch on `executor` (default: `workers` threads on this machine's
    engine, their image ids from `image_id`); return the finished run.

    A missing prediction is graded as the empty patch. A cached report is reused only when it was graded
    with the same instance, patch and image id (`run.reused` lists those); `force` regrades every one.
    `grading` sets the grading sandbox's network and limits (SWE-bench's by default). Results are written
    here, in this process, as the executor streams them back, whichever machine graded them. The run
    report's `provenance` holds the project's and swebench's versions, the commit, the grading settings,
    each instance's image id and `manifest` (what made the predictions, from the caller).
    ``unavailable`` (instance id -> cause, e.g. its image is missing) are not graded: they are the run's
    error instances with that cause.
    """
    instances = list(instances)
    unavailable = unavailable or {}
    run = EvaluationRun(Path(run_dir), run_id, model_name, errors=dict(unavailable))
    graded = [instance for instance in instances if instance.instance_id not in unavailable]
    executor = executor or LocalExecutor(workers, image_id)
    image_ids = executor.image_ids(graded)
    keys = {
        instance.instance_id: {
            "instance_id": instance.instance_id,
            "patch_sha256": patch_digest(predictions.get(instance.instance_id) or ""),
            "image": instance.image,
            "image_id": image_ids[instance.image],
        }
        for instance in graded
    }
    run.provenance = provenance(grading or GradingConfig(), timeout_s, keys, manifest)
    pending = []
    for instance in graded:
        cached = None if force else _cached(run, instance.instance_id, keys[instance.instance_id])
        if cached is not None:
            run.results[instance.instance_id] = cached
            run.reused.append(instance.instance_id)
        else:
            pending.append(instance)

    jobs = [
        GradeJob(
            instance,
            predictions.get(instance.instance_id) or "",
            run.instance_dir(instance.instance_id),
            timeout_s,
            model_name,
            grading,
        )
        for instance in pending
    ]
    done_before = len(graded) - len(pending)
    with _progress(progress, len(graded), done_before, f"grading {model_name}") as advance:
        for outcome in executor.run(jobs, grader):
            iid = outcome.instance_id
            if outcome.retries:
                run.retries[iid] = outcome.retries
            if outcome.result is None:  # an engine or image problem, or no worker left: retried on resume
                run.errors[iid] = outcome.error or "not graded"
            else:
                result = outcome.result
                entry = {
                    **result.report,
                    "timings": result.timings,
                    "log_path": result.log_path,
                    "diagnosis": result.diagnosis,
                    "test_infra_changes": result.test_infra_changes,
                    "patch_applied": result.patch_applied,
                    CACHE_KEY: keys[iid],
                }
                write_json_atomic(run.instance_dir(iid) / REPORT_FILE, {iid: entry})
                run.results[iid] = {iid: entry}
            advance(iid)

    run.report_path = run.run_dir / f"{model_name.replace('/', '__')}.{run_id}.json"
    write_json_atomic(run.report_path, run_report(instances, predictions, run))
    return run


def _cached(run: EvaluationRun, instance_id: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """Return the instance's cached result when it was graded with exactly `key` (image id known), else
    None."""
    path = run.instance_dir(instance_id) / REPORT_FILE
    if key["image_id"] is None or not path.is_file():
        return None
    try:
        cached = json.loads(path.read_text())
        entry = cached[instance_id]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
    graded_now = "test_infra_changes" in entry  # an entry from before the guard is graded again
    return cached if entry.get(CACHE_KEY) == key and graded_now else None


def run_report(
    instances: list[TaskInstance], predictions: Mapping[str, str | None], run: EvaluationRun
) -> dict[str, Any]:
    """Return the run's summary with the keys of swebench's run report (schema 2), counted by swebench's
    rules: an empty or null patch is `empty_patch` only (graded here all the same, e.g. as gold mode's
    control, but neither completed nor unresolved); a patch that did not apply is an `error` (its verdict in
    `failure_reasons`), as is an instance grading failed on; `completed` = resolved + unresolved. Besides
    swebench's keys: `unresolved_diagnosis` (every graded, unresolved instance's verdict and tests),
    `reused_instances`, `retried`, `provenance`, and the patches that change test infrastructure:
    `test_infra_change_instances` counts them, `test_infra_changes` maps each instance id to the files
    (graded as SWE-bench grades, these are listed, not rejected)."""
    ids = [instance.instance_id for instance in instances]
    submitted = [i for i in ids if i in predictions]
    empty = [i for i in submitted if not predictions[i]]
    graded = [i for i in submitted if i in run.results and i not in empty]
    unapplied = {
        i: _entry_verdict(run, i) for i in graded if not run.results[i][i].get("patch_applied", True)
    }
    completed = [i for i in graded if i not in unapplied]
    resolved = [i for i in completed if run.results[i][i]["resolved"]]
    errors = sorted(set(run.errors) | {i for i in submitted if i not in run.results} | set(unapplied))
    reasons = {**run.errors, **unapplied}
    not_resolved = [i for i in submitted if i in run.results and not run.results[i][i]["resolved"]]
    test_infra = {
        i: [change["path"] for change in run.results[i][i].get("test_infra_changes", [])] for i in graded
    }
    test_infra = {i: files for i, files in sorted(test_infra.items()) if files}
    return {
        "total_instances": len(ids),
        "submitted_instances": len(submitted),
        "completed_instances": len(completed),
        "resolved_instances": len(resolved),
        "unresolved_instances": len(completed) - len(resolved),
        "empty_patch_instances": len(empty),
        "error_instances": len(errors),
        "completed_ids": sorted(completed),
        "incomplete_ids": sorted(i for i in ids if i not in predictions),
        "empty_patch_ids": sorted(empty),
        "submitted_ids": sorted(submitted),
        "resolved_ids": sorted(resolved),
        "unresolved_ids": sorted(set(completed) - set(resolved)),
        "error_ids": errors,
        "failure_reasons": {i: reasons[i] for i in sorted(reasons)},
        "reused_instances": len(run.reused),
        "retried": {i: run.retries[i] for i in sorted(run.retries)},
        "unresolved_diagnosis": {i: run.results[i][i].get("diagnosis", {}) for i in sorted(not_resolved)},
        "provenance": run.provenance,
        "test_infra_change_instances": len(test_infra),
        "test_infra_changes": test_infra,
        "schema_version": 2,
    }


def _entry_verdict(run: EvaluationRun, instance_id: str) -> str:
    """Return a graded entry's verdict (harness.grading), or a generic one for an entry graded before."""
    return run.results[instance_id][instance_id].get("diagnosis", {}).get("verdict", "did not apply")


def provenance(
    grading: GradingConfig, timeout_s: float, keys: Mapping[str, Mapping[str, Any]], manifest: Any = None
) -> dict[str, Any]:
    """Return what a run report's numbers came from: srl-swe's version and git commit (None outside a
    checkout), swebench's version, the grading settings, each instance's image and image id, and the
    caller's `manifest` (None when it gave none)."""
    import dataclasses
    from importlib import metadata

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "srl_swe_version": version("srl-swe"),
        "srl_swe_commit": _project_commit(),
        "swebench_version": version("swebench"),
        "grading": {**dataclasses.asdict(grading), "timeout_s": timeout_s},
        "images": {iid: {"image": key["image"], "image_id": key["image_id"]} for iid, key in keys.items()},
        "manifest": dict(manifest) if manifest is not None else None,
    }


def _project_commit() -> str | None:
    """Return the git commit of the checkout this package runs from (with "+dirty" when it has changes),
    or None when it is not a git checkout."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


class _progress:
    """A rich progress bar over instances (or nothing), used as `with _progress(...) as advance`."""

    def __init__(self, enabled: bool, total: int, done: int, label: str = "grading") -> None:
        self.enabled, self.total, self.done, self.label = enabled, total, done, label
        self._bar = None

    def __enter__(self) -> Callable[[str], None]:
        if not self.enabled or self.done >= self.total:  # nothing to grade: no bar at all
            return lambda _instance_id: None
        from rich.markup import escape
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn(f"[bold]{escape(self.label)}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}"),
        )
        self._bar.start()
        task = self._bar.add_task("grading", total=self.total, completed=self.done, last="")
        return lambda instance_id: self._bar.update(task, advance=1, last=instance_id)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()
