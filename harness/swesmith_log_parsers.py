"""The log parsers of SWE-smith's profiles (in our words), registered beside swebench's own.

Each parser reads a test log into test id -> status (PASSED, FAILED, SKIPPED, ERROR, XFAIL) the way the
SWE-smith profile named in `harness.swesmith_profiles` reads it. `register()` adds them to swebench's
`PARSER_REGISTRY` under their `swesmith_*` names, so that grading reads SWE-smith's logs through swebench's
report (`get_eval_report`); importing `harness.grading`'s SWE-smith preparation registers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_STATUSES = ("PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL")
_VERBOSE_LINE = re.compile(rf"^(\S+)\s+({'|'.join(_STATUSES)})")
_XDIST_LINE = re.compile(rf"^\[gw\d+\]\s({'|'.join(_STATUSES)})\s(\S+)")
_SUMMARY_LINE = re.compile(rf"^({'|'.join(_STATUSES)})\s(\S+)")
_UNITTEST_LINE = re.compile(r"^([\w\-,.\s()']+)\s\.{3}\s(ok|FAIL|ERROR)$")


def parse_pytest_verbose(log: str, _spec: Any = None) -> dict[str, str]:
    """Return the statuses of `pytest --verbose` lines `<test id> STATUS [ nn%]` (SWE-smith's default)."""
    return {m.group(1): m.group(2) for m in map(_VERBOSE_LINE.match, log.splitlines()) if m}


def parse_pytest_xdist(log: str, _spec: Any = None) -> dict[str, str]:
    """Return the statuses of pytest-xdist's verbose lines `[gwN] STATUS <test id>` (autograd)."""
    return {m.group(2): m.group(1) for m in map(_XDIST_LINE.match, log.splitlines()) if m}


def parse_pytest_summary(log: str, _spec: Any = None) -> dict[str, str]:
    """Return the statuses of pytest's `-rA` summary lines `STATUS <test id>` (paramiko)."""
    return {m.group(2): m.group(1) for m in map(_SUMMARY_LINE.match, log.splitlines()) if m}


def parse_unittest_verbose(log: str, _spec: Any = None) -> dict[str, str]:
    """Return the statuses of unittest's verbose lines `<test> ... ok|FAIL|ERROR` (python-slugify)."""
    named = {"ok": "PASSED", "FAIL": "FAILED", "ERROR": "ERROR"}
    return {m.group(1): named[m.group(2)] for m in map(_UNITTEST_LINE.match, log.splitlines()) if m}


def parse_tornado(log: str, _spec: Any = None) -> dict[str, str]:
    """Return the statuses of tornado's test runner: `<test (module.Class)> ... ok` passes, `... skipped`
    skips, and the `FAIL: <test> (<module.Class>)` / `ERROR: …` headers fail."""
    statuses: dict[str, str] = {}
    for line in log.splitlines():
        if line.endswith("... ok"):
            statuses[line.split(" ... ")[0]] = "PASSED"
        elif " ... skipped " in line:
            statuses[line.split(" ... ")[0]] = "SKIPPED"
        elif line.startswith(("ERROR:", "FAIL:")):
            statuses[" ".join(line.split()[1:3])] = "FAILED"
    return statuses


def parse_mypy(log: str, _spec: Any = None) -> dict[str, str]:
    """Return the statuses of mypy's `-rA` lines holding PASSED or FAILED (the test: the last word)."""
    statuses: dict[str, str] = {}
    for line in log.splitlines():
        status = next((word for word in ("PASSED", "FAILED") if word in line), None)
        if status and line.split():
            statuses[line.split()[-1]] = status
    return statuses


PARSERS: dict[str, Callable[[str, Any], dict[str, str]]] = {
    "swesmith_pytest": parse_pytest_verbose,
    "swesmith_pytest_xdist": parse_pytest_xdist,
    "swesmith_pytest_summary": parse_pytest_summary,
    "swesmith_unittest": parse_unittest_verbose,
    "swesmith_tornado": parse_tornado,
    "swesmith_mypy": parse_mypy,
}
"""SWE-smith's parsers by the names its profiles give in `harness.swesmith_profiles`."""


def register() -> None:
    """Add SWE-smith's parsers to swebench's parser registry (idempotent)."""
    from swebench.harness.log_parsers import PARSER_REGISTRY

    PARSER_REGISTRY.update(PARSERS)
