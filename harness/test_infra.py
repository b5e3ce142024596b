"""Which changes of a candidate patch touch the test infrastructure, and the policies that act on them.

SWE-bench's eval script resets only the test files its test patch names; every other file a candidate patch
changes stays in place while the tests run. A patch that changes what decides how tests are collected and
run (a `conftest.py`, pytest's or tox's configuration, `sitecustomize.py`, a `.pth` file, a pytest plugin,
the test files themselves) can earn a verdict without fixing anything. `find_test_infra_changes` names each
such file with the reason; `strip_files` removes files from a patch; `graded_under_policy` grades a patch
under one of `TEST_INFRA_POLICIES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from harness.instances import TaskInstance

if TYPE_CHECKING:
    from harness.grading import GradeResult

TestInfraPolicy = Literal["reject", "strip", "allow"]
TEST_INFRA_POLICIES: tuple[str, ...] = ("reject", "strip", "allow")
""""reject": a patch with test-infrastructure changes is not resolved (its grade says why); "strip": those
files' diffs are removed before grading; "allow": graded as SWE-bench grades (the changes only listed)."""

BaseReader = Callable[[str], "str | None"]
"""Returns a file's text at the base commit (a repository-relative path), or None when it is unknown."""

_TEST_DIRS = frozenset({"tests", "test", "testing"})
_STARTUP_MODULES = frozenset({"sitecustomize.py", "usercustomize.py"})
_RUNNER_NAMES = frozenset({"pytest.py", "pytest", "_pytest", "py.py", "pluggy"})
_SECTIONED_CONFIGS = frozenset({"setup.cfg", "pyproject.toml"})
_SECTION_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_GIT_HEADER = re.compile(r"^diff --git (?:a/)?(\S+) (?:b/)?(\S+)")
_FILE_HEADER = re.compile(r"^(?:---|\+\+\+) (?:[ab]/)?([^\t\r\n]+)")
_UNKNOWN = None


@dataclass(frozen=True)
class TestInfraChange:
    """One file of a patch that decides how tests run or are collected, and why it counts as such."""

    __test__ = False  # not a pytest test class, whatever its name

    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """Return the change as a JSON-ready dict (path, reason)."""
        return {"path": self.path, "reason": self.reason}


def find_test_infra_changes(
    instance: TaskInstance, patch: str, read_base: BaseReader | None = None
) -> list[TestInfraChange]:
    """Return the test-infrastructure changes `patch` makes to `instance`'s repository, one per file, in
    the patch's order.

    `read_base` gives a file's text at the base commit; it tells in which section a hunk of `setup.cfg` or
    `pyproject.toml` lies when the hunk does not show its section header. Without it (or when it returns
    None) such a hunk counts as a change to pytest's settings, since it may be one.
    """
    test_patch_files = set(_patched_paths(instance.test_patch or ""))
    changes: list[TestInfraChange] = []
    for block in _file_blocks(patch):
        for path, reason in _block_changes(block, test_patch_files, read_base):
            if all(change.path != path for change in changes):
                changes.append(TestInfraChange(path, reason))
    return changes


def strip_files(patch: str, paths: Iterable[str]) -> str:
    """Return `patch` without the diffs of the files in `paths` (by old or new name), the rest untouched
    byte for byte."""
    dropped = set(paths)
    kept = [block for block in _file_blocks(patch) if not dropped & set(_block_paths(block))]
    return "".join(kept)


def graded_under_policy(
    instance: TaskInstance,
    patch: str,
    policy: TestInfraPolicy,
    grader: Callable[[TaskInstance, str], GradeResult],
    read_base: BaseReader | None = None,
) -> GradeResult:
    """Grade `patch` with `grader` under a test-infrastructure policy; return the grade.

    "allow" grades the patch as it is; "strip" grades it without the files `find_test_infra_changes` names
    (listed in the grade's `stripped`); "reject" grades it as it is and, when it changes test
    infrastructure, marks it not resolved with the reason in `rejected` (the swebench report keeps
    SWE-bench's own verdict). The grade's `test_infra_policy` names the policy; its `test_infra_changes`
    are the grader's, or ours when the grader names none (a grader other than `harness.grading.grade`).
    """
    if policy not in TEST_INFRA_POLICIES:
        known = ", ".join(TEST_INFRA_POLICIES)
        raise ValueError(f"test_infra_changes must be one of {known}, not {policy!r}")
    changes = [] if policy == "allow" else find_test_infra_changes(instance, patch, read_base)
    stripped = changes if policy == "strip" else []
    graded = strip_files(patch, [change.path for change in stripped]) if stripped else patch
    result = grader(instance, graded)
    result = replace(result, test_infra_policy=policy, stripped=[change.to_json() for change in stripped])
    if policy == "reject" and (result.test_infra_changes or changes):
        listed = result.test_infra_changes or [change.to_json() for change in changes]
        files = ", ".join(change["path"] for change in listed)
        why = (
            f"the patch changes test infrastructure ({files}); with test_infra_changes='reject' such a patch "
            "is not resolved"
        )
        result = replace(result, resolved=False, rejected=why, test_infra_changes=listed)
    return result


def _block_changes(
    block: str, test_patch_files: set[str], read_base: BaseReader | None
) -> list[tuple[str, str]]:
    """Return (path, reason) for each test-infrastructure path one file's diff touches."""
    found = []
    paths = _block_paths(block)
    for path in paths:
        reason = _path_reason(path, test_patch_files)
        if reason is None and PurePosixPath(path).name in _SECTIONED_CONFIGS:
            reason = _section_reason(block, path, read_base)
        if reason is None and _changed_lines_mention(block, "pytest11"):
            reason = "registers a pytest plugin (a pytest11 entry point)"
        if reason is not None:
            found.append((path, reason))
    return found


def _path_reason(path: str, test_patch_files: set[str]) -> str | None:
    """Return why a file counts as test infrastructure by its path alone, or None."""
    pure = PurePosixPath(path)
    name = pure.name
    if path in test_patch_files:
        return "the instance's test patch changes this file"
    if name == "conftest.py":
        return "conftest.py: pytest loads its hooks and fixtures"
    if name in ("pytest.ini", ".pytest.ini"):
        return "pytest's configuration file"
    if name == "tox.ini":
        return "tox's and pytest's configuration file"
    if name in _STARTUP_MODULES:
        return f"{name}: Python imports it at start-up"
    if name.endswith(".pth"):
        return ".pth file: site runs its import lines at start-up"
    if name.startswith("pytest_") and name.endswith(".py"):
        return "a pytest plugin module"
    if pure.parts and pure.parts[0] in _RUNNER_NAMES:
        return "shadows the test runner's own modules"
    if _TEST_DIRS & set(pure.parts[:-1]):
        return "lies under a test directory"
    if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
        return "a test module"
    return None


def _section_reason(block: str, path: str, read_base: BaseReader | None) -> str | None:
    """Return why a setup.cfg/pyproject.toml diff changes pytest's or tox's settings, or None."""
    base_lines = None
    base_text = read_base(path) if read_base is not None else None
    if base_text is not None:
        base_lines = base_text.splitlines()
    unknown = False
    for hunk in _hunks(block):
        section = _section_before(base_lines, hunk.source_start)
        for line in hunk:
            header = _SECTION_HEADER.match(line.value.rstrip("\r\n"))
            if header:
                section = header.group(1).strip().strip("\"'")
            if line.line_type not in ("+", "-"):
                continue
            if section is _UNKNOWN:
                unknown = True
            elif _is_test_section(section):
                return f"changes the [{section}] section (pytest's or tox's settings)"
    if unknown:
        name = PurePosixPath(path).name
        return f"changes {name} where the diff does not show the section (may be pytest's)"
    return None


def _section_before(base_lines: list[str] | None, source_start: int) -> str | None:
    """Return the section in force just before line `source_start` of the base file ("" before any header;
    None when the base text is unknown and the hunk does not start the file)."""
    if source_start <= 1:
        return ""
    if base_lines is None:
        return _UNKNOWN
    for line in reversed(base_lines[: source_start - 1]):
        header = _SECTION_HEADER.match(line)
        if header:
            return header.group(1).strip().strip("\"'")
    return ""


def _is_test_section(section: str) -> bool:
    name = section.lower()
    return "pytest" in name or name.startswith(("tox", "testenv", "tool.tox"))


def _changed_lines_mention(block: str, word: str) -> bool:
    return any(line.line_type in ("+", "-") and word in line.value for hunk in _hunks(block) for line in hunk)


def _hunks(block: str) -> list[Any]:
    """Return unidiff's hunks of one file's diff (none when it does not parse)."""
    try:
        return [hunk for patched in PatchSet(block.replace("\r\n", "\n")) for hunk in patched]
    except UnidiffParseError:
        return []


def _block_paths(block: str) -> list[str]:
    """Return the repository-relative paths one file's diff names (old and new name of a rename)."""
    try:
        patched = list(PatchSet(block.replace("\r\n", "\n")))
    except UnidiffParseError:
        patched = []
    names = [name for file in patched for name in (file.source_file, file.target_file)]
    if not patched:
        for line in block.splitlines():
            git = _GIT_HEADER.match(line)
            header = _FILE_HEADER.match(line)
            names += list(git.groups()) if git else [header.group(1)] if header else []
    paths = [_repo_path(name) for name in names if name and name != "/dev/null"]
    return list(dict.fromkeys(path for path in paths if path))


def _repo_path(name: str) -> str:
    name = name.strip()
    if name.startswith(("a/", "b/")):
        name = name[2:]
    return str(PurePosixPath(name))


def _patched_paths(patch: str) -> list[str]:
    """Return every path a patch names."""
    return [path for block in _file_blocks(patch) for path in _block_paths(block)]


def _file_blocks(patch: str) -> list[str]:
    """Split a patch into one text per file (a leading preamble, if any, is a block of its own), keeping
    every byte."""
    blocks: list[list[str]] = [[]]
    lines = patch.splitlines(keepends=True)
    old_left = new_left = 0
    header_open = False  # a `diff --git` header waits for its ---/+++ pair or first hunk
    for index, line in enumerate(lines):
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag == "-":
                old_left -= 1
            elif tag == "+":
                new_left -= 1
            elif tag != "\\":
                old_left -= 1
                new_left -= 1
            blocks[-1].append(line)
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        hunk = _HUNK_HEADER.match(line)
        if hunk:
            old_left = int(hunk.group(1)) if hunk.group(1) is not None else 1
            new_left = int(hunk.group(2)) if hunk.group(2) is not None else 1
            header_open = False
        elif line.startswith("diff --git "):
            blocks.append([])
            header_open = True
        elif line.startswith("--- ") and following.startswith("+++ "):
            if not header_open:
                blocks.append([])
            header_open = False
        blocks[-1].append(line)
    return ["".join(block) for block in blocks if block]
