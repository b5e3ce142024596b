"""Which files each repair sample sees, as SWE-RL's Agentless Mini chooses them: the localization samples'
file lists, empty and repeated lists dropped, taken in turn until there is one per repair sample; each
context holds its files in the listed order (shuffled when there are several samples) while they fit the
budget, else the first file alone."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


def file_lists(found: Sequence[Sequence[str]], samples: int) -> list[list[str]]:
    """Return ``samples`` file lists cycled from the distinct non-empty ``found`` lists ([] when none)."""
    distinct: list[list[str]] = []
    for paths in found:
        if paths and list(paths) not in distinct:
            distinct.append(list(paths))
    return [distinct[index % len(distinct)] for index in range(samples)] if distinct else []


def repair_files(
    paths: Sequence[str], texts: Mapping[str, str], max_chars: int, rng: random.Random | None = None
) -> dict[str, str]:
    """Return path -> text of the ``paths`` shown to one repair sample: in order while the running size
    (``### path`` header included) stays within ``max_chars``, skipping those that do not fit; the first
    path alone when none fits; shuffled by ``rng`` when given."""
    chosen, size = [], 0
    for path in paths:
        cost = len(f"### {path}\n{texts[path]}")
        if size + cost <= max_chars:
            chosen.append(path)
            size += cost
    if not chosen and paths:
        chosen = [paths[0]]
    if rng is not None:
        rng.shuffle(chosen)
    return {path: texts[path] for path in chosen}
