"""The graded part of a report: one evaluation run (gold, oracle, e2e, agentless, predictions) as its totals,
a sortable table of instances, and per instance its verdict and diagnosis (the tests that failed or the error
line), the patch as a coloured diff, and what made the patch: oracle's reply, e2e's whole episode (each
action, its observation folded when long, its similarity to the expert's action at that step where the task
has an expert trajectory) or agentless's stages."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from srl_swe.report.page import badge, char_diff, details, esc, number, patch_html, table, text_block

AGENTLESS_STAGES = ("localize", "repair", "regression", "reproduction", "select")


def read_json(path: Path) -> Any:
    """Return the JSON document at ``path``, or None when it is missing or not JSON (a report shows what it
    can read)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_predictions(path: Path) -> dict[str, str]:
    """Return instance id -> patch from a predictions JSONL file, skipping unreadable lines."""
    found: dict[str, str] = {}
    if not path.is_file():
        return found
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
            found[row["instance_id"]] = row.get("model_patch") or ""
        except (ValueError, KeyError, TypeError):
            continue
    return found


@cache
def demo_expert_actions() -> dict[str, tuple[str, ...]]:
    """Return the demo set's expert actions by instance id (the shipped expert trajectories)."""
    from srl_swe.train import DEMO_TRAJECTORIES
    from srl_swe.trajectories import read

    return {t.instance_id: tuple(step.action for step in t.steps) for t in read(DEMO_TRAJECTORIES)}


def expert_actions(instance_id: str) -> tuple[str, ...]:
    """Return the expert's actions of an instance where the project ships its trajectory, else ()."""
    return demo_expert_actions().get(instance_id, ()) if instance_id.startswith("srl-demo__") else ()


def verdict(instance_id: str, report: dict[str, Any]) -> tuple[str, str]:
    """Return an instance's verdict as (text, badge kind) from the run report's id lists."""
    if instance_id in report.get("resolved_ids", []):
        return "resolved", "good"
    if instance_id in report.get("error_ids", []):
        return "error", "warn"
    if instance_id in report.get("unresolved_ids", []):
        return "unresolved", "bad"
    if instance_id in report.get("empty_patch_ids", []):  # swebench counts these apart from unresolved
        return "empty patch", "bad"
    return "not graded", "info"


def diagnosis(instance_id: str, report: dict[str, Any], entry: dict[str, Any] | None) -> str:
    """Return why an instance is not resolved in one line ('' when it is): the error, the patch that did not
    apply, or the tests that failed, errored or never ran."""
    from srl_swe.eval_gold import describe_unresolved

    if instance_id in report.get("failure_reasons", {}):
        return str(report["failure_reasons"][instance_id])
    if instance_id in report.get("resolved_ids", []):
        return ""
    if entry is None:
        found = report.get("unresolved_diagnosis", {}).get(instance_id)
        entry = {"diagnosis": found} if found else None
    return describe_unresolved(entry).removeprefix(": ") if entry else ""


def instance_entry(root: Path, instance_id: str) -> tuple[dict[str, Any] | None, Path | None]:
    """Return an instance's swebench report entry and its folder (``<model>/<instance>/``), or Nones."""
    for path in sorted(root.glob(f"*/{instance_id}/report.json")):
        found = read_json(path)
        if isinstance(found, dict) and isinstance(found.get(instance_id), dict):
            return found[instance_id], path.parent
    folders = sorted(p for p in root.glob(f"*/{instance_id}") if p.is_dir())
    return None, folders[0] if folders else None


def episode_html(traj: dict[str, Any], instance_id: str) -> str:
    """Return an e2e episode: per step the action (or the malformed completion), the similarity to the
    expert's action at that step when there is one, and the observation folded when long."""
    experts = expert_actions(instance_id)
    info = traj.get("info") or {}
    steps = traj.get("trajectory") or []
    parts = [
        f"<p>{len(steps)} actions · exit {esc(info.get('exit_status'))} · format errors "
        f"{esc(info.get('format_errors'))} · reward {esc(info.get('reward'))}"
        + (f" · expert trajectory: {len(experts)} actions" if experts else "")
        + "</p>"
    ]
    for index, step in enumerate(steps):
        action = step.get("action") or ""
        marks = []
        if (step.get("extra_info") or {}).get("format_error"):
            marks.append(badge(f"format error: {step['extra_info']['format_error']}", "bad"))
        if experts and action and index < len(experts):
            from envs.similarity import action_similarity

            score = action_similarity(action, experts[index])
            marks.append(badge(f"similarity to the expert's action {score:.3f}", "info"))
        shown = text_block(action, "action") if action else text_block(step.get("response"), "completion")
        expert = ""
        if experts and index < len(experts):
            policy, expert_marked = char_diff(action, experts[index]) if action else ("", esc(experts[index]))
            expert = details(
                "expert's action at this step (<del>only the policy's</del>, <ins>only the expert's</ins>)",
                f"<pre>{policy}</pre><pre>{expert_marked}</pre>" if action else f"<pre>{expert_marked}</pre>",
            )
        parts.append(
            f'<div class="step"><b>step {index + 1}</b> {"".join(marks)}{shown}{expert}'
            f"{text_block(step.get('observation'), 'observation', 'obs')}</div>"
        )
    return "".join(parts)


def reply_html(record: dict[str, Any]) -> str:
    """Return oracle mode's reply record: the files shown, why it gave no patch, the reply folded."""
    files = ", ".join(record.get("files") or [])
    error = record.get("error")
    return (
        f"<p>oracle files: {esc(files)}"
        + (f" · {badge(f'no patch: {error}', 'bad')}" if error else "")
        + "</p>"
        + text_block(record.get("reply"), "reply")
    )


def _stage_summary(record: Any) -> str:
    if not isinstance(record, dict):
        return ""
    shown = []
    for key, value in record.items():
        if isinstance(value, bool | int | float | str) and len(str(value)) <= 80:
            shown.append(f"{esc(key)} {esc(value)}")
        elif isinstance(value, list):
            shown.append(f"{esc(key)}: {len(value)}")
    return " · ".join(shown)


def agentless_html(root: Path, instance_id: str, counts: dict[str, Any] | None) -> str:
    """Return agentless mode's stages of an instance: its per-stage counts and each stage's record."""
    parts = []
    if counts:
        keys = [k for k in counts if k != "instance_id"]
        parts.append(table([esc(k) for k in keys], [[number(counts[k]) for k in keys]]))
    for stage in AGENTLESS_STAGES:
        record = read_json(root / "agentless" / instance_id / f"{stage}.json")
        if record is None:
            parts.append(f'<p class="muted">{stage}: not run</p>')
            continue
        body = text_block(json.dumps(record, indent=1), f"{stage}.json")
        parts.append(details(f"<b>{stage}</b> {_stage_summary(record)}", body))
    return "".join(parts)


def grading_html(report_path: Path) -> str:
    """Return the section of one graded run from its run report (``<model>.<run-id>.json``) and the files
    beside it."""
    root = report_path.parent
    report = read_json(report_path) or {}
    predictions = read_predictions(root / "predictions.jsonl")
    agentless = read_json(root / "agentless_report.json") or {}
    agentless_rows = {row.get("instance_id"): row for row in agentless.get("instances", [])}
    ids = sorted(
        set(report.get("completed_ids", []))
        | set(report.get("error_ids", []))
        | set(report.get("incomplete_ids", []))
        | set(report.get("submitted_ids", []))
    )
    totals = (
        f"<p>resolved <b>{report.get('resolved_instances', 0)}/{report.get('total_instances', 0)}</b> · "
        f"empty patches {esc(report.get('empty_patch_instances'))} · "
        f"errors {esc(report.get('error_instances'))}"
        f" · reused {esc(report.get('reused_instances'))} · <code>{esc(report_path.name)}</code></p>"
    )
    rows, cards = [], []
    for iid in ids:
        entry, folder = instance_entry(root, iid)
        text, kind = verdict(iid, report)
        why = diagnosis(iid, report, entry)
        patch = predictions.get(iid)
        if patch is None and folder is not None and (folder / "patch.diff").is_file():
            patch = (folder / "patch.diff").read_text()
        traj = read_json(root / "trajectories" / f"{iid}.traj")
        reply = read_json(root / "replies" / f"{iid}.json")
        steps = len(traj.get("trajectory") or []) if isinstance(traj, dict) else None
        if isinstance(reply, dict) and reply.get("error"):
            why = f"no patch from the reply: {reply['error']}" + (f"; {why}" if why else "")
        rows.append(
            [
                f'<a href="#{esc(root.name)}-{esc(iid)}">{esc(iid)}</a>',
                badge(text, kind),
                "–" if patch is None else str(len(patch.splitlines())),
                "–" if steps is None else str(steps),
                esc(why) if why else "",
            ]
        )
        body = f"<p>{badge(text, kind)} {esc(why)}</p>" + details("patch", patch_html(patch), open_=True)
        if isinstance(traj, dict):
            body += details("episode", episode_html(traj, iid), open_=True)
        if isinstance(reply, dict):
            body += details("reply", reply_html(reply))
        if iid in agentless_rows or (root / "agentless" / iid).is_dir():
            body += details(
                "agentless stages", agentless_html(root, iid, agentless_rows.get(iid)), open_=True
            )
        if entry and entry.get("log_path"):
            body += f'<p class="muted">grading log: {esc(entry["log_path"])}</p>'
        cards.append(
            f'<details class="card" id="{esc(root.name)}-{esc(iid)}"><summary><b>{esc(iid)}</b> '
            f"{badge(text, kind)}</summary>{body}</details>"
        )
    headers = ["instance", "verdict", "patch lines", "actions", "diagnosis"]
    return totals + table(headers, rows) + "".join(cards)
