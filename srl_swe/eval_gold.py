"""Gold mode of `python -m srl_swe.eval`: every gold patch must resolve its instance; an empty patch (the
control) must resolve none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from srl_swe.eval_config import EvalConfig


def run_gold(config: EvalConfig) -> int:
    """Grade gold (and empty, as a control) patches; print the table; return 0 when all behave."""
    from rich.console import Console

    from harness import load_instances
    from harness.evaluation import evaluate

    console = Console()
    instances = load_instances(config.task, config.path, config.instance_ids, image_map=config.image_map)
    unavailable = {}
    if config.executor == "local":  # a Ray cluster's workers check or pull the images on their own nodes
        unavailable = config.missing_images(instances)
    run_id = config.run_id or f"{config.mode}-{config.task}"
    root = Path(config.run_dir) / run_id
    where = f"{config.workers} workers" if config.executor == "local" else "on Ray"
    console.print(f"[bold]{len(instances)}[/] instances of [bold]{config.task}[/], {where}")
    patches = {"gold": {i.instance_id: i.patch for i in instances}}
    if config.control:
        patches["empty"] = {i.instance_id: "" for i in instances}
    with config.open_executor() as executor:
        runs = {
            name: evaluate(
                instances,
                predictions,
                root / name,
                run_id=run_id,
                model_name=name,
                timeout_s=config.timeout_s,
                force=config.force,
                grading=config.grading(),
                executor=executor,
                unavailable=unavailable,
            )
            for name, predictions in patches.items()
        }
    console.print(gold_table(instances, runs))
    for name, run in runs.items():
        graded = len(instances) - len(run.reused) - len(unavailable)
        console.print(
            f"{name}: {graded} graded, {len(run.reused)} reused (same instance, patch and image; --force "
            "regrades)"
        )
        for iid, causes in run.retries.items():
            console.print(
                f"{name}: {iid} graded again after {len(causes)} lost attempt(s): {causes[-1]}",
                soft_wrap=True,
                markup=False,
            )
        console.print(f"{name} report: {run.report_path}", soft_wrap=True)
    failures = _failures(instances, runs)
    for line in failures:
        console.print(line, style="red", soft_wrap=True, markup=False, highlight=False)
    return 1 if failures else 0


def _failures(instances, runs) -> list[str]:
    problems = []
    for instance in instances:
        iid = instance.instance_id
        gold = runs["gold"].entry(iid)
        if gold is None:
            problems.append(f"{iid}: gold not graded ({runs['gold'].errors.get(iid, 'unknown error')})")
        elif not gold["resolved"]:
            why = describe_unresolved(gold)
            problems.append(f"{iid}: the gold patch does not resolve it{why} (log: {gold['log_path']})")
        if "empty" in runs:
            empty = runs["empty"].entry(iid)
            if empty is None:
                problems.append(
                    f"{iid}: control not graded ({runs['empty'].errors.get(iid, 'unknown error')})"
                )
            elif empty["resolved"]:
                problems.append(f"{iid}: resolved with an EMPTY patch: its FAIL_TO_PASS tests do not fail")
    return problems


def describe_unresolved(entry: dict) -> str:
    """Return ': <verdict>; N failed, N errored, N never in the log; hint' for an unresolved report entry
    (the verdict of harness.grading: did not apply, tests did not run, tests failed), or '' when it
    carries no diagnosis."""
    diagnosis = entry.get("diagnosis") or {}
    verdict = diagnosis.get("verdict")
    if verdict is None and not entry.get("patch_successfully_applied", True):  # graded before verdicts
        verdict = "did not apply, or the tests did not run"
    counts = [
        f"{len(diagnosis[key])} {label}"
        for key, label in (
            ("failed", "failed"),
            ("errored", "errored"),
            ("skipped", "skipped"),
            ("missing", "never in the log"),
        )
        if diagnosis.get(key) and diagnosis.get("tests_ran", True)
    ]
    parts = [part for part in (verdict, ", ".join(counts), diagnosis.get("hint")) if part]
    if not diagnosis.get("tests_ran", True):
        parts = parts[:1]  # the error line says it; "no test results" would repeat it
    return ": " + "; ".join(parts) if parts else ""


def gold_table(instances, runs):
    """Return a rich Table: one row per instance with the gold and control outcomes and time split."""
    from rich.table import Table

    table = Table(title="gold validation (✓ resolved; the empty patch is the control; times in s)")
    table.add_column("instance", no_wrap=True, min_width=max(len(i.instance_id) for i in instances))
    table.add_column("gold", justify="center")
    if "empty" in runs:
        table.add_column("empty", justify="center")
    table.add_column("F2P", justify="right")
    table.add_column("P2P", justify="right")
    for phase in ("start", "apply", "tests"):
        table.add_column(phase, justify="right")
    for instance in instances:
        gold = runs["gold"].entry(instance.instance_id)
        cells = [instance.instance_id, _mark(gold, expected=True)]
        if "empty" in runs:
            cells.append(_mark(runs["empty"].entry(instance.instance_id), expected=False))
        timings = (gold or {}).get("timings", {})
        cells += [str(len(instance.FAIL_TO_PASS)), str(len(instance.PASS_TO_PASS))]
        cells += [
            f"{timings[k]:.2f}" if k in timings else "-" for k in ("container_start", "patch_apply", "tests")
        ]
        table.add_row(*cells)
    return table


def _mark(entry: dict | None, expected: bool) -> str:
    if entry is None:
        return "[yellow]error[/]"
    text = "✓" if entry["resolved"] else "✗"
    return f"[green]{text}[/]" if entry["resolved"] == expected else f"[bold red]{text}[/]"


# ---------------------------------------------------------------- oracle and e2e: a policy's own patches
