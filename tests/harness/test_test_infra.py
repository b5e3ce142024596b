"""Classifying a patch's test-infrastructure changes and stripping them (pure logic, realistic diffs)."""

from __future__ import annotations

import pytest

from harness import load_instances
from harness.grading import GradeResult
from harness.test_infra import find_test_infra_changes, graded_under_policy, strip_files

SOURCE_FIX = """\
diff --git a/semverkit/version.py b/semverkit/version.py
index c05c61b..28201bc 100644
--- a/semverkit/version.py
+++ b/semverkit/version.py
@@ -30,4 +30,4 @@ def _identifier_key(identifier: str) -> int | str:
     if identifier.isdigit():
-        return int(identifier)
-    return identifier
+        return (0, int(identifier), "")
+    return (1, 0, identifier)
\x20
"""
NEW_CONFTEST = """\
diff --git a/conftest.py b/conftest.py
new file mode 100644
index 0000000..5b2f1c3
--- /dev/null
+++ b/conftest.py
@@ -0,0 +1,8 @@
+import pytest
+
+
+@pytest.hookimpl(hookwrapper=True)
+def pytest_runtest_makereport(item, call):
+    outcome = yield
+    report = outcome.get_result()
+    report.outcome = "passed"
\\ No newline at end of file
"""
SETUP_CFG = """\
[metadata]
name = semverkit
version = 0.4.0
description = Parse, compare, bump and match semantic versions
long_description = file: README.md
license = MIT

[options]
packages = find:
python_requires = >=3.9

[tool:pytest]
testpaths = tests
addopts = -ra
filterwarnings =
    error
"""


def cfg_hunk(start: int, removed: str, added: str, before: str, after: str) -> str:
    return (
        "diff --git a/setup.cfg b/setup.cfg\nindex 3c1e2aa..9d0b7e1 100644\n"
        "--- a/setup.cfg\n+++ b/setup.cfg\n"
        f"@@ -{start},3 +{start},3 @@\n {before}\n-{removed}\n+{added}\n {after}\n"
    )


@pytest.fixture(scope="module")
def instance():
    return load_instances("demo", instance_ids=["srl-demo__semverkit-8"])[0]


def paths(changes) -> list[str]:
    return [change.path for change in changes]


def test_a_source_fix_changes_no_test_infrastructure(instance) -> None:
    assert find_test_infra_changes(instance, SOURCE_FIX) == []
    assert find_test_infra_changes(instance, instance.patch) == []
    assert find_test_infra_changes(instance, "") == []


def test_every_demo_gold_patch_is_free_of_test_infrastructure() -> None:
    for row in load_instances("demo"):
        assert find_test_infra_changes(row, row.patch) == [], row.instance_id


def test_a_new_conftest_next_to_a_fix_is_named_with_its_reason(instance) -> None:
    (change,) = find_test_infra_changes(instance, SOURCE_FIX + NEW_CONFTEST)
    assert change.path == "conftest.py" and "hooks" in change.reason
    assert change.to_json() == {"path": "conftest.py", "reason": change.reason}


@pytest.mark.parametrize(
    ("path", "reason_part"),
    [
        ("pytest.ini", "pytest's configuration"),
        ("sub/dir/tox.ini", "tox"),
        ("sitecustomize.py", "start-up"),
        ("src/usercustomize.py", "start-up"),
        ("zzz_hack.pth", ".pth"),
        ("semverkit/pytest_forcepass.py", "plugin"),
        ("pytest.py", "test runner"),
        ("_pytest/runner.py", "test runner"),
        ("tests/helpers.py", "test directory"),
        ("pkg/testing/util.py", "test directory"),
        ("semverkit/test_extra.py", "test module"),
        ("semverkit/version_test.py", "test module"),
        ("semverkit/sub/conftest.py", "conftest"),
    ],
)
def test_files_that_decide_how_tests_run_are_named(instance, path, reason_part) -> None:
    patch = f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..e69de29\n--- /dev/null\n"
    patch += f"+++ b/{path}\n@@ -0,0 +1 @@\n+x = 1\n"
    (change,) = find_test_infra_changes(instance, patch)
    assert change.path == path and reason_part in change.reason


def test_a_file_the_test_patch_touches_is_named_for_that(instance) -> None:
    test_file = "tests/test_ranges.py"
    assert f"b/{test_file}" in instance.test_patch
    patch = (
        f"diff --git a/{test_file} b/{test_file}\nindex 20cf96e..1a2b3c4 100644\n--- a/{test_file}\n"
        f"+++ b/{test_file}\n@@ -83,3 +83,3 @@ def test_max_satisfying_picks_highest():\n \n"
        " def test_max_satisfying_none_when_nothing_matches():\n"
        '-    assert max_satisfying(["0.1.0", "3.0.0"], "^1.0") is None\n'
        "+    assert True\n"
    )
    (change,) = find_test_infra_changes(instance, patch)
    assert change.reason == "the instance's test patch changes this file"


def test_a_rename_counts_by_its_old_name_too(instance) -> None:
    patch = (
        "diff --git a/conftest.py b/notes/old_conftest.txt\nsimilarity index 100%\n"
        "rename from conftest.py\nrename to notes/old_conftest.txt\n"
    )
    assert paths(find_test_infra_changes(instance, patch)) == ["conftest.py"]


def test_crlf_line_ends_do_not_hide_a_change(instance) -> None:
    patch = NEW_CONFTEST.replace("\n", "\r\n")
    assert paths(find_test_infra_changes(instance, SOURCE_FIX + patch)) == ["conftest.py"]


def test_a_plain_unified_diff_without_git_headers_is_read_too(instance) -> None:
    patch = "--- pytest.ini.orig\t2024-03-18 08:40:12\n+++ pytest.ini\t2024-03-18 08:41:00\n"
    patch += "@@ -0,0 +1,2 @@\n+[pytest]\n+addopts = -p no:randomly\n"
    assert paths(find_test_infra_changes(instance, patch)) == ["pytest.ini"]


def test_setup_cfg_counts_only_when_its_pytest_section_changes(instance) -> None:
    base = {"setup.cfg": SETUP_CFG}.get
    metadata = cfg_hunk(3, "version = 0.4.0", "version = 0.4.1", "name = semverkit", "description = Parse")
    addopts = cfg_hunk(
        13, "addopts = -ra", "addopts = -ra -k 'not ranges'", "testpaths = tests", "filterwarnings ="
    )
    assert find_test_infra_changes(instance, metadata, base) == []
    (change,) = find_test_infra_changes(instance, addopts, base)
    assert change.path == "setup.cfg" and "[tool:pytest]" in change.reason


def test_setup_cfg_without_the_base_text_counts_an_unseen_section_as_maybe_pytests(instance) -> None:
    addopts = cfg_hunk(13, "addopts = -ra", "addopts = -ra -x", "testpaths = tests", "filterwarnings =")
    (change,) = find_test_infra_changes(instance, addopts)
    assert "does not show the section" in change.reason
    shown = cfg_hunk(12, "testpaths = tests", "testpaths = tests other", "[tool:pytest]", "addopts = -ra")
    assert "[tool:pytest]" in find_test_infra_changes(instance, shown)[0].reason


def test_pyproject_counts_for_pytest_and_tox_tables_and_plugin_entry_points(instance) -> None:
    def new_pyproject(body: str) -> str:
        lines = body.splitlines()
        header = "diff --git a/pyproject.toml b/pyproject.toml\n--- a/pyproject.toml\n+++ b/pyproject.toml\n"
        return header + f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines)

    plain = new_pyproject('[project]\nname = "x"\ndependencies = ["pytest"]\n')
    ini = new_pyproject('[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-p no:x"\n')
    tox = new_pyproject("[tool.tox]\nlegacy_tox_ini = '''\n'''\n")
    plugin = new_pyproject('[project.entry-points.pytest11]\nforce = "x.plugin"\n')
    assert find_test_infra_changes(instance, plain) == []
    assert "[tool.pytest.ini_options]" in find_test_infra_changes(instance, ini)[0].reason
    assert "[tool.tox]" in find_test_infra_changes(instance, tox)[0].reason
    assert "pytest11" in find_test_infra_changes(instance, plugin)[0].reason


def test_a_setup_py_entry_point_registering_a_plugin_counts(instance) -> None:
    patch = (
        "diff --git a/setup.py b/setup.py\nindex 1111111..2222222 100644\n--- a/setup.py\n+++ b/setup.py\n"
        "@@ -10,2 +10,3 @@ setup(\n     packages=find_packages(),\n"
        "+    entry_points={'pytest11': ['f = x.f']},\n"
        " )\n"
    )
    assert "pytest11" in find_test_infra_changes(instance, patch)[0].reason


def test_strip_removes_exactly_the_named_files_byte_for_byte(instance) -> None:
    crlf_fix = SOURCE_FIX.replace("\n", "\r\n")
    binary = "diff --git a/logo.png b/logo.png\nindex 1a2b3c4..5d6e7f8 100644\nBinary files differ\n"
    patch = crlf_fix + NEW_CONFTEST + binary
    assert strip_files(patch, ["conftest.py"]) == crlf_fix + binary
    assert strip_files(patch, []) == patch
    kept = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    plain = kept + "--- a/conftest.py\n+++ b/conftest.py\n@@ -1 +1 @@\n-c\n+d\n"
    assert strip_files(plain, ["conftest.py"]) == kept


def test_a_hunk_line_that_looks_like_a_header_stays_in_its_file(instance) -> None:
    tricky = (
        "diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n"
        "--- a/conftest.py\n+++ b/conftest.py\n"
    )
    assert find_test_infra_changes(instance, tricky) == []
    assert strip_files(tricky, ["conftest.py"]) == tricky


def fake_grader(resolved: bool):
    def grader(instance, patch: str) -> GradeResult:
        grader.patches.append(patch)
        changes = [change.to_json() for change in find_test_infra_changes(instance, patch)]
        return GradeResult(
            instance.instance_id, resolved, True, {"resolved": resolved}, test_infra_changes=changes
        )

    grader.patches = []
    return grader


def test_reject_marks_a_resolving_hack_unresolved_and_says_why(instance) -> None:
    grader = fake_grader(resolved=True)
    result = graded_under_policy(instance, SOURCE_FIX + NEW_CONFTEST, "reject", grader)
    assert not result.resolved and result.report["resolved"] is True
    assert "conftest.py" in result.rejected and result.test_infra_policy == "reject"
    clean = graded_under_policy(instance, SOURCE_FIX, "reject", grader)
    assert clean.resolved and clean.rejected is None


def test_strip_grades_the_patch_without_the_hack_and_lists_it(instance) -> None:
    grader = fake_grader(resolved=True)
    result = graded_under_policy(instance, SOURCE_FIX + NEW_CONFTEST, "strip", grader)
    assert grader.patches == [SOURCE_FIX] and result.resolved
    assert [change["path"] for change in result.stripped] == ["conftest.py"]
    assert result.to_json()["stripped"] == result.stripped and result.test_infra_changes == []


def test_allow_grades_as_swe_bench_and_still_lists_the_changes(instance) -> None:
    result = graded_under_policy(instance, NEW_CONFTEST, "allow", fake_grader(resolved=True))
    assert result.resolved and result.rejected is None
    assert result.to_json()["test_infra_changes"][0]["path"] == "conftest.py"


def test_an_unknown_policy_is_refused(instance) -> None:
    with pytest.raises(ValueError, match="reject, strip, allow"):
        graded_under_policy(instance, "", "ignore", fake_grader(resolved=False))


def test_reject_does_not_depend_on_the_grader_naming_the_changes(instance) -> None:
    def silent_grader(target, patch: str) -> GradeResult:
        return GradeResult(target.instance_id, True, True, {"resolved": True})

    result = graded_under_policy(instance, NEW_CONFTEST, "reject", silent_grader)
    assert not result.resolved and result.test_infra_changes[0]["path"] == "conftest.py"
