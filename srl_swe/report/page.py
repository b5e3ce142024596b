"""HTML pieces of the run report: escaping, the character-level difference of two actions, a patch as a
coloured diff, folded blocks, tables, and the page itself (inline CSS and JS only: it opens from the file
system with no network)."""

from __future__ import annotations

import difflib
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FOLD_LINES = 12
"""Text longer than this many lines (or FOLD_CHARS characters) is folded behind its first lines."""
FOLD_CHARS = 1500


def esc(value: Any) -> str:
    """Return ``value`` as escaped HTML text ('–' for None)."""
    return "–" if value is None else html.escape(str(value), quote=True)


def number(value: Any, digits: int = 3) -> str:
    """Return a metric as text: a float with ``digits`` decimals, an int as is, '–' for None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return esc(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def char_diff(policy: str, expert: str) -> tuple[str, str]:
    """Return the two actions as HTML with their character-level differences marked (difflib's opcodes over
    the same ``SequenceMatcher(None, policy, expert, autojunk=False)`` the SRL reward uses): the policy's
    extra or changed characters as ``<del>``, the expert's as ``<ins>``."""
    matcher = difflib.SequenceMatcher(None, policy, expert, autojunk=False)
    left, right = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        a, b = esc(policy[i1:i2]), esc(expert[j1:j2])
        if tag == "equal":
            left.append(a)
            right.append(b)
            continue
        if a:
            left.append(f"<del>{a}</del>")
        if b:
            right.append(f"<ins>{b}</ins>")
    return "".join(left), "".join(right)


def patch_html(patch: str | None) -> str:
    """Return a unified diff as a coloured ``<pre>`` (file headers, hunks, added and removed lines)."""
    if not patch:
        return '<p class="muted">(empty patch)</p>'
    lines = []
    for line in patch.splitlines():
        kind = ""
        if line.startswith(("diff --git", "+++", "---", "index ")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "rm"
        lines.append(f'<span class="{kind}">{esc(line)}</span>' if kind else esc(line))
    return '<pre class="patch">' + "\n".join(lines) + "</pre>"


def text_block(text: str | None, label: str = "", css: str = "") -> str:
    """Return ``text`` in a ``<pre>``, folded behind its first lines when long (a ``<details>`` to open)."""
    text = text or ""
    lines = text.splitlines()
    body = f'<pre class="{css}">{esc(text)}</pre>'
    if len(lines) <= FOLD_LINES and len(text) <= FOLD_CHARS:
        return (f'<div class="label">{esc(label)}</div>' if label else "") + body
    head = "\n".join(lines[:3])[:300]
    summary = f"{esc(label)} ({len(lines)} lines, {len(text)} chars)" if label else f"{len(lines)} lines"
    return (
        f'<details class="fold"><summary>{summary}<pre class="head {css}">{esc(head)} …</pre></summary>'
        f"{body}</details>"
    )


def details(summary: str, body: str, open_: bool = False, css: str = "") -> str:
    """Return a ``<details>`` block (``summary`` is HTML)."""
    return f'<details class="{css}"{" open" if open_ else ""}><summary>{summary}</summary>{body}</details>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """Return an HTML table (cells are HTML); click a header to sort by that column."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f'<table class="sortable {css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(content: str) -> str:
    """Return a table cell, right-aligned when it holds a number (or a dash for none)."""
    try:
        float(content.replace("–", "nan").replace("−", "-"))
        return f'<td class="num">{content}</td>'
    except ValueError:
        return f"<td>{content}</td>"


def badge(text: str, kind: str) -> str:
    """Return a small coloured label (kind: good, bad, warn, info)."""
    return f'<span class="badge {kind}">{esc(text)}</span>'


def reward_badge(reward: float | None) -> str:
    """Return a step reward as a badge coloured from red (−1) to green (1)."""
    if reward is None:
        return badge("–", "info")
    kind = "bad" if reward < 0 else "good" if reward >= 0.8 else "warn" if reward < 0.4 else "info"
    return badge(f"reward {reward:.3f}", kind)


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """Return the whole HTML page: a title, a table of contents and ``sections`` (anchor, heading, HTML)."""
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(h)}</a></li>' for a, h, _ in sections)
    body = "".join(f'<section id="{esc(a)}"><h2>{esc(h)}</h2>{html_}</section>' for a, h, html_ in sections)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_asset('page.css')}</style></head>"
        f'<body><header><h1>{esc(title)}</h1><p class="muted">{subtitle}</p>'
        f"<nav><ol>{toc}</ol></nav></header>{body}<script>{_asset('page.js')}</script></body></html>"
    )


def _asset(name: str) -> str:
    """Return the text of one of the page's inline assets (``page.css``, ``page.js``) beside this module."""
    return (Path(__file__).parent / name).read_text(encoding="utf-8")
