"""SWE-agent ``.traj`` files (SWE-smith's included) → :class:`Trajectory`.

A ``.traj`` holds ``trajectory`` steps (``action``, ``observation``, ``thought``, ``response``; since
SWE-agent 1.1 the ``query`` sent for the step, before it the ``messages`` held after it), the ``history``
messages, ``info.submission`` and ``replay_config``. Without steps the history is read. A reply SWE-agent
rejected and asked again for (a blocked command, a syntax error, a format error) is still a step, but not
in the history: it is known by the next step's ``query``, which ends with that reply and the error message,
or by its ``messages``, which gained no reply of the agent. The issue is the problem statement's ``text``
in the replay config, else the issue inside the first task prompt (a ``github`` problem statement keeps no
text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from srl_swe.trajectories.actions import normalize_action
from srl_swe.trajectories.messages import steps_from_messages
from srl_swe.trajectories.paths import source_root_of
from srl_swe.trajectories.text import first_user_text, patch_or_none, problem_statement_from
from srl_swe.trajectories.types import DROPPED, OnSkip, Step, Trajectory

SWE_AGENT = "swe-agent"


def _replay_problem(record: Mapping) -> Mapping:
    replay = record.get("replay_config")
    if isinstance(replay, str):
        try:
            replay = json.loads(replay)
        except json.JSONDecodeError:
            return {}
    problem = replay.get("problem_statement") if isinstance(replay, Mapping) else None
    return problem if isinstance(problem, Mapping) else {}


def _own_messages(messages: Any) -> list[Mapping]:
    return (
        [m for m in messages if isinstance(m, Mapping) and not m.get("is_demo")]
        if isinstance(messages, list)
        else []
    )


def _replies_held(entry: Any) -> int | None:
    """Return how many replies of the agent an old step's ``messages`` hold, or None when it has none."""
    messages = entry.get("messages") if isinstance(entry, Mapping) else None
    if not isinstance(messages, list):
        return None
    return sum(m.get("role") == "assistant" for m in _own_messages(messages))


def _queried_after_a_rejected_reply(entry: Any) -> bool:
    query = entry.get("query") if isinstance(entry, Mapping) else None
    if not isinstance(query, list):
        return False
    return [m.get("message_type") for m in query[-2:] if isinstance(m, Mapping)] == ["assistant", "user"]


def _rejected(entries: list, index: int) -> bool:
    """Return True when SWE-agent rejected the reply of step ``index`` and asked again."""
    if index + 1 < len(entries) and _queried_after_a_rejected_reply(entries[index + 1]):
        return True
    held = _replies_held(entries[index])
    before = _replies_held(entries[index - 1]) if index else 0
    return held is not None and before is not None and held <= before


def _steps(entries: list, on_skip: OnSkip) -> list[Step]:
    steps = []
    for index, entry in enumerate(entries):
        if _rejected(entries, index):
            on_skip(f"step {index}", "reply the agent's scaffold rejected and asked again for", DROPPED)
            continue
        action = entry.get("action") if isinstance(entry, Mapping) else None
        if not isinstance(action, str) or not action.strip():
            on_skip(f"step {index}", "step without an action")
            continue
        steps.append(
            Step(
                str(entry.get("thought") or ""), normalize_action(action), str(entry.get("observation") or "")
            )
        )
    return steps


def swe_agent_trajectory(record: Mapping, source: str, fallback_id: str, on_skip: OnSkip) -> Trajectory:
    """Return the trajectory of a SWE-agent ``.traj`` record."""
    history = _own_messages(record.get("history"))
    entries = record.get("trajectory") or []
    first = entries[0] if entries and isinstance(entries[0], Mapping) else {}
    prompt = first_user_text(history) or first_user_text(
        _own_messages(first.get("query") or first.get("messages"))
    )
    problem = _replay_problem(record)
    info = record.get("info") if isinstance(record.get("info"), Mapping) else {}
    return Trajectory(
        instance_id=str(problem.get("id") or record.get("instance_id") or fallback_id),
        problem_statement=str(problem.get("text") or problem_statement_from(prompt)),
        steps=_steps(entries, on_skip) if entries else steps_from_messages(history, on_skip),
        patch=patch_or_none(info.get("submission")),
        source=source,
        format=SWE_AGENT,
        source_root=source_root_of(prompt),
    )
