"""The training part of a report: a run's curves (training reward, held-out step reward, format errors,
dynamic sampling's kept and drawn groups, RLVR's resolved rate and episode length, loss) as inline SVG, the
last logged values, and the held-out completions of its first and last evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from srl_swe.report.charts import line_chart
from srl_swe.report.grading_section import read_json
from srl_swe.report.page import details, esc, number, table
from srl_swe.report.steps_section import steps_html

CHARTS = (
    ("training reward", ("reward", "rewards/expert_similarity/mean")),
    ("held-out step reward (greedy)", ("heldout/step_reward", "heldout/similarity")),
    ("format errors", ("heldout/format_error_rate", "rlvr/format_error_rate")),
    ("dynamic sampling: groups per step", ("drawn groups", "kept groups")),
    ("dynamic sampling", ("dynamic_sampling/kept_frac", "dynamic_sampling/draws")),
    ("RLVR resolved rate", ("rlvr/resolved_rate", "rlvr/submit_rate")),
    ("RLVR episode length (actions)", ("rlvr/episode_length",)),
    ("loss", ("loss",)),
)


def log_history(run: Path) -> list[dict[str, Any]]:
    """Return a training run's log history: its ``trainer_state.json``, else its last checkpoint's ([] when
    neither is readable)."""
    candidates = [run / "trainer_state.json"]
    checkpoints = sorted(run.glob("checkpoint-*/trainer_state.json"), key=lambda p: _step_of(p.parent))
    for path in candidates + checkpoints[::-1]:
        state = read_json(path)
        if isinstance(state, dict) and isinstance(state.get("log_history"), list):
            return state["log_history"]
    return []


def _step_of(folder: Path) -> int:
    tail = folder.name.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1


def sampling_rounds(run: Path) -> dict[int, dict[str, float]]:
    """Return per step the groups dynamic sampling drew and kept, summed over processes (from
    ``dynamic_sampling/process-<rank>.jsonl``; a rerun's later lines for a step replace earlier ones)."""
    per_process: dict[tuple[int, int], dict[str, float]] = {}
    for path in sorted(run.glob("dynamic_sampling/process-*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                found = row["informative_per_draw"]
                groups = row["groups"]
                per_process[(row["step"], row.get("process", 0))] = {
                    "drawn groups": float(row["draws"] * groups),
                    "kept groups": float(sum(found)),
                }
            except (ValueError, KeyError, TypeError):
                continue
    steps: dict[int, dict[str, float]] = {}
    for (step, _), counts in per_process.items():
        total = steps.setdefault(step, {"drawn groups": 0.0, "kept groups": 0.0})
        for key, value in counts.items():
            total[key] += value
    return steps


def series(run: Path) -> dict[str, list[tuple[float, float]]]:
    """Return every plotted metric of a run as (step, value) points, one value per step (the latest)."""
    values: dict[str, dict[float, float]] = {}
    for entry in log_history(run):
        step = entry.get("step")
        if step is None:
            continue
        for key, value in entry.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and key != "step":
                values.setdefault(key, {})[step] = value
    from srl_swe.recipes.heldout import read_history

    try:
        history = read_history(run)
    except ValueError:
        history = []
    for point in history:
        for key, value in point.items():
            if key.startswith("heldout/") and isinstance(value, int | float):
                values.setdefault(key, {})[point["step"]] = value
    for step, counts in sampling_rounds(run).items():
        for key, value in counts.items():
            values.setdefault(key, {})[step] = value
    return {key: sorted(points.items()) for key, points in values.items()}


def heldout_sources(run: Path) -> list[tuple[str, dict[str, Any]]]:
    """Return the first and last held-out evaluations with completions (``heldout/step-<N>.json``)."""
    found = []
    for path in run.glob("heldout/step-*.json"):
        result = read_json(path)
        if isinstance(result, dict) and result.get("per_example"):
            found.append((_step_of(path.with_suffix("")), result))
    found.sort(key=lambda pair: pair[0])
    chosen = found if len(found) <= 2 else [found[0], found[-1]]
    return [(f"step {step}", result) for step, result in chosen]


def training_html(run: Path, anchor: str) -> str:
    """Return a training run's section: its charts, a table of the last value of each metric and its
    held-out completions."""
    points = series(run)
    charts = [
        line_chart(title, {name: points[name] for name in names if name in points}) for title, names in CHARTS
    ]
    charts = [chart for chart in charts if chart]
    rows = [
        [esc(name), number(values[-1][0]), number(values[-1][1], 4), str(len(values))]
        for name, values in sorted(points.items())
        if not name.startswith("train_")
    ]
    parts = [f'<div class="charts">{"".join(charts)}</div>']
    if not log_history(run):
        parts.append(
            '<p class="muted">No training log (no trainer_state.json in the run or its checkpoints).</p>'
        )
    if (run / "curves.png").is_file():
        parts.append(f'<p class="muted">The run\'s own plot: <code>{esc(run / "curves.png")}</code></p>')
    last = table(["metric", "last step", "last value", "points"], rows)
    parts.append(details(f"every logged metric, its last value ({len(rows)})", last))
    sources = heldout_sources(run)
    if sources:
        parts.append("<h3>Held-out steps: expert vs policy</h3>" + steps_html(sources, anchor + "-heldout"))
    return "".join(parts)
