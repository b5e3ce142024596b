"""``python -m srl_swe.report RUN_DIR``: one self-contained HTML page of a run folder (no server, no network).

It finds what the folder holds, at any depth, and shows each part it knows:
- a demo run's ``comparison.json`` (base / SFT / SRL / SRL→RLVR), with the held-out step reward of each
  trained run against its training step and, per held-out step example, every model's action beside the
  expert's (the ``measure/<model>/steps/steps.json`` beside it);
- a step evaluation's ``steps.json`` (``eval --mode steps``): its summary table and per step example the
  context, the expert's action and each completion, the difference marked, with its reward;
- a training run (``trainer_state.json`` or its checkpoints', ``heldout_steps.json``, ``dynamic_sampling/``):
  its curves as inline SVG and its held-out completions;
- a graded run (a swebench run report, ``<model>.<run-id>.json``: gold, oracle, e2e, agentless, predictions):
  per instance the verdict, its diagnosis, the patch and the episode, reply or stages that made it.
Files it does not know are left out; a part whose files are missing shows what is there. The page is written
to ``RUN_DIR/report.html`` (atomically) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPORT_FILE = "report.html"
SKIPPED_DIRS = ("replies", "trajectories", "agentless", "heldout", "dynamic_sampling")
"""Folders whose files belong to the part above them (saved step datasets and, in a training run,
TensorBoard's ``runs/`` are skipped too)."""
DEMO_ROWS = ("base", "sft", "srl", "srl-rlvr")
COMPARISON_COLUMNS = {
    "heldout_step_reward": "held-out step reward (greedy)",
    "heldout_step_reward_sampled": "(T=1.0)",
    "format_error_rate": "format errors",
    "exact_match_rate": "exact",
    "similarity": "similarity",
    "oracle_resolved": "oracle resolved",
    "e2e_resolved": "e2e resolved",
}


class ReportError(ValueError):
    """A run folder that cannot be reported on; one line."""


@dataclass
class RunParts:
    """What a run folder holds, by kind: paths of the files (or folders) each part is read from."""

    comparisons: list[Path] = field(default_factory=list)
    steps: list[Path] = field(default_factory=list)
    training: list[Path] = field(default_factory=list)
    graded: list[Path] = field(default_factory=list)

    def empty(self) -> bool:
        """Return whether the folder held nothing the report knows."""
        return not (self.comparisons or self.steps or self.training or self.graded)


def _is_run_report(path: Path) -> bool:
    from srl_swe.report.grading_section import read_json

    found = read_json(path) if path.stat().st_size < 50_000_000 else None
    return isinstance(found, dict) and found.get("schema_version") == 2 and "total_instances" in found


def _is_training_run(folder: Path, files: list[str]) -> bool:
    return (
        "trainer_state.json" in files
        or "heldout_steps.json" in files
        or (folder / "dynamic_sampling").is_dir()
        or any(folder.glob("checkpoint-*/trainer_state.json"))
    )


def find_parts(run_dir: Path) -> RunParts:
    """Return the parts of ``run_dir`` the report shows (see the module docstring), each list by path."""
    parts = RunParts()
    for folder, dirs, files in os.walk(run_dir):
        here = Path(folder)
        training = _is_training_run(here, files)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIPPED_DIRS
            and not d.startswith("checkpoint-")
            and not (here / d / "dataset_info.json").is_file()
            and not (training and d == "runs")
        )
        if training:
            parts.training.append(here)
        for name in sorted(files):
            path = here / name
            if name == "comparison.json":
                parts.comparisons.append(path)
            elif name == "steps.json":
                parts.steps.append(path)
            elif name.endswith(".json") and name != "report.json" and _is_run_report(path):
                parts.graded.append(path)
    return parts


def _anchor(run_dir: Path, path: Path) -> str:
    relative = str(path.relative_to(run_dir)) if path != run_dir else "run"
    return re.sub(r"[^A-Za-z0-9_-]+", "-", relative).strip("-") or "run"


def _label(run_dir: Path, path: Path) -> str:
    return run_dir.resolve().name if path == run_dir else str(path.relative_to(run_dir))


def comparison_html(path: Path, anchor: str) -> tuple[str, list[Path]]:
    """Return a demo comparison's section (table, held-out curves of the trained runs, the saved PNG, each
    model's held-out completions beside the expert's) and the step results it used."""
    from srl_swe.report.charts import line_chart
    from srl_swe.report.grading_section import read_json
    from srl_swe.report.page import esc, number, table
    from srl_swe.report.steps_section import steps_html
    from srl_swe.report.training_section import series

    document = read_json(path) or []
    if isinstance(document, dict):  # the demo's summary over its seeds; each seed's comparison is below it
        return seeds_summary_html(document), []
    rows = [row for row in document if isinstance(row, dict)]
    cells = [[esc(r.get("name")), *(number(r.get(k)) for k in COMPARISON_COLUMNS)] for r in rows]
    parts = [table(["model", *COMPARISON_COLUMNS.values()], cells)]
    curves: dict[str, list[tuple[float, float]]] = {}
    trained = [name for name in DEMO_ROWS[1:] if (path.parent / name).is_dir()]
    for name in trained:
        points = series(path.parent / name).get("heldout/step_reward")
        if points:
            curves[name.upper()] = points
    base = next((r for r in rows if r.get("name") == "base"), None)
    if curves and base and base.get("heldout_step_reward") is not None:
        steps = [x for points in curves.values() for x, _ in points]
        curves = {
            "base": [(min(steps), base["heldout_step_reward"]), (max(steps), base["heldout_step_reward"])]
        } | curves
    chart = line_chart("held-out step reward (greedy) against training step", curves, "training step")
    if chart:
        parts.append(f'<div class="charts">{chart}</div>')
    png = path.with_suffix(".png")
    if png.is_file():
        data = base64.b64encode(png.read_bytes()).decode()
        parts.append(
            f"<details><summary>the demo's own plot ({esc(png.name)})</summary>"
            f'<img alt="comparison plot" src="data:image/png;base64,{data}"></details>'
        )
    used, sources = [], []
    for name in DEMO_ROWS:
        found = path.parent / "measure" / name / "steps" / "steps.json"
        result = read_json(found)
        if isinstance(result, dict):
            used.append(found)
            sources.append((name, result))
    if sources:
        parts.append("<h3>Held-out steps: expert vs each model</h3>" + steps_html(sources, anchor + "-steps"))
    return "".join(parts), used


def seeds_summary_html(document: dict) -> str:
    """Return the demo's summary over seeds as a table (each metric's mean ± standard deviation, its min and
    max) and the line saying in how many seeds SRL beats the base model."""
    from srl_swe.report.page import esc, table

    summary = document.get("summary") or {}
    rows = summary.get("rows") or {}
    seeds = summary.get("seeds", len(document.get("seeds") or []))

    def cell(metric: dict | None) -> str:
        if not isinstance(metric, dict) or "mean" not in metric:
            return "–"
        spread = f" ({metric.get('min', 0):.3f} … {metric.get('max', 0):.3f})"
        return esc(f"{metric['mean']:.3f} ± {metric.get('std', 0):.2f}{spread}")

    cells = [
        [esc(name), *(cell((metrics or {}).get(k)) for k in COMPARISON_COLUMNS)]
        for name, metrics in rows.items()
    ]
    wins = summary.get("srl_beats_base")
    line = f"<p>SRL beats the base model (greedy held-out step reward) in {wins} of {seeds} seed(s).</p>"
    heading = f"<h3>Over {esc(seeds)} seed(s): mean ± standard deviation (min … max)</h3>"
    return (
        heading + table(["model", *COMPARISON_COLUMNS.values()], cells) + (line if wins is not None else "")
    )


def build_page(run_dir: Path) -> str:
    """Return the report page of ``run_dir``; ReportError when it holds nothing the report knows."""
    from srl_swe.report.grading_section import grading_html, read_json
    from srl_swe.report.page import page
    from srl_swe.report.steps_section import steps_html
    from srl_swe.report.training_section import training_html

    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such folder")
    parts = find_parts(run_dir)
    if parts.empty():
        raise ReportError(
            f"{run_dir}: no run files the report knows (comparison.json, steps.json, a run report "
            "<model>.<run-id>.json, trainer_state.json, heldout_steps.json)"
        )
    sections: list[tuple[str, str, str]] = []
    shown: set[Path] = set()
    for path in parts.comparisons:
        anchor = _anchor(run_dir, path)
        html_, used = comparison_html(path, anchor)
        shown.update(used)
        sections.append((anchor, f"Comparison: base / SFT / SRL / SRL→RLVR ({_label(run_dir, path)})", html_))
    for path in parts.steps:
        result = read_json(path)
        if path in shown or not isinstance(result, dict):
            continue
        anchor = _anchor(run_dir, path)
        label = str(result.get("model", "policy"))
        sections.append(
            (anchor, f"Held-out steps: {_label(run_dir, path)}", steps_html([(label, result)], anchor))
        )
    for folder in parts.training:
        anchor = _anchor(run_dir, folder) + "-training"
        sections.append((anchor, f"Training: {_label(run_dir, folder)}", training_html(folder, anchor)))
    for path in parts.graded:
        anchor = _anchor(run_dir, path)
        sections.append((anchor, f"Graded run: {_label(run_dir, path)}", grading_html(path)))
    made = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return page(
        f"srl_swe run report: {run_dir.resolve().name}", f"{run_dir.resolve()} · written {made}", sections
    )


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report page of ``run_dir`` (to ``out``, by default ``RUN_DIR/report.html``) atomically;
    return its path. ReportError when the folder holds nothing the report knows."""
    run_dir = Path(run_dir)
    text = build_page(run_dir)
    target = Path(out) if out is not None else run_dir / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def report_at_end(run_dir: str | Path) -> Path | None:
    """Write the report of a run that just ended and print where it is; return its path (None, with one
    line on stderr, when it could not be written: the run's own results are kept either way)."""
    import sys

    try:
        path = write_report(run_dir)
    except (ReportError, OSError) as error:
        print(f"report page: not written ({error})", file=sys.stderr)
        return None
    print(f"report page: {path}", flush=True)
    return path


__all__ = [
    "REPORT_FILE",
    "ReportError",
    "RunParts",
    "build_page",
    "find_parts",
    "report_at_end",
    "write_report",
]
