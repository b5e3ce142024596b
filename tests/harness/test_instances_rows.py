"""A TaskInstance's row form: what swebench 5 reads from it, and reading it back."""

import json
import subprocess
from pathlib import Path

from swebench.harness.constants import EvalType
from swebench.harness.log_parsers import PARSER_REGISTRY
from swebench.harness.utils import make_test_spec

from harness import TaskInstance, load_instances, swesmith_log_parsers
from harness.diffs import reverse_diff

FIXTURES = Path(__file__).parent / "fixtures"
SETS = [
    ("swe-bench-verified", "swe_bench_verified.jsonl"),
    ("swe-bench-verified", "swe_bench_v5.json"),
    ("swe-smith", "swe_smith.jsonl"),
    ("demo", "demo_instances.jsonl"),
]


def all_fixture_instances() -> list[TaskInstance]:
    return [instance for task, name in SETS for instance in load_instances(task, FIXTURES / name)]


def test_swebench_make_test_spec_accepts_every_row():
    swesmith_log_parsers.register()  # grading registers SWE-smith's parsers as it prepares the sandbox
    for instance in all_fixture_instances():
        spec = make_test_spec(instance.to_row())

        assert spec.instance_id == instance.instance_id
        assert spec.image == instance.image
        assert spec.FAIL_TO_PASS == instance.FAIL_TO_PASS
        assert spec.log_parser in PARSER_REGISTRY
        assert EvalType(spec.eval_type) is EvalType.PASS_AND_FAIL
        assert "SWEBENCH_TEST_EXIT_CODE=$?" in spec.eval_script


def test_rows_read_back_to_the_same_instance():
    for instance in all_fixture_instances():
        again = TaskInstance.from_row(json.loads(json.dumps(instance.to_row())), instance.task_set)

        assert again == instance


def test_swe_smith_gold_patch_undoes_the_bug_patch(tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "mod.py").write_text("def f(x):\n    return x + 1\n\n\ndef g():\n    return 'g'\n")
    (repo / "pkg" / "old.py").write_text("OLD = 1\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "clean"], check=True)
    clean = {path: path.read_text() for path in repo.rglob("*.py")}
    (repo / "pkg" / "mod.py").write_text("def f(x):\n    return x - 1\n\n\ndef g():\n    return 'g'\n")
    (repo / "pkg" / "old.py").unlink()
    (repo / "pkg" / "new.py").write_text("NEW = 2\n")
    subprocess.run([*git, "add", "-A"], check=True)
    bug_patch = subprocess.run([*git, "diff", "--cached"], check=True, capture_output=True, text=True).stdout
    subprocess.run([*git, "commit", "-qm", "bug"], check=True)

    subprocess.run([*git, "apply", "-"], input=reverse_diff(bug_patch), text=True, check=True)

    assert {path: path.read_text() for path in repo.rglob("*.py")} == clean


def test_swe_smith_rows_keep_every_pass_to_pass_test_and_the_instance_branch_as_base():
    oauthlib = load_instances("swe-smith", FIXTURES / "swe_smith.jsonl")[0]

    assert len(oauthlib.PASS_TO_PASS) == 3  # SWE-smith's evaluation grades them all by default
    assert oauthlib.base_commit == oauthlib.instance_id  # the branch harness.preparation makes
    assert oauthlib.log_parser == "swesmith_pytest"
