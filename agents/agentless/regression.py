"""Regression tests as Agentless runs them: the instance's own test command on the repository's existing
tests (the eval script without the task's test patch), once on the original code to learn which tests pass
there, then per candidate patch; a candidate's score is how many of those tests no longer pass."""

from __future__ import annotations

import re
from collections.abc import Mapping

PASSING = frozenset({"PASSED", "XFAIL"})
_HEREDOC_APPLY = re.compile(r"^git apply[^\n]*<<-?\s*'?(\w+)'?\n.*?^\1\n?", re.MULTILINE | re.DOTALL)


def regression_script(eval_script: str) -> str:
    """Return ``eval_script`` without the step that applies the test patch (its here-document), so that it
    runs the repository's existing tests."""
    return _HEREDOC_APPLY.sub("", eval_script)


def passing_tests(status: Mapping[str, str]) -> set[str]:
    """Return the tests whose status (swebench's parser) counts as passing."""
    return {test for test, state in status.items() if state in PASSING}


def failed_regressions(original: Mapping[str, str], patched: Mapping[str, str]) -> list[str]:
    """Return the tests that pass on the original code but not with the patch, sorted."""
    return sorted(passing_tests(original) - passing_tests(patched))
