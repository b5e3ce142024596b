"""File-level localization as SWE-RL's Agentless Mini does it: the model sees the issue and the
repository's Python files as an indented tree and names the files to edit, one path a line in a fence.

The tree leaves out every path with a part starting with ``test`` (not for pytest's own repository); with one
sample it lists at most 5 files at indentation 4 in sorted order, with several each sample asks for 2 to 5
files at indentation 2 or 4, the tree shuffled. A reply's lines count only when they equal a file's path.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from agents.policies import Conversation
from agents.swe_rl import extract_solution
from agents.swe_rl_prompts import DEFAULT_TEXTS, PromptTexts


def source_files(paths: Iterable[str], repo: str) -> list[str]:
    """Return the ``.py`` paths among ``paths`` that localization may name, sorted: none with a path part
    starting with ``test`` unless ``repo`` is pytest's own."""
    keep_tests = repo.split("/")[-1].startswith("pytest")
    return sorted(
        path
        for path in paths
        if path.endswith(".py") and (keep_tests or not any(p.startswith("test") for p in path.split("/")))
    )


def structure_text(files: Sequence[str], indentation: int = 4, rng: random.Random | None = None) -> str:
    """Return ``files`` as an indented tree (a folder's name, then its entries one level deeper), entries in
    order, or shuffled at every level when ``rng`` is given."""
    tree: dict = {}
    for path in files:
        node = tree
        for part in path.split("/"):
            node = node.setdefault(part, {})
    lines: list[str] = []

    def walk(node: dict, level: int) -> None:
        items = list(node.items())
        if rng is not None:
            rng.shuffle(items)
        for name, children in items:
            lines.append(" " * (level * indentation) + name)
            walk(children, level + 1)

    walk(tree, 0)
    return "\n".join(lines)


def localization_prompt(
    problem_statement: str,
    files: Sequence[str],
    sampled: bool,
    rng: random.Random,
    thinking: bool = True,
    texts: PromptTexts = DEFAULT_TEXTS,
) -> Conversation:
    """Return one localization conversation; ``sampled`` (several samples) draws the file count, the
    indentation and the tree's order from ``rng`` as SWE-RL does."""
    count = rng.randint(2, 5) if sampled else 5
    indentation = rng.choice([2, 4]) if sampled else 4
    structure = structure_text(files, indentation, rng if sampled else None)
    user = texts.localization.format(problem_statement=problem_statement, structure=structure, n=count)
    system = [{"role": "system", "content": texts.system}] if thinking else []
    return [*system, {"role": "user", "content": user.strip()}]


def found_files(reply: str, files: Sequence[str]) -> list[str]:
    """Return the reply's answer lines that are exactly one of ``files``, in order, each once."""
    known = set(files)
    found: list[str] = []
    for line in extract_solution(reply).split("\n"):
        if line in known and line not in found:
            found.append(line)
    return found


def recall(found: Iterable[Iterable[str]], gold: Sequence[str]) -> float | None:
    """Return the share of the ``gold`` files named by any of the ``found`` lists (None when there is no
    gold file)."""
    named = {path for paths in found for path in paths}
    return sum(path in named for path in gold) / len(gold) if gold else None
