"""OpenHands: its event-stream trajectories, and the clean-up its runs need in any format.

The event stream is what OpenHands saves of a run: a JSON list of events (its trajectory files), or the
``history`` of an evaluation output row (``instance_id``, ``instruction``, ``instance``, ``test_result``
with ``git_patch``). An event is an ``action`` (``args``, ``source`` user/agent/environment, ``id``,
``tool_call_metadata`` with the model's tool call, ``timeout``) or an ``observation`` (``content``,
``extras``, ``cause``: the id of its action). The agent's calls are read from the tool call the model made
(``tool_call_metadata.model_response``), else from the action's ``args``; outputs are matched to them by
``cause`` or tool call id. The first user message is the task; the scripted nudges OpenHands sends after a
reply without a tool call are neither steps nor observations.

Clean-up of ``execute_bash`` output (here and in SWE-Gym's message rows, see :func:`clean_bash_output`):
the command echo and the shell prompt of OpenHands' first runtime, and the status lines OpenHands adds,
are removed; the exit code is kept apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from srl_swe.trajectories.actions import EDITOR, EDITOR_OPTIONS, ToolCall, move_of, tool_call_from
from srl_swe.trajectories.builder import Receiver, StepBuilder
from srl_swe.trajectories.paths import source_root_of
from srl_swe.trajectories.text import patch_or_none, problem_statement_from
from srl_swe.trajectories.types import OnSkip, Trajectory, TrajectoryFormatError

OPENHANDS = "openhands"
BASH_TOOL = "execute_bash"

_NUDGE = re.compile(
    r"\A\s*Please continue (?:working on the task )?on whatever approach you think is suitable"
)
_FINISHED = re.compile(r"\n*\[Command finished with exit code (-?\d+)\]\s*\Z")
_STATUS = re.compile(r"(?:\n*\[(?:Current working directory|Python interpreter): [^\]\n]*\])+\Z")
_COMPLETED = re.compile(r"\n*\[The command completed with exit code (-?\d+)\.[^\]\n]*\]\Z")
# the first runtime's prompt: "[Python Interpreter: …]" glued to the last output line, then "user@host:dir # "
_PROMPT = re.compile(r"(?:\[Python Interpreter: [^\]\n]*\]\n|^)[\w.-]+@[\w.-]+:[^\n]*[#$] ?\Z", re.MULTILINE)
# actions of tools our environment has none of, by the tool name their calls go by
_OTHER_TOOLS = {
    "run_ipython": "execute_ipython_cell",
    "browse": "browser",
    "browse_interactive": "browser",
    "task_tracking": "task_tracker",
}


def is_nudge(text: str) -> bool:
    """Return True for the scripted user message OpenHands sends after a reply without a tool call."""
    return bool(_NUDGE.match(text))


def _strip_echo(output: str, typed: str) -> str:
    lines, typed_lines = output.split("\n"), typed.strip("\n").split("\n")
    if len(lines) < len(typed_lines):
        return output
    for index, typed_line in enumerate(typed_lines):
        line = lines[index][2:] if index and lines[index].startswith("> ") else lines[index]
        if line.rstrip() != typed_line.rstrip():
            return output
    return "\n".join(lines[len(typed_lines) :])


def clean_bash_output(text: str, typed: str) -> tuple[str, int | None]:
    """Return an ``execute_bash`` output as the command printed it, and the exit code OpenHands reported.

    Removed: CR before LF, ``[Command finished with exit code N]``, ``[The command completed with exit code
    N.]``, the ``[Current working directory: …]`` / ``[Python interpreter: …]`` lines, the first runtime's
    ``[Python Interpreter: …]`` and ``root@host:/workspace/… #`` prompt, and its echo of ``typed`` (the
    command) at the start. The exit code is None where OpenHands reported none.
    """
    text = text.replace("\r\n", "\n")
    exit_code = None
    finished = _FINISHED.search(text)
    if finished:
        exit_code, text = int(finished.group(1)), text[: finished.start()]
    text = _STATUS.sub("", text)
    completed = _COMPLETED.search(text)
    if completed:
        exit_code = int(completed.group(1)) if exit_code is None else exit_code
        text = text[: completed.start()]
    text = _PROMPT.sub("", text)
    return _strip_echo(text, typed), exit_code


def _is_event(value: Any) -> bool:
    return isinstance(value, Mapping) and ("action" in value or "observation" in value)


def is_event_list(value: Any) -> bool:
    """Return True when ``value`` is an OpenHands event stream (a list of events, or of action/observation
    pairs as older evaluation outputs hold them)."""
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    return _is_event(first) or (isinstance(first, list) and bool(first) and _is_event(first[0]))


def _events(value: list) -> list[Mapping]:
    flat: list[Mapping] = []
    for item in value:
        flat.extend(e for e in (item if isinstance(item, list) else [item]) if _is_event(e))
    return flat


def _recorded_call(metadata: Mapping) -> ToolCall | None:
    """Return the tool call the model made, from an action's ``tool_call_metadata``, or None."""
    call_id = metadata.get("tool_call_id")
    response = metadata.get("model_response")
    choices = response.get("choices") if isinstance(response, Mapping) else None
    for choice in choices or []:
        message = choice.get("message") if isinstance(choice, Mapping) else None
        for call in (message or {}).get("tool_calls") or []:
            if isinstance(call, Mapping) and call.get("id") == call_id:
                return tool_call_from(call)
    return None


def _call_from_args(action: str, args: Mapping, call_id: str) -> ToolCall | None:
    """Return the call an action stands for when no tool call was recorded, or None for bookkeeping."""
    if action == "run":
        return ToolCall(
            BASH_TOOL, {"command": args.get("command", ""), "is_input": args.get("is_input")}, call_id
        )
    if action in ("finish", "think"):
        return ToolCall(action, {"thought": args.get("thought", "")}, call_id)
    if action == "read":
        view = {"command": "view", "path": args.get("path", ""), "view_range": args.get("view_range")}
        return ToolCall(EDITOR, view, call_id)
    if action == "edit":
        if not args.get("command"):  # OpenHands' LLM-based editor: no environment command of ours
            return ToolCall("edit_file", {}, call_id)
        keys = ("command", "path", *EDITOR_OPTIONS)
        return ToolCall(EDITOR, {k: args[k] for k in keys if args.get(k) is not None}, call_id)
    if action in _OTHER_TOOLS:
        return ToolCall(_OTHER_TOOLS[action], {}, call_id)
    return None


def _call_of(event: Mapping) -> ToolCall | None:
    metadata = event.get("tool_call_metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    recorded = _recorded_call(metadata) if metadata else None
    args = event.get("args") if isinstance(event.get("args"), Mapping) else {}
    return recorded or _call_from_args(str(event["action"]), args, str(metadata.get("tool_call_id") or ""))


def _exit_code(extras: Any) -> int | None:
    if not isinstance(extras, Mapping):
        return None
    metadata = extras.get("metadata") if isinstance(extras.get("metadata"), Mapping) else {}
    code = metadata.get("exit_code", extras.get("exit_code"))
    return code if isinstance(code, int) and code != -1 else None


def observe_output(receiver: Receiver, text: str, exit_code: int | None = None) -> None:
    """Add an output to its step, cleaned as :func:`clean_bash_output` does for ``execute_bash``."""
    if receiver.tool == BASH_TOOL:
        text, reported = clean_bash_output(text, receiver.typed)
        exit_code = reported if exit_code is None else exit_code
    StepBuilder.observe(receiver, text, exit_code)


def openhands_trajectory(record: Any, source: str, fallback_id: str, on_skip: OnSkip) -> Trajectory:
    """Return the trajectory of an OpenHands event stream (a list of events, or a row with ``history``)."""
    row = record if isinstance(record, Mapping) else {}
    events = _events(row["history"] if row else record)
    builder = StepBuilder(on_skip)
    receivers: dict[Any, Receiver] = {}
    task = ""
    for index, event in enumerate(events):
        args = event.get("args") if isinstance(event.get("args"), Mapping) else {}
        if "observation" in event:
            metadata = event.get("tool_call_metadata") or {}
            receiver = receivers.get(("event", event.get("cause"))) or receivers.get(
                ("call", metadata.get("tool_call_id"))
            )
            if receiver is not None:
                observe_output(receiver, str(event.get("content") or ""), _exit_code(event.get("extras")))
            continue
        content = str(args.get("content") or event.get("message") or "")
        if event.get("source") == "user":
            task = task or (content if event["action"] == "message" else "")
            continue
        if event.get("source") != "agent":
            continue
        if event["action"] == "message":
            builder.carry(content)
            continue
        call = _call_of(event)
        if call is None:
            continue
        thought = args.get("thought") if isinstance(args.get("thought"), str) and call.name != "think" else ""
        (receiver,) = builder.reply(f"event {index}", thought, [move_of(call)])
        receivers[("event", event.get("id"))] = receiver
        if call.id:
            receivers[("call", call.id)] = receiver
    if not task and not row:
        raise TrajectoryFormatError("OpenHands event stream without the user's task message")
    instance = row.get("instance") if isinstance(row.get("instance"), Mapping) else {}
    prompt = task or str(row.get("instruction") or "")
    test_result = row.get("test_result") if isinstance(row.get("test_result"), Mapping) else {}
    return Trajectory(
        instance_id=str(row.get("instance_id") or fallback_id),
        problem_statement=str(instance.get("problem_statement") or problem_statement_from(prompt)),
        steps=builder.steps(),
        patch=patch_or_none(test_result.get("git_patch")),
        source=source,
        format=OPENHANDS,
        source_root=source_root_of(prompt),
    )
