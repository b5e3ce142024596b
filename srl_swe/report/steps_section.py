"""The step-example part of a report: held-out step results (``eval --mode steps``'s ``steps.json``, the
held-out callback's ``heldout/step-<N>.json``) as a summary table, then one card per step example with the
context the policy saw, the expert's action and each source's completions, their actions' character-level
difference from the expert's and their rewards; sortable and filterable by reward, format error, instance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.completion import ParsedCompletion, parse_completion
from srl_swe.report.page import badge, char_diff, details, esc, number, reward_badge, table, text_block

DECODINGS = ("greedy", "sampled")
METRIC_COLUMNS = ("step_reward", "format_error_rate", "exact_match_rate", "similarity")

Source = tuple[str, dict[str, Any]]
"""A label (a model, a training step) and the step result it names."""


def summary_table(sources: Sequence[Source]) -> str:
    """Return the table of each source's metrics per decoding (the numbers of ``eval --mode steps``)."""
    rows = []
    for label, result in sources:
        for decoding in DECODINGS:
            metrics = result.get(decoding)
            if not isinstance(metrics, dict):
                continue
            rows.append(
                [
                    esc(label),
                    esc(f"{decoding} (n={metrics.get('n', '?')}, T={metrics.get('temperature', '?')})"),
                    number(metrics.get("completions")),
                    *(number(metrics.get(name)) for name in METRIC_COLUMNS),
                ]
            )
    headers = ["source", "decoding", "completions", "step reward", "format errors", "exact", "similarity"]
    return table(headers, rows)


def completion_html(completion: dict[str, Any], expert: str) -> str:
    """Return one scored completion: its reward, and its action beside the expert's with the differences
    marked, or the format error and the text as written; its thought folded."""
    text = completion.get("completion", "")
    parsed = parse_completion(text)
    reward = completion.get("reward")
    marks = reward_badge(reward)
    if not isinstance(parsed, ParsedCompletion):
        return (
            marks + badge(f"format error: {parsed.reason}", "bad") + text_block(text, "completion as written")
        )
    if completion.get("exact"):
        marks += badge("exact", "good")
    policy, expert_marked = char_diff(parsed.action, expert)
    return (
        marks
        + f'<pre class="action">{policy}</pre><pre class="expert">{expert_marked}</pre>'
        + (details("thought", text_block(parsed.thought)) if parsed.thought else "")
    )


def _example_key(record: dict[str, Any]) -> tuple:
    return (record.get("instance_id"), record.get("step_index"), record.get("expert_action"))


def example_cards(sources: Sequence[Source], anchor: str) -> str:
    """Return the filter controls and one card per step example, grouping every source's completions of
    the same example (instance, step index, expert action)."""
    examples: dict[tuple, dict[str, Any]] = {}
    for label, result in sources:
        for record in result.get("per_example") or []:
            entry = examples.setdefault(_example_key(record), {"record": record, "by_source": []})
            entry["by_source"].append((label, record))
    if not examples:
        return (
            '<p class="muted">No per-step completions in this result (written before the report existed).</p>'
        )
    cards = []
    for number_, entry in enumerate(examples.values(), 1):
        record = entry["record"]
        expert = record.get("expert_action") or ""
        greedy = [c for _, r in entry["by_source"] for c in (r.get("greedy") or [])]
        rewards = [c["reward"] for c in greedy if c.get("reward") is not None]
        mean = sum(rewards) / len(rewards) if rewards else 0.0
        broken = any(c.get("format_error") for c in greedy)
        rows = [f'<div class="who">expert</div><pre class="expert-action">{esc(expert)}</pre>']
        for label, r in entry["by_source"]:
            for completion in r.get("greedy") or []:
                shown = completion_html(completion, expert)
                rows.append(f'<div class="who">{esc(label)} greedy</div><div>{shown}</div>')
            sampled = r.get("sampled") or []
            if sampled:
                inner = "".join(
                    f'<div class="label">sample {i}</div>{completion_html(c, expert)}'
                    for i, c in enumerate(sampled, 1)
                )
                mean_sampled = sum(c.get("reward", 0) for c in sampled) / len(sampled)
                rows.append(
                    f'<div class="who">{esc(label)} sampled</div><div>'
                    f"{details(f'{len(sampled)} samples, mean reward {mean_sampled:.3f}', inner)}</div>"
                )
        context = "".join(
            text_block(m.get("content", ""), f"{m.get('role', '?')}") for m in record.get("prompt") or []
        )
        head = (
            f"<b>#{number_}</b> {esc(record.get('instance_id'))} · step {esc(record.get('step_index'))} "
            f"{reward_badge(mean)}{badge('format error', 'bad') if broken else ''}"
        )
        body = (
            details(f"context the policy saw ({len(record.get('prompt') or [])} messages)", context)
            + "<p class=\"muted\">Each action is shown above the expert's: <del>only the policy's</del> and "
            "<ins>only the expert's</ins> characters.</p>" + f'<div class="cmp">{"".join(rows)}</div>'
        )
        cards.append(
            f'<div class="card example" data-reward="{mean:.4f}" data-format="{"yes" if broken else "no"}" '
            f'data-instance="{esc(record.get("instance_id"))}">{head}{body}</div>'
        )
    instances = sorted({str(e["record"].get("instance_id")) for e in examples.values()})
    options = "".join(f'<option value="{esc(i)}">{esc(i)}</option>' for i in instances)
    controls = (
        f'<div class="controls" data-list="{esc(anchor)}-cards">'
        f'<label>instance <select name="instance"><option value="">all</option>{options}</select></label>'
        '<label>format error <select name="format"><option value="">any</option><option value="yes">with'
        '</option><option value="no">without</option></select></label>'
        '<label>greedy reward ≤ <input name="max" type="number" step="0.1" min="-1" max="1" size="4"></label>'
        '<label>sort <select name="sort"><option value="order">as evaluated</option>'
        '<option value="up">reward ascending</option>'
        '<option value="down">reward descending</option></select></label>'
        '<span class="count muted"></span></div>'
    )
    return controls + f'<div id="{esc(anchor)}-cards">{"".join(cards)}</div>'


def steps_html(sources: Sequence[Source], anchor: str) -> str:
    """Return the summary table and the example cards of ``sources``."""
    return summary_table(sources) + example_cards(sources, anchor)
