"""Choosing one patch among the repair samples, as SWE-RL's Agentless Mini reranks them.

Candidates are the samples with a non-empty patch. With regression results, the filter keeps the candidates
that break the fewest originally-passing tests (a candidate never run counts as 10000 broken); with
reproduction results, the candidates are grouped by the set of kept reproduction tests they pass and the
groups with the highest (tests² × candidates) are kept. The first of (regression then reproduction,
reproduction then regression, reproduction alone, regression alone) that keeps some but not all candidates
is used, else all of them; the winner is the most frequent normalized patch among those kept, ties going to
the earlier sample.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

NEVER_RUN = 10_000


@dataclass(frozen=True)
class Candidate:
    """One repair sample's patch and what the tests said of it."""

    index: int
    patch: str
    key: str
    """The normalized patch (:func:`normalized_key`): equal keys are the same change."""
    failed_regressions: int | None = None
    """Originally-passing tests the patch breaks (None: not run, e.g. it did not apply)."""
    reproduced_by: frozenset[str] | None = None
    """Ids of the kept reproduction tests that report the issue resolved with the patch (None: not run)."""


def normalized_key(new_texts: Mapping[str, str]) -> str:
    """Return a key of the edited files' new texts that ignores formatting and comments (``ast.unparse`` of
    each ``.py`` file that parses), so that patches making the same change compare equal."""

    def normal(path: str, text: str) -> str:
        if not path.endswith(".py"):
            return text
        try:
            return ast.unparse(ast.parse(text))
        except (SyntaxError, ValueError):
            return text

    return "\n".join(f"### {path}\n{normal(path, new_texts[path])}" for path in sorted(new_texts))


def select(candidates: Sequence[Candidate], regression: bool, reproduction: bool) -> Candidate | None:
    """Return the chosen candidate (None when no candidate has a patch); ``regression`` / ``reproduction``
    say whether those rankers' results are used."""
    ids = [c for c in candidates if c.patch.strip() and c.key.strip()]
    if not ids:
        return None

    def failed(c: Candidate) -> int:
        if not regression:
            return 0
        return NEVER_RUN if c.failed_regressions is None else c.failed_regressions

    def passed(c: Candidate) -> frozenset[str]:
        return (c.reproduced_by or frozenset()) if reproduction else frozenset()

    def by_regression(group: list[Candidate]) -> list[Candidate]:
        least = min((failed(c) for c in group), default=0)
        return [c for c in group if failed(c) == least]

    def by_reproduction(group: list[Candidate]) -> list[Candidate]:
        groups: dict[frozenset[str], list[Candidate]] = {}
        for c in group:
            groups.setdefault(passed(c), []).append(c)
        best = max((len(t) ** 2 * len(g) for t, g in groups.items()), default=0)
        return [c for t, g in groups.items() if len(t) ** 2 * len(g) == best for c in g]

    def then(first: Callable, second: Callable) -> list[Candidate]:
        return second(first(ids))

    considered = [
        then(by_regression, by_reproduction),
        then(by_reproduction, by_regression),
        by_reproduction(ids),
        by_regression(ids),
    ]
    kept = next((group for group in considered if 0 < len(group) != len(ids)), ids)
    votes = Counter(c.key for c in kept)
    first_seen: dict[str, int] = {}
    for c in kept:
        first_seen.setdefault(c.key, c.index)
    return max(kept, key=lambda c: (votes[c.key], -first_seen[c.key]))
