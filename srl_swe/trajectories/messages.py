"""Chat messages (OpenAI-style) → expert steps; shared by every message-based format.

An assistant message is one reply. Its calls are found in this order: SWE-agent's parsed ``action`` stored
beside the message, mini-swe-agent's ``extra.actions[*].command``, native ``tool_calls``, then the text
(``<function=…>`` or a fenced block, see :func:`~srl_swe.trajectories.actions.call_from_text`); what each
call amounts to is :func:`~srl_swe.trajectories.actions.move_of`'s answer. The tool/user messages that
follow, up to the next assistant message, are the outputs: matched to a call by ``tool_call_id`` when they
carry one, else given to the reply's last call; ``execute_bash`` outputs are cleaned of OpenHands' noise.

Neither steps nor outputs: the messages mini-swe-agent 2 marks ``extra.interrupt_type`` (a format error
whose reply it never kept, a user interruption), mini-swe-agent's format errors, OpenHands' nudges. A
reply without a call is reasoning carried to the next action when a nudge answers it (or nothing does), a
rejected reply (dropped, counted) when a format error answers it, else a skipped step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from srl_swe.trajectories.actions import (
    ACTION,
    Move,
    call_from_text,
    move_of,
    normalize_action,
    tool_call_from,
)
from srl_swe.trajectories.builder import Receiver, StepBuilder
from srl_swe.trajectories.openhands import is_nudge, observe_output
from srl_swe.trajectories.text import text_of
from srl_swe.trajectories.types import DROPPED, OnSkip, Step

_OBSERVATION_PREFIXES = re.compile(r"\A(?:OBSERVATION:\n|EXECUTION RESULT of \[[^\]]*\]:\n)")
_FORMAT_ERROR = re.compile(r"\A\s*Please always provide EXACTLY ONE action")  # mini-swe-agent 1's template
NUDGE, REJECTION, INTERRUPT, OUTPUT = "nudge", "rejection", "interrupt", "output"


def load_messages(value: Any) -> list[dict]:
    """Return a message list from a list or its JSON text (as some datasets store it)."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list) or not all(isinstance(m, Mapping) for m in value):
        raise ValueError("'messages' is not a list of message objects")
    return list(value)


def _answer_kind(message: Mapping | None) -> str:
    """Return what a non-assistant message is: a ``nudge``, a ``rejection`` of the reply before it, another
    ``interrupt`` of the agent's scaffold, or an ``output`` of the reply's calls."""
    if message is None:
        return NUDGE  # nothing answered the reply: the run ended on it
    extra = message.get("extra")
    interrupt = extra.get("interrupt_type") if isinstance(extra, Mapping) else None
    text = text_of(message.get("content"))
    if interrupt == "FormatError" or _FORMAT_ERROR.match(text):
        return REJECTION
    if interrupt:
        return INTERRUPT
    return NUDGE if is_nudge(text) else OUTPUT


def _output_of(message: Mapping) -> tuple[str, int | None]:
    extra = message.get("extra")
    if isinstance(extra, Mapping) and isinstance(extra.get("raw_output"), str):
        code = extra.get("returncode")
        return extra["raw_output"], code if isinstance(code, int) else None
    return _OBSERVATION_PREFIXES.sub("", text_of(message.get("content"))), None


def _moves_of(message: Mapping, mini_swe_agent: bool) -> tuple[str, list[Move]]:
    """Return ``(thought, moves)`` for one assistant message."""
    content = text_of(message.get("content"))
    if isinstance(message.get("action"), str):  # SWE-agent history: the parsed action is stored beside
        calls = message.get("tool_calls") or [{}]
        thought = message.get("thought")
        move = Move(ACTION, normalize_action(message["action"]), str(calls[0].get("id") or ""))
        return (thought if isinstance(thought, str) else content).strip(), [move]
    extra = message.get("extra")
    recorded = extra.get("actions") if isinstance(extra, Mapping) else None
    if recorded:
        moves = [
            Move(ACTION, normalize_action(str(a["command"])), str(a.get("tool_call_id") or ""), "bash")
            for a in recorded
        ]
        parsed = None if message.get("tool_calls") else call_from_text(content, mini_swe_agent=True)
        return (parsed[0] if parsed else content.strip()), moves
    if message.get("tool_calls"):
        return content.strip(), [move_of(tool_call_from(call)) for call in message["tool_calls"]]
    parsed = call_from_text(content, mini_swe_agent=mini_swe_agent)
    if parsed is None:
        return content.strip(), []
    return parsed[0], [move_of(parsed[1])]


def steps_from_messages(
    messages: list[Mapping], on_skip: OnSkip, *, mini_swe_agent: bool = False
) -> list[Step]:
    """Return the expert steps of a conversation; ``on_skip(position, reason, kind)`` hears of what it left
    out.

    ``mini_swe_agent``: a text reply's action is found as mini-swe-agent finds it (exactly one of its action
    blocks), not as SWE-agent does (see :func:`~srl_swe.trajectories.actions.call_from_text`).
    """
    builder = StepBuilder(on_skip)
    receivers: list[Receiver] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "assistant":
            receivers = []
            position = f"message {index}"
            try:
                thought, moves = _moves_of(message, mini_swe_agent)
            except (ValueError, KeyError, TypeError) as error:
                on_skip(position, f"unreadable tool call: {error}")
                continue
            moves = [move for move in moves if move.text or move.kind != ACTION]
            if moves:
                receivers = builder.reply(position, thought, moves)
                continue
            answer = _answer_kind(messages[index + 1] if index + 1 < len(messages) else None)
            if answer == NUDGE:
                builder.carry(thought)
            elif answer == REJECTION:
                on_skip(position, "reply the agent's scaffold rejected (format error)", DROPPED)
            else:
                on_skip(position, "assistant message without an action")
        elif role in ("tool", "user") and receivers and _answer_kind(message) == OUTPUT:
            call_id = message.get("tool_call_id") or next(iter(message.get("tool_call_ids") or []), "")
            target = next((r for r in receivers if call_id and r.call_id == call_id), receivers[-1])
            observe_output(target, *_output_of(message))
    return builder.steps()
