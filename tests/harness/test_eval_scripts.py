"""Derived eval scripts have the shape swebench 5 grades, and the markers are swebench's."""

import subprocess
from pathlib import Path

from swebench.harness import constants
from swebench.harness.utils import make_test_spec

from harness import eval_scripts, load_instances
from harness.diffs import reverse_diff

FIXTURES = Path(__file__).parent / "fixtures"


def test_markers_are_swebenchs():
    assert eval_scripts.START_TEST_OUTPUT == constants.START_TEST_OUTPUT
    assert eval_scripts.END_TEST_OUTPUT == constants.END_TEST_OUTPUT


def test_demo_script_resets_applies_runs_between_markers_and_resets_again():
    (instance,) = load_instances("demo", FIXTURES / "demo_instances.jsonl")
    lines = instance.eval_script.splitlines()
    reset = f"git checkout {instance.base_commit} -- tests/test_ops.py"

    assert lines[:3] == ["#!/bin/bash", "set -uxo pipefail", "cd /testbed"]
    assert lines[3] == reset
    assert lines[4].startswith("git apply -v - <<'EOF_")
    start = lines.index(f"echo '{constants.START_TEST_OUTPUT}'")
    assert lines[start + 1] == "python3 -m pytest -rA tests/test_ops.py tests/test_new.py"
    assert lines[start + 2] == f"echo '{constants.END_TEST_OUTPUT}'"
    assert lines[-1] == reset
    assert instance.test_patch.rstrip("\n") in instance.eval_script


def test_scripts_are_valid_bash():
    for task, name in [("demo", "demo_instances.jsonl"), ("swe-bench-verified", "swe_bench_verified.jsonl")]:
        for instance in load_instances(task, FIXTURES / name):
            subprocess.run(["bash", "-n"], input=instance.eval_script, text=True, check=True)


def test_swebench_records_the_test_commands_exit_status():
    (instance,) = load_instances("demo", FIXTURES / "demo_instances.jsonl")
    lines = make_test_spec(instance.to_row()).eval_script.splitlines()

    end = lines.index(f"echo '{constants.END_TEST_OUTPUT}'")
    assert lines[end - 2].startswith("python3 -m pytest -rA")
    assert lines[end - 1] == f"{constants.TEST_EXIT_CODE_VAR}=$?"


def test_swe_bench_rows_without_a_script_use_the_repos_test_command():
    django, pytest_instance = load_instances("swe-bench-verified", FIXTURES / "swe_bench_verified.jsonl")

    assert "conda activate testbed" in django.eval_script.splitlines()
    assert (
        "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 auth_tests.test_validators"
        in django.eval_script.splitlines()
    )
    assert django.log_parser == "parse_log_django"
    assert (
        "pytest --no-header -rA --tb=no -p no:cacheprovider testing/logging/test_reporting.py"
        in pytest_instance.eval_script.splitlines()
    )


def test_reversing_a_patch_twice_gives_it_back():
    (instance,) = load_instances("demo", FIXTURES / "demo_instances.jsonl")

    for patch in (instance.patch, instance.test_patch):
        assert reverse_diff(reverse_diff(patch)) == patch
        assert reverse_diff(patch) != patch
