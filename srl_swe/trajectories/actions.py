"""Tool calls and model text → the one action string the environment runs.

Every format ends up here, so that the same expert action reads the same whichever file it came from:

* ``bash`` / ``execute_bash`` (OpenHands) → the command itself, unquoted (as SWE-agent runs it);
* ``submit`` / ``finish`` (OpenHands), and mini-swe-agent's submission (see :func:`normalize_action`)
  → ``submit``;
* ``str_replace_editor`` → SWE-agent's command line ``str_replace_editor <command> <path> [--file_text …]
  [--view_range A B] [--old_str …] [--new_str …] [--insert_line N]`` (SWE-agent's argument order), each
  token ``shlex.quote``-d and joined by one space, so ``shlex.split`` gives the arguments back;
* any other tool → ``<name> --<key> <value> …`` quoted the same way.

Not every tool call is an environment command (:func:`move_of`): OpenHands' ``think`` is reasoning,
``execute_bash`` with ``is_input`` types into a process that is still running, and its task tracker, browser
and IPython tools run nothing our environment has.

SWE-agent writes its own rendering of the same command line into ``.traj`` files (with runs of spaces where
optional arguments are absent); :func:`normalize_action` re-renders those through the same function.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EDITOR = "str_replace_editor"
EDITOR_OPTIONS = ("file_text", "view_range", "old_str", "new_str", "insert_line")
_BASH_TOOLS = frozenset({"bash", "execute_bash"})
_SUBMIT_TOOLS = frozenset({"submit", "finish"})
# OpenHands tools that act on nothing our environment has (or only on the agent's own notes).
NON_ENVIRONMENT_TOOLS = frozenset(
    {"task_tracker", "browser", "web_read", "execute_ipython_cell", "edit_file", "request_condensation"}
)
# mini-swe-agent submits when a command's first output line is its sentinel; a command prints it first when
# nothing before its echo/printf prints anything (only `cd …` and `git add …` may come first).
_SUBMIT_SENTINEL = re.compile(
    r"\A\s*(?:(?:cd|git\s+add)\b[^;&|\n]*(?:&&|;)\s*)*(?:echo|printf)\s+(?:-\w+\s+)*['\"]?"
    r"(?:COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT|MINI_SWE_AGENT_FINAL_OUTPUT)\b"
)
_TRUE = (True, "true", "True")

_XML_FUNCTION = re.compile(r"<function=([^>]+)>\n?(.*?)</function>", re.DOTALL)
_XML_PARAMETER = re.compile(r"<parameter=([^>]+)>(.*?)</parameter>", re.DOTALL)
# A fence line as SWE-agent's thought-action parser reads it: "```tag" opens (nested when a block is open),
# a bare "```" closes the innermost open block (or opens one when none is open).
_FENCE_LINE = re.compile(r"^```(\S*)\s*\n|^```\s*$", re.MULTILINE)
# mini-swe-agent's action patterns: the xml config's tags, its v2 text fence, its v1 ```bash fence.
_MINI_ACTION_PATTERNS = (
    re.compile(r"<mswea_bash_command>(.*?)</mswea_bash_command>", re.DOTALL),
    re.compile(r"```mswea_bash_command\s*\n(.*?)\n```", re.DOTALL),
    re.compile(r"```bash\s*\n(.*?)\n```", re.DOTALL),
)

ACTION, THOUGHT, INPUT, OTHER = "action", "thought", "input", "other"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call of an expert reply: the tool's name, its arguments, and the id observations answer to."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""


@dataclass(frozen=True, slots=True)
class Move:
    """What one tool call amounts to: an environment ``action`` (``text`` is the action string), a
    ``thought`` (its reasoning), ``input`` typed into a running process, or an ``other`` tool (its name);
    ``tool`` names the tool called."""

    kind: str
    text: str
    call_id: str = ""
    tool: str = ""


def _quote(value: Any) -> str:
    return shlex.quote(value if isinstance(value, str) else json.dumps(value))


def _view_range_tokens(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value) if value.strip().startswith("[") else value.split()
    return [str(v) for v in value]


def _arguments(arguments: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    if isinstance(arguments, str):
        arguments = json.loads(arguments) if arguments.strip() else {}
    return arguments or {}


def render_editor_call(arguments: Mapping[str, Any]) -> str:
    """Return the canonical ``str_replace_editor`` command line for the tool call's arguments."""
    tokens = [EDITOR, str(arguments.get("command", "")), str(arguments.get("path", ""))]
    for option in EDITOR_OPTIONS:
        value = arguments.get(option)
        if value is None:
            continue
        if option == "view_range":
            tokens += ["--view_range", *_view_range_tokens(value)]
        else:
            tokens += [f"--{option}", value if isinstance(value, str) else str(value)]
    return " ".join(shlex.quote(token) for token in tokens)


def render_tool_call(name: str, arguments: Mapping[str, Any] | str | None) -> str:
    """Return the action string for one tool call (``arguments`` as a mapping or its JSON text)."""
    arguments = _arguments(arguments)
    if name in _BASH_TOOLS:
        return normalize_action(str(arguments.get("command", "")))
    if name in _SUBMIT_TOOLS:
        return "submit"
    if name == EDITOR:
        return render_editor_call(arguments)
    parts = [shlex.quote(name)]
    for key, value in arguments.items():
        parts += [shlex.quote(f"--{key}"), _quote(value)]
    return " ".join(parts)


def tool_call_from(call: Mapping[str, Any]) -> ToolCall:
    """Return the :class:`ToolCall` of an OpenAI-style ``tool_calls`` entry (arguments as JSON text or not).

    Raises ValueError when the arguments are not JSON.
    """
    function = call.get("function") or {}
    return ToolCall(
        str(function.get("name", "")), _arguments(function.get("arguments")), str(call.get("id") or "")
    )


def move_of(call: ToolCall) -> Move:
    """Return what one tool call amounts to (see :class:`Move`)."""
    arguments = call.arguments
    if call.name == "think":
        return Move(THOUGHT, str(arguments.get("thought", "")).strip(), call.id, call.name)
    if call.name in NON_ENVIRONMENT_TOOLS:
        return Move(OTHER, call.name, call.id, call.name)
    if call.name in _BASH_TOOLS and arguments.get("is_input") in _TRUE:
        return Move(INPUT, str(arguments.get("command", "")), call.id, call.name)
    return Move(ACTION, render_tool_call(call.name, arguments), call.id, call.name)


def parse_editor_command(action: str) -> dict[str, Any]:
    """Return the tool-call arguments of a ``str_replace_editor`` command line (inverse of rendering).

    Raises ValueError when the line does not split or is not an editor call.
    """
    tokens = shlex.split(action)
    if len(tokens) < 3 or tokens[0] != EDITOR:
        raise ValueError(f"not a {EDITOR} call: {action[:80]!r}")
    arguments: dict[str, Any] = {"command": tokens[1], "path": tokens[2]}
    rest = tokens[3:]
    while rest:
        flag = rest.pop(0)
        option = flag[2:] if flag.startswith("--") else ""
        if option not in EDITOR_OPTIONS:
            raise ValueError(f"unknown {EDITOR} argument {flag!r}")
        width = 2 if option == "view_range" else 1
        if len(rest) < width:
            raise ValueError(f"{EDITOR} argument {flag} lacks a value")
        values, rest = rest[:width], rest[width:]
        arguments[option] = [int(v) for v in values] if option == "view_range" else values[0]
    return arguments


def normalize_action(action: str) -> str:
    """Return ``action`` stripped, a ``str_replace_editor`` line re-rendered canonically, a submission as
    ``submit``.

    A submission is ``submit``/``finish``, or a command that prints mini-swe-agent's sentinel
    (``COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT``, earlier ``MINI_SWE_AGENT_FINAL_OUTPUT``) as its first output
    line: ``echo``/``printf`` of it, after nothing but ``cd …`` and ``git add …``.
    """
    action = action.strip()
    if action.startswith(EDITOR + " "):
        try:
            return render_editor_call(parse_editor_command(action))
        except ValueError:
            return action
    if action in _SUBMIT_TOOLS or _SUBMIT_SENTINEL.match(action):
        return "submit"
    return action


def _xml_parameter_value(raw: str) -> str:
    return re.sub(r"^\n|\n$", "", raw)


def _last_top_level_block(text: str) -> tuple[re.Match[str], re.Match[str]] | None:
    """Return the opening and closing fence of the last fenced block not nested in another, or None."""
    open_fences: list[re.Match[str]] = []
    last = None
    for fence in _FENCE_LINE.finditer(text):
        tag = fence.group(1)
        if open_fences and not tag:
            opening = open_fences.pop()
            if not open_fences:
                last = (opening, fence)
        elif tag is not None:
            open_fences.append(fence)
    return last


def _mini_block(text: str) -> tuple[int, int, str] | None:
    """Return ``(start, end, command)`` of the reply's one mini-swe-agent action, or None when it has none or
    several (mini-swe-agent then runs nothing and asks again)."""
    for pattern in _MINI_ACTION_PATTERNS:
        matches = list(pattern.finditer(text))
        if matches:
            return (matches[0].start(), matches[0].end(), matches[0].group(1)) if len(matches) == 1 else None
    return None


def call_from_text(text: str, *, mini_swe_agent: bool = False) -> tuple[str, ToolCall] | None:
    """Find the call in a text-mode model reply; return ``(thought, call)`` or None when it has none.

    Understands the ``<function=name><parameter=key>value</parameter></function>`` form (SWE-smith "xml",
    OpenHands without native tool calls), then fenced blocks: as SWE-agent's thought-action parser reads them
    (the last block not nested in another, whatever its language tag, so a fence inside an argument stays
    part of it), or with ``mini_swe_agent`` as mini-swe-agent does (exactly one ``<mswea_bash_command>``,
    ```` ```mswea_bash_command ```` or ```` ```bash ```` block, up to the first closing fence). A command from
    a block is a ``bash`` call.
    """
    function = _XML_FUNCTION.search(text)
    if function:
        name = function.group(1).strip()
        arguments: dict[str, Any] = {
            key.strip(): _xml_parameter_value(value)
            for key, value in _XML_PARAMETER.findall(function.group(2))
        }
        if name == EDITOR and "view_range" in arguments:
            arguments["view_range"] = _view_range_tokens(arguments["view_range"])
        thought = text[: function.start()] + text[function.end() :]
        return thought.strip(), ToolCall(name, arguments)
    if mini_swe_agent:
        block = _mini_block(text)
    else:
        fences = _last_top_level_block(text)
        block = (
            (fences[0].start(), fences[1].end(), text[fences[0].end() : fences[1].start()])
            if fences
            else None
        )
    if block is None:
        return None
    start, end, command = block
    return (text[:start] + text[end:]).strip(), ToolCall("bash", {"command": command})
