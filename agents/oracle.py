"""SWE-bench's "oracle" mode: the model sees the issue and the files the gold patch edits, and answers with
edits that become a unified diff.

Two protocols (:class:`OracleProtocol`: a prompt and a reading of the reply): SWE-RL's, the paper's setting
(``agents.swe_rl.SWE_RL_ORACLE``), and ours (:data:`OURS`, below), kept for small models.

Our edit format (SEARCH/REPLACE blocks, as in aider and Agentless; free text around the blocks is ignored, and
blocks may sit inside ``` fences)::

    path/inside/the/repo.py
    <<<<<<< SEARCH
    lines copied exactly from the file
    =======
    the lines that replace them
    >>>>>>> REPLACE

The path is the last non-blank, non-fence line before ``<<<<<<< SEARCH``. Each SEARCH text must occur
exactly once in the file as the earlier blocks left it; an empty SEARCH creates a file that does not exist.
A reply with no block, an unterminated block, an unknown file or a SEARCH text that does not match exactly
once gives an empty patch and the reason (strict: no partial patches). The edited texts are turned into a
git-style unified diff (``a/`` and ``b/`` prefixes) with :func:`difflib.unified_diff`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from agents.policies import Conversation, Policy
from harness import TaskInstance
from harness.sandbox import DockerSandbox, Sandbox, SandboxConfig

SEARCH, DIVIDER, REPLACE = "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"
REPO_ROOT = "/testbed"

ORACLE_SYSTEM_PROMPT = f"""\
You are a software engineer fixing an issue in a Python repository. You are given the issue and the full \
text of the files that need to change. Think it through, then write your changes as SEARCH/REPLACE \
blocks, one per change, each in exactly this form:

path/inside/the/repo.py
{SEARCH}
lines copied exactly from the file, enough to match one place
{DIVIDER}
the lines that replace them
{REPLACE}

The SEARCH lines must match the file exactly (indentation included) and only once. To create a new file, \
leave the SEARCH part empty."""


class EditError(ValueError):
    """A reply whose edits cannot be read or applied; the message is the reason, in a few words."""


@dataclass(frozen=True)
class Edit:
    """One SEARCH/REPLACE block: in ``path``, replace the text ``search`` by ``replace``."""

    path: str
    search: str
    replace: str


@dataclass
class OracleResult:
    """What oracle mode made of one instance: the reply, its patch ("" when malformed) and why."""

    instance_id: str
    reply: str
    patch: str
    error: str | None
    files: list[str]
    details: dict = field(default_factory=dict)
    """What the protocol read in the reply (e.g. SWE-RL's edits found and applied, its format verdict)."""


@dataclass(frozen=True)
class OracleProtocol:
    """How oracle mode asks and reads: ``prompt(problem_statement, files)`` gives the conversation,
    ``to_patch(reply, files)`` gives (patch, reason when empty, details)."""

    prompt: Callable[[str, Mapping[str, str]], Conversation]
    to_patch: Callable[[str, Mapping[str, str]], tuple[str, str | None, dict]]


def edited_files(patch: str) -> list[str]:
    """Return the paths of the files that ``patch`` modifies or deletes (files it adds are left out)."""
    from unidiff import PatchSet

    return [item.path for item in PatchSet(patch) if not item.is_added_file]


def read_oracle_files(
    instance: TaskInstance, sandbox_factory: Callable[[SandboxConfig], Sandbox] | None = None
) -> dict[str, str]:
    """Return ``{path: text}`` of the files the gold patch edits, read in a sandbox of the instance's image
    (the repository at its base commit)."""
    factory = sandbox_factory or DockerSandbox
    with factory(SandboxConfig(image=instance.image)) as sandbox:
        return {
            path: sandbox.read_file(f"{REPO_ROOT}/{path}").decode("utf-8", "replace")
            for path in edited_files(instance.patch)
        }


def oracle_prompt(problem_statement: str, files: Mapping[str, str]) -> Conversation:
    """Return the chat prompt: the edit format as system prompt; the issue and each file's text as user."""
    shown = "\n".join(f"[start of {path}]\n{text.rstrip()}\n[end of {path}]" for path, text in files.items())
    task = f"<issue>\n{problem_statement.strip()}\n</issue>\n\n<code>\n{shown}\n</code>"
    return [{"role": "system", "content": ORACLE_SYSTEM_PROMPT}, {"role": "user", "content": task}]


def parse_edits(reply: str) -> list[Edit]:
    """Return the reply's SEARCH/REPLACE blocks in order; raise EditError when there is none or one is
    unterminated or has no path."""
    lines = reply.splitlines()
    edits, index = [], 0
    while index < len(lines):
        if lines[index].strip() != SEARCH:
            index += 1
            continue
        path = _path_before(lines, index)
        search, index = _section(lines, index + 1, DIVIDER)
        replace, index = _section(lines, index, REPLACE)
        edits.append(Edit(path, search, replace))
    if not edits:
        raise EditError("no SEARCH/REPLACE block in the reply")
    return edits


def apply_edits(files: Mapping[str, str], edits: Sequence[Edit]) -> dict[str, str]:
    """Return the texts of every file after the edits (unchanged files included); raise EditError naming
    the file when an edit's SEARCH text does not occur exactly once or its file is unknown."""
    texts = dict(files)
    for edit in edits:
        if edit.path not in texts:
            if edit.search:
                raise EditError(f"{edit.path} is not one of the files shown (and SEARCH is not empty)")
            texts[edit.path] = edit.replace
            continue
        texts[edit.path] = _replace_once(edit, texts[edit.path])
    return texts


def unified_patch(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """Return the git-style unified diff from ``before`` to ``after`` (a path missing from ``before`` is a
    new file); "" when nothing changed."""
    parts = []
    for path in sorted(after):
        old, new = before.get(path), after[path]
        if old == new:
            continue
        header = [f"diff --git a/{path} b/{path}\n"]
        if old is None:
            header.append("new file mode 100644\n")
        lines = difflib.unified_diff(
            _lines(old or ""),
            _lines(new),
            fromfile="/dev/null" if old is None else f"a/{path}",
            tofile=f"b/{path}",
        )
        parts.append("".join(header) + "".join(_mark_missing_newline(lines)))
    return "".join(parts)


def reply_to_patch(reply: str, files: Mapping[str, str]) -> tuple[str, str | None]:
    """Return (patch, None) for a reply whose edits apply to ``files``, else ("", the reason)."""
    if not reply:
        return "", "no reply (the prompt may not fit the model's context)"
    if not reply.strip():
        return "", "blank reply"
    try:
        patch = unified_patch(files, apply_edits(files, parse_edits(reply)))
    except EditError as error:
        return "", str(error)
    return (patch, None) if patch else ("", "the edits change nothing")


def _ours_to_patch(reply: str, files: Mapping[str, str]) -> tuple[str, str | None, dict]:
    return (*reply_to_patch(reply, files), {})


OURS = OracleProtocol(prompt=oracle_prompt, to_patch=_ours_to_patch)
"""Our own oracle protocol (`--oracle-prompt ours`): the system prompt above, strict edits."""


def oracle_predictions(
    instances: Sequence[TaskInstance],
    policy: Policy,
    files: Mapping[str, Mapping[str, str]],
    protocol: OracleProtocol = OURS,
) -> list[OracleResult]:
    """Return one OracleResult per instance; ``files`` maps instance id to its oracle files. All prompts go
    to the policy in one batch, asked and read by ``protocol``."""
    prompts = [protocol.prompt(i.problem_statement, files[i.instance_id]) for i in instances]
    replies = policy.generate(prompts, n=1)
    results = []
    for instance, (reply,) in zip(instances, replies, strict=True):
        shown = files[instance.instance_id]
        patch, error, details = protocol.to_patch(reply, shown)
        results.append(OracleResult(instance.instance_id, reply, patch, error, list(shown), details))
    return results


def _path_before(lines: list[str], index: int) -> str:
    for line in reversed(lines[:index]):
        text = line.strip()
        if not text or text.startswith("```"):
            continue
        path = text.strip("`#* ").removeprefix("a/").removeprefix("b/")
        if path:
            return path
        break
    raise EditError(f"no file path before the {SEARCH} on line {index + 1}")


def _section(lines: list[str], start: int, end_marker: str) -> tuple[str, int]:
    """Return the text of lines[start:] up to the line ``end_marker`` and the index after that line."""
    for index in range(start, len(lines)):
        if lines[index].strip() == end_marker:
            body = lines[start:index]
            return "".join(line + "\n" for line in body), index + 1
    raise EditError(f"a block starting on line {start} has no {end_marker!r} line")


def _replace_once(edit: Edit, text: str) -> str:
    """Return ``text`` with the edit's SEARCH text replaced; a file without a final newline matches as if
    it had one, and keeps lacking it unless the edit reaches its end."""
    padded = text if text.endswith("\n") or not text else text + "\n"
    found = padded.count(edit.search) if edit.search else 0
    if found != 1:
        where = "an empty SEARCH" if not edit.search else f"the SEARCH text matches {found} places"
        raise EditError(f"{edit.path}: {where} (it must match exactly one)")
    start = padded.index(edit.search)
    end = start + len(edit.search)
    edited = padded[:start] + edit.replace + padded[end:]
    return edited[:-1] if padded is not text and end < len(padded) else edited


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _mark_missing_newline(lines):
    for line in lines:
        yield line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
