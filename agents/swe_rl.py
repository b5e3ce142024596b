"""SWE-RL's repair protocol (Wei et al. 2025, arXiv 2502.18449; github.com/facebookresearch/swe-rl): the
prompt its models were trained and evaluated with, and the way its evaluation turns a reply into a patch.

Prompt: a "thinking" system prompt (reason inside ``<think>…</think>``, answer inside
``<solution>…</solution>``) and one user turn holding the issue and the full text of each file, each as
``### path`` followed by its text, the files separated by a blank line, inside one fence. The texts are in
:mod:`agents.swe_rl_prompts`: SWE-RL's format in our words by default, SWE-RL's own wording from a file of
the user's (``--prompt-texts``) for a word-for-word reproduction.

A reply becomes a patch as SWE-RL's evaluation (Agentless Mini's repair post-processing) does it:

1. the answer is the text after the first ``<solution>`` and before the next ``</solution>`` (either tag may
   be missing: the reply's text then runs to that end);
2. edits are read only from `````python`` fenced blocks; inside one, each ``<<<<<<< SEARCH`` … ``=======`` …
   ``>>>>>>> REPLACE`` edit belongs to the path written before its SEARCH line (``### `` stripped), or to the
   block's previous path; repeated edits of a file count once;
3. edits of files that were not shown are dropped (no new files); an edit whose SEARCH text does not occur in
   the file *as shown* is skipped (partial application) and the others are applied in order, each replacing
   every occurrence;
4. the patch is empty when no file changed, when a changed ``.py`` file no longer parses, or when the change
   is only blank lines.

Two deliberate differences, both about bytes rather than behaviour: the diff is built from the files' real
text (``agents.oracle.unified_patch``; SWE-RL rebuilt files from lines and dropped "No newline" markers), and
the syntax check is applied to ``.py`` files only (SWE-RL parsed every edited file as Python).

:func:`reward_format_error` is the stricter reading of SWE-RL's training reward (exactly one of each tag, a
non-empty thought, every fenced ``### path`` block well formed, every SEARCH found, none identical to its
REPLACE); oracle and Agentless mode record it beside the patch, it does not change the patch.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from agents.oracle import OracleProtocol, unified_patch
from agents.policies import Conversation
from agents.swe_rl_prompts import DEFAULT_TEXTS, PromptTexts

SEARCH, DIVIDER, REPLACE = "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"
THINK_START, THINK_END = "<think>", "</think>"
SOLUTION_START, SOLUTION_END = "<solution>", "</solution>"

_PYTHON_BLOCK = re.compile(r"```python\n(.*?)\n```", re.DOTALL)
_REWARD_BLOCK = re.compile(
    r"```.*?\n### (.*)\n<<<<<<< SEARCH\n([\s\S]*?)\n=======\n([\s\S]*?)\n>>>>>>> REPLACE\n```"
)


@dataclass
class RepairResult:
    """A reply read as SWE-RL reads it: the patch ("" when none), why it is empty, and what was found."""

    patch: str
    error: str | None
    edits: int = 0
    """SEARCH/REPLACE edits read from the reply's python blocks (repeats counted once)."""
    applied: int = 0
    """Edits whose SEARCH text was found in the shown file (the others are skipped)."""
    unknown_files: list[str] = field(default_factory=list)
    """Paths the reply edits that were not shown (their edits are dropped)."""
    new_texts: dict[str, str] = field(default_factory=dict)
    """Edited files' full texts after the applied edits (unchanged files left out)."""
    format_error: str | None = None
    """Why the reply breaks SWE-RL's stricter training-reward format (None: it keeps it)."""

    def details(self) -> dict:
        """Return the counts and the format verdict, JSON-ready (the texts left out)."""
        return {
            "edits": self.edits,
            "applied": self.applied,
            "unknown_files": self.unknown_files,
            "format_error": self.format_error,
        }


def file_context(files: Mapping[str, str]) -> str:
    """Return the files as SWE-RL shows them: ``### path`` then the text, files separated by a blank line."""
    return "\n\n".join(f"### {path}\n{text}" for path, text in files.items())


def repair_prompt(
    problem_statement: str,
    files: Mapping[str, str],
    thinking: bool = True,
    texts: PromptTexts = DEFAULT_TEXTS,
) -> Conversation:
    """Return SWE-RL's repair conversation: the thinking system prompt (when ``thinking``) and the issue with
    the files' full text as the user turn, in ``texts``' wording."""
    user = texts.repair.format(problem_statement=problem_statement, content=file_context(files)).strip()
    system = [{"role": "system", "content": texts.system}] if thinking else []
    return [*system, {"role": "user", "content": user}]


def extract_solution(reply: str) -> str:
    """Return the text between the first ``<solution>`` and the next ``</solution>`` (a missing tag leaves
    that end of the reply as it is), stripped."""
    return reply.split(SOLUTION_START, 1)[-1].split(SOLUTION_END, 1)[0].strip()


def parse_edits(answer: str) -> dict[str, list[tuple[str, str]]]:
    """Return path -> [(search, replace), …] from the answer's `````python`` blocks, in order, repeats of a
    file's edit dropped; pieces without one SEARCH line or one divider line are ignored."""
    edits: dict[str, list[tuple[str, str]]] = {}
    for block in _PYTHON_BLOCK.findall(answer):
        path = None
        for piece in block.split(REPLACE)[:-1]:
            piece = piece.strip()
            head, *rest = piece.split(SEARCH)
            if rest and head.lstrip("#").strip():
                path = head.lstrip("#").strip()
            if len(rest) != 1 or path is None:
                continue
            body = "\n".join(rest[0].splitlines()[1:])
            halves = body.split(f"\n{DIVIDER}\n")
            if len(halves) != 2:
                continue
            pair = (halves[0], halves[1])
            if pair not in edits.setdefault(path, []):
                edits[path].append(pair)
    return edits


def apply_edits(
    files: Mapping[str, str], edits: Mapping[str, list[tuple[str, str]]]
) -> tuple[dict[str, str], int, list[str]]:
    """Return (edited files' new texts, edits applied, paths not among ``files``): per file, the edits whose
    SEARCH occurs in the shown text are applied in order, each replacing every occurrence."""
    texts, applied, unknown = {}, 0, []
    for path, pairs in edits.items():
        if path not in files:
            unknown.append(path)
            continue
        original = text = files[path]
        for search, replace in pairs:
            if search in original:
                text = text.replace(search, replace)
                applied += 1
        if text != original:
            texts[path] = text
    return texts, applied, unknown


def reply_to_repair(reply: str, files: Mapping[str, str]) -> RepairResult:
    """Return the patch SWE-RL's evaluation makes of ``reply`` for ``files`` (path -> text shown), with the
    reason when it is empty and the counts of edits read and applied."""
    format_error = reward_format_error(reply, files)
    if not reply.strip():
        return RepairResult(
            "", "no reply (the prompt may not fit the model's context)", format_error=format_error
        )
    edits = parse_edits(extract_solution(reply))
    count = sum(len(pairs) for pairs in edits.values())
    texts, applied, unknown = apply_edits(files, edits)
    result = RepairResult("", None, count, applied, unknown, texts, format_error)
    if not count:
        result.error = "no SEARCH/REPLACE edit in a ```python block"
    elif not texts:
        result.error = "no edit applies (SEARCH text not found, or the file was not shown)"
    elif broken := [path for path, text in texts.items() if path.endswith(".py") and not _parses(text)]:
        result.error = f"the edited {broken[0]} is not valid Python"
    elif all(_without_blank_lines(texts[path]) == _without_blank_lines(files[path]) for path in texts):
        result.error = "the edits change only blank lines"
    else:
        result.patch = unified_patch({path: files[path] for path in texts}, texts)
    return result


def reward_format_error(reply: str, files: Mapping[str, str]) -> str | None:
    """Return why ``reply`` fails SWE-RL's training-reward format for ``files`` (None when it passes): one
    of each think/solution tag, a non-empty thought, at least one fenced ``### path`` edit, every SEARCH found
    in its file (an unknown file reads as empty) and no SEARCH equal to its REPLACE."""
    for tag in (THINK_START, THINK_END, SOLUTION_START, SOLUTION_END):
        if reply.count(tag) != 1:
            return f"count of {tag} is not 1"
    if not reply.split(THINK_START)[1].split(THINK_END)[0].strip():
        return "the thought is empty"
    blocks = _REWARD_BLOCK.findall(reply.split(SOLUTION_START)[1].split(SOLUTION_END)[0].strip())
    if not blocks:
        return "no valid SEARCH/REPLACE block"
    texts: dict[str, str] = {}
    for path, search, replace in blocks:
        if search == replace:
            return f"{path}: SEARCH and REPLACE are identical"
        text = texts.get(path, "\n" + files.get(path, ""))
        if "\n" + search not in text:
            return f"{path}: SEARCH text not found"
        texts[path] = text.replace("\n" + search, "\n" + replace)
    return None


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def _without_blank_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip())


def _oracle_to_patch(reply: str, files: Mapping[str, str]) -> tuple[str, str | None, dict]:
    result = reply_to_repair(reply, files)
    return result.patch, result.error, result.details()


SWE_RL_ORACLE = OracleProtocol(prompt=repair_prompt, to_patch=_oracle_to_patch)
"""Oracle mode under SWE-RL's protocol (`--oracle-prompt swe-rl`)."""
