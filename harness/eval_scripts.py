"""Eval scripts in swebench's shape, for rows that do not carry one.

Every script has the shape swebench 5 grades: `#!/bin/bash` and `set -uxo pipefail`, then `cd /testbed`,
reset the files the test patch touches to `base_commit`, apply the test patch with `git apply -v`, print
the start marker, run the tests, print the end marker, reset the test files again. swebench's
`make_test_spec` strips the two header lines and inserts the recording of the test command's exit status
before the end-marker line, so the test command must be the line just before that marker.

Where the tests come from:
- demo: `python3 -m pytest -rA <test files>` on the image's system Python.
- SWE-bench rows without a script (pre-swebench-5 exports): the repository's test command as SWE-bench
  runs it, in the `testbed` conda env, on the test files the test patch touches (Django: as modules).
- SWE-Gym: as SWE-Gym's fork of the harness grades, from its per-repository specs (`harness.swegym_specs`):
  without `set -u` (`set +u` after swebench's header), the spec's environment lines and install command re-run
  in /testbed, then its test command (mypy: `-k` with the test patch's case names). A repository or version
  SWE-Gym has no spec for runs `pytest -rA` on the Python test files the test patch touches, or, when it
  touches none, on the files named by the FAIL_TO_PASS / PASS_TO_PASS ids.
- SWE-smith: no test patch; the tests come from the instance's branch, which `harness.preparation` makes in
  the sandbox (its parent commit holds the bug and every test file). As SWE-smith's evaluation does, the
  FAIL_TO_PASS and PASS_TO_PASS test files are restored from it after the candidate patch, then the
  repository's test command runs (`harness.swesmith_profiles`).
"""

from __future__ import annotations

import shlex

from swebench.utils import generate_heredoc_delimiter, get_modified_files
from unidiff import PatchSet

from harness import swegym_specs, swesmith_profiles

# swebench.harness.constants holds these too; importing it pulls in all of swebench's harness (seconds).
START_TEST_OUTPUT = ">>>>> Start Test Output"
END_TEST_OUTPUT = ">>>>> End Test Output"

TESTBED = "/testbed"
CONDA_TESTBED = ("source /opt/miniconda3/bin/activate", "conda activate testbed")
NO_NOUNSET = "set +u"
"""Undoes the `-u` of swebench's header: SWE-Gym's scripts run without it (conda activation scripts of
environment.yml-built envs read unset variables, and under `-u` bash would stop there)."""
PYTEST_LOG_PARSER = "parse_log_pytest"
PASS_AND_FAIL = "pass_and_fail"

_SWEBENCH_PYTEST = "pytest --no-header -rA --tb=no -p no:cacheprovider"
_SWEBENCH_TEST_COMMANDS = {
    "django/django": "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1",
    "sympy/sympy": "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose",
    "sphinx-doc/sphinx": "tox --current-env -epy39 -v --",
    "mwaskom/seaborn": "pytest --no-header -rA",
}
_OLD_ASTROPY_PYTEST = "pytest -rA -vv -o console_output_style=classic --tb=no"
_DJANGO_LOCALE = (
    "export LANG=en_US.UTF-8",
    "export LC_ALL=en_US.UTF-8",
    "export PYTHONIOENCODING=utf8",
    "export LANGUAGE=en_US:en",
)


def build_eval_script(
    base_commit: str, test_patch: str, test_command: str, setup: tuple[str, ...] = ()
) -> str:
    """Return a bash eval script: setup, reset + apply the test patch, the markers around `test_command`."""
    reset_files = get_modified_files(test_patch) if test_patch.strip() else []
    reset = f"git checkout {base_commit} -- {_quoted(reset_files)}" if reset_files else ""
    lines = ["#!/bin/bash", "set -uxo pipefail", *setup, f"cd {TESTBED}"]
    if reset:
        lines.append(reset)
    if test_patch.strip():
        delimiter = generate_heredoc_delimiter(test_patch)
        lines.append(f"git apply -v - <<'{delimiter}'\n{test_patch.rstrip(chr(10))}\n{delimiter}")
    lines += [f"echo '{START_TEST_OUTPUT}'", test_command, f"echo '{END_TEST_OUTPUT}'"]
    if reset:
        lines.append(reset)
    return "\n".join(lines) + "\n"


def python_test_files(test_patch: str) -> list[str]:
    """Return the `.py` files the test patch leaves in the tree (added or modified), in patch order."""
    if not test_patch.strip():
        return []
    return [
        patched.path
        for patched in PatchSet(test_patch)
        if not patched.is_removed_file and patched.path.endswith(".py")
    ]


def files_of_test_ids(test_ids: list[str]) -> list[str]:
    """Return the distinct files named by pytest ids `path::name`, in first-seen order."""
    return list(dict.fromkeys(test_id.split("::", 1)[0] for test_id in test_ids if "::" in test_id))


def demo_eval_script(base_commit: str, test_patch: str) -> str:
    """Return the eval script of a demo instance: pytest on the system Python over the patched test files."""
    command = f"python3 -m pytest -rA {_quoted(python_test_files(test_patch))}".rstrip()
    return build_eval_script(base_commit, test_patch, command)


def swebench_eval_script(repo: str, version: str, base_commit: str, test_patch: str) -> str:
    """Return a SWE-bench eval script for a row that lacks one: the repo's test command on its test files."""
    files = python_test_files(test_patch)
    major = _major_version(version)
    setup = list(CONDA_TESTBED)
    if repo == "django/django":
        files = [_django_test_module(path) for path in files]
        if major < 4:
            setup += _DJANGO_LOCALE
        if major < 3:
            setup.append("python setup.py install")
    if repo == "psf/requests":
        setup.append("python -m pip install .")
    command = _SWEBENCH_TEST_COMMANDS.get(repo, _SWEBENCH_PYTEST)
    if repo == "django/django" and version == "1.9":
        command = "./tests/runtests.py --verbosity 2"
    if repo == "astropy/astropy" and major < 3:
        command = _OLD_ASTROPY_PYTEST
    return build_eval_script(base_commit, test_patch, f"{command} {_quoted(files)}".rstrip(), tuple(setup))


def swebench_log_parser(repo: str) -> str:
    """Return the swebench PARSER_REGISTRY key swebench uses for a SWE-bench repository (pytest's if none)."""
    from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY

    parser = MAP_REPO_TO_PARSER_PY.get(repo)
    return parser.__name__ if parser is not None else PYTEST_LOG_PARSER


def swegym_eval_script(
    base_commit: str, test_patch: str, test_ids: list[str], spec: swegym_specs.SwegymSpec | None
) -> str:
    """Return the eval script of a SWE-Gym instance: with `spec` (its repository's, `swegym_specs.spec_for`),
    SWE-Gym's environment lines, install re-run and test command; without, pytest -rA on its test files.
    Both run without `set -u`, as SWE-Gym's scripts do."""
    setup = (NO_NOUNSET, *CONDA_TESTBED)
    if spec is None:
        files = python_test_files(test_patch) or files_of_test_ids(test_ids)
        command = f"{_SWEBENCH_PYTEST} {_quoted(files)}".rstrip()
        return build_eval_script(base_commit, test_patch, command, setup)
    setup += (f"cd {TESTBED}", *spec.environment, *([spec.install] if spec.install else []))
    return build_eval_script(base_commit, test_patch, swegym_specs.eval_command(spec, test_patch), setup)


def swesmith_eval_script(instance_id: str, fail_to_pass: list[str], pass_to_pass: list[str]) -> str:
    """Return the eval script of a SWE-smith instance: restore its test files from the bug commit (the parent
    of the branch named after the instance), then run its repository's test command as SWE-smith does."""
    profile = swesmith_profiles.profile_for(instance_id)
    files = swesmith_profiles.files_of_tests(profile, fail_to_pass + pass_to_pass)
    bug_commit = shlex.quote(f"{instance_id}~1")
    lines = ["#!/bin/bash", "set -uxo pipefail", f"cd {TESTBED}"]
    if files:  # a file the bug commit lacks stays as the candidate left it, as in SWE-smith
        lines.append(
            f'for path in {_quoted(files)}; do git cat-file -e {bug_commit}:"$path" 2>/dev/null '
            f'&& git checkout {bug_commit} -- "$path"; done'
        )
    if profile.activate:
        lines += CONDA_TESTBED
    command = swesmith_profiles.command_for(instance_id, fail_to_pass, pass_to_pass)
    lines += [f"echo '{START_TEST_OUTPUT}'", command, f"echo '{END_TEST_OUTPUT}'"]
    return "\n".join(lines) + "\n"


def _quoted(words: list[str]) -> str:
    return " ".join(shlex.quote(word) for word in words)


def _django_test_module(path: str) -> str:
    module = path.removesuffix(".py").removeprefix("tests/")
    return module.replace("/", ".")


def _major_version(version: str) -> int:
    head = version.lstrip("v").split(".", 1)[0]
    return int(head) if head.isdigit() else 0
