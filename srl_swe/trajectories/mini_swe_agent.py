"""mini-swe-agent trajectories → :class:`Trajectory`.

A ``.traj.json`` holds ``messages``, ``info`` (``submission``, ``exit_status``, ``mini_version``, …),
``instance_id`` and ``trajectory_format`` (``mini-swe-agent-1``, …); early runs saved the bare list of
``{role, content}`` messages. Tool-call runs record each command in ``extra.actions`` and its output in
``extra.raw_output``/``extra.returncode``; text runs are read as mini-swe-agent reads them (exactly one
```` ```bash ````, ```` ```mswea_bash_command ```` or ``<mswea_bash_command>`` block, else it ran nothing and
asked again). A command that prints mini-swe-agent's sentinel first is the submission (``submit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from srl_swe.trajectories.messages import load_messages, steps_from_messages
from srl_swe.trajectories.paths import source_root_of
from srl_swe.trajectories.text import first_user_text, patch_or_none, problem_statement_from
from srl_swe.trajectories.types import OnSkip, Trajectory

MINI_SWE_AGENT = "mini-swe-agent"


def mini_swe_agent_trajectory(record: Any, source: str, fallback_id: str, on_skip: OnSkip) -> Trajectory:
    """Return the trajectory of a mini-swe-agent record (a ``.traj.json`` object or a bare message list)."""
    row = record if isinstance(record, Mapping) else {}
    messages = load_messages(row["messages"] if row else record)
    info = row.get("info") if isinstance(row.get("info"), Mapping) else {}
    prompt = first_user_text(messages)
    return Trajectory(
        instance_id=str(row.get("instance_id") or fallback_id),
        problem_statement=problem_statement_from(prompt),
        steps=steps_from_messages(messages, on_skip, mini_swe_agent=True),
        patch=patch_or_none(info.get("submission")),
        source=source,
        format=MINI_SWE_AGENT,
        source_root=source_root_of(prompt),
    )
