"""One parsed JSON record → one :class:`Trajectory`: the format detector, and the chat-message rows reader.

Formats (one module each where the format is one agent's):

* ``swe-agent`` (:mod:`~srl_swe.trajectories.swe_agent`): a SWE-agent ``.traj``;
* ``mini-swe-agent`` (:mod:`~srl_swe.trajectories.mini_swe_agent`): a mini-swe-agent ``.traj.json``
  (``trajectory_format: mini-swe-agent-…`` or ``info.mini_version``/``info.submission``), or the bare
  message list early runs saved;
* ``openhands`` (:mod:`~srl_swe.trajectories.openhands`): an OpenHands event stream (a list of events, or
  an evaluation output row whose ``history`` is one);
* ``messages`` (here): a chat-message row ``{"messages": [...]}`` as SWE-smith publishes its fine-tuning
  data (with ``instance_id``, ``traj_id``, ``patch``; the messages are the run's history: SWE-agent's
  history messages as they are in the ``tool`` style, re-rendered as text in ``xml`` and ``ticks``) and as
  SWE-Gym released its OpenHands trajectories (with ``instance_id``, ``run_id``, ``resolved``, ``tools``,
  ``test_result.git_patch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from srl_swe.trajectories.messages import load_messages, steps_from_messages
from srl_swe.trajectories.mini_swe_agent import MINI_SWE_AGENT, mini_swe_agent_trajectory
from srl_swe.trajectories.openhands import OPENHANDS, is_event_list, openhands_trajectory
from srl_swe.trajectories.paths import source_root_of
from srl_swe.trajectories.swe_agent import SWE_AGENT, swe_agent_trajectory
from srl_swe.trajectories.text import first_user_text, patch_or_none, problem_statement_from
from srl_swe.trajectories.types import OnSkip, Trajectory, TrajectoryFormatError

MESSAGES = "messages"


def _is_message_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], Mapping) and "role" in value[0]


def is_trajectory_list(value: Any) -> bool:
    """Return True when a JSON list is one trajectory (messages, or events), not a list of records."""
    return _is_message_list(value) or is_event_list(value)


def detect_format(record: Any) -> str:
    """Return the format name of a parsed record; raise TrajectoryFormatError when it is none we read."""
    if _is_message_list(record):
        return MINI_SWE_AGENT
    if is_event_list(record) or (isinstance(record, Mapping) and is_event_list(record.get("history"))):
        return OPENHANDS
    if isinstance(record, Mapping):
        steps = record.get("trajectory")
        if isinstance(steps, list) and steps and not _is_message_list(steps):
            return SWE_AGENT
        if isinstance(record.get("history"), list) and "messages" not in record:
            return SWE_AGENT
        if "messages" in record:
            info = record.get("info")
            mini_info = isinstance(info, Mapping) and ("mini_version" in info or "submission" in info)
            if str(record.get("trajectory_format", "")).startswith(MINI_SWE_AGENT) or mini_info:
                return MINI_SWE_AGENT
            return MESSAGES
        if _is_message_list(steps):
            return MESSAGES
    keys = sorted(record)[:8] if isinstance(record, Mapping) else type(record).__name__
    raise TrajectoryFormatError(f"unknown trajectory format (keys: {keys})")


def _messages(record: Mapping, source: str, fallback_id: str, on_skip: OnSkip) -> Trajectory:
    messages = load_messages(record["messages"] if "messages" in record else record["trajectory"])
    instance_id = str(record.get("instance_id") or fallback_id)
    test_result = record.get("test_result") if isinstance(record.get("test_result"), Mapping) else {}
    candidates = (
        record.get("patch"),
        record.get("model_patch"),
        record.get("git_patch"),
        test_result.get("git_patch"),
    )
    run_id = record.get("run_id")
    trajectory_id = (
        record.get("traj_id") or record.get("trajectory_id") or (f"{instance_id}@{run_id}" if run_id else "")
    )
    prompt = first_user_text(messages)
    return Trajectory(
        instance_id=instance_id,
        problem_statement=problem_statement_from(prompt),
        steps=steps_from_messages(messages, on_skip),
        patch=next((p for p in map(patch_or_none, candidates) if p), None),
        source=source,
        format=MESSAGES,
        trajectory_id=str(trajectory_id),
        source_root=source_root_of(prompt),
    )


_READERS = {
    SWE_AGENT: swe_agent_trajectory,
    MINI_SWE_AGENT: mini_swe_agent_trajectory,
    OPENHANDS: openhands_trajectory,
    MESSAGES: _messages,
}


def trajectory_from_record(record: Any, source: str, fallback_id: str, on_skip: OnSkip) -> Trajectory:
    """Return the trajectory in a parsed record of any supported format.

    ``fallback_id`` is the instance id used when the record names none (SWE-agent names files after it);
    ``on_skip(position, reason, kind)`` hears of each step or call left out. Raises TrajectoryFormatError
    when the record is of no known format or is malformed.
    """
    reader = _READERS[detect_format(record)]
    try:
        return reader(record, source, fallback_id, on_skip)
    except TrajectoryFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise TrajectoryFormatError(f"malformed record: {type(error).__name__}: {error}") from error
