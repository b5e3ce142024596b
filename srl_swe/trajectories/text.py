"""Text helpers every reader shares: a message's text, the issue inside a task prompt, a clean patch."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Where the issue sits in the task prompts of the agents whose runs we read: SWE-agent 1.x, SWE-smith,
# OpenHands and mini-swe-agent (<pr_description>), later OpenHands (<issue_description>), SWE-agent 0.x
# ("ISSUE:\n…\n\nINSTRUCTIONS:").
_ISSUE_PATTERNS = (
    re.compile(r"<pr_description>\s*(.*?)\s*</pr_description>", re.DOTALL),
    re.compile(r"<issue_description>\s*(.*?)\s*</issue_description>", re.DOTALL),
    re.compile(r"<issue>\s*(.*?)\s*</issue>", re.DOTALL),
    re.compile(r"^ISSUE:\n(.*?)\n\s*INSTRUCTIONS:", re.DOTALL | re.MULTILINE),
)
_PR_LEAD_IN = re.compile(r"\A\s*Consider the following PR description:\s*", re.DOTALL)


def text_of(content: Any) -> str:
    """Return the text of a message ``content`` (a string, or a list of ``{"type": "text"}`` parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return str(content)


def problem_statement_from(task_prompt: str) -> str:
    """Return the issue text inside a task prompt (see the patterns above), else the whole prompt stripped."""
    for pattern in _ISSUE_PATTERNS:
        match = pattern.search(task_prompt)
        if match:
            return _PR_LEAD_IN.sub("", match.group(1)).strip()
    return task_prompt.strip()


def first_user_text(messages: Iterable[Mapping]) -> str:
    """Return the text of the first user message (the task prompt), or '' when there is none."""
    return next((text_of(m.get("content")) for m in messages if m.get("role") == "user"), "")


def patch_or_none(value: Any) -> str | None:
    """Return a patch with CRLF line ends made LF (a terminal's way of reporting ``git diff``), or None when
    ``value`` is no non-empty string."""
    if not isinstance(value, str) or not value:
        return None
    return value.replace("\r\n", "\n")
