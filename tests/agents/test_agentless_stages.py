"""Agentless Mini's stages as pure logic: the tree localization sees and the files it names, the repair
samples' files, the regression script and verdict, reproduction scripts, and SWE-RL's reranking."""

from __future__ import annotations

import random

from agents.agentless import localize, regression, repair, reproduction
from agents.agentless.select import Candidate, normalized_key, select
from harness import load_instances

PATHS = [
    "pkg/__init__.py",
    "pkg/core.py",
    "pkg/testing/helpers.py",
    "tests/test_core.py",
    "pkg/test_util.py",
    "README.md",
    "setup.py",
]


def test_localization_sees_the_python_files_without_tests_as_a_tree() -> None:
    files = localize.source_files(PATHS, "acme/pkg")
    assert files == ["pkg/__init__.py", "pkg/core.py", "setup.py"]
    assert "tests/test_core.py" in localize.source_files(PATHS, "pytest-dev/pytest")
    assert localize.structure_text(files) == "pkg\n    __init__.py\n    core.py\nsetup.py"
    assert localize.structure_text(files, indentation=2).splitlines()[1] == "  __init__.py"


def test_one_localization_sample_asks_for_five_files_and_several_vary_the_prompt() -> None:
    files = localize.source_files(PATHS, "acme/pkg")
    (user,) = localize.localization_prompt("Bug.", files, sampled=False, rng=random.Random(0), thinking=False)
    assert "Give at most 5 files" in user["content"] and "### Repository Structure ###" in user["content"]
    rng = random.Random(1)
    sampled = {
        localize.localization_prompt("Bug.", files, sampled=True, rng=rng)[1]["content"] for _ in range(12)
    }
    assert len(sampled) > 1


def test_only_lines_that_are_exactly_a_file_count_as_found() -> None:
    files = ["pkg/core.py", "setup.py"]
    reply = (
        "<think>hm</think>\n<solution>\n```\npkg/core.py\nsetup.py \nother.py\npkg/core.py\n```\n</solution>"
    )
    assert localize.found_files(reply, files) == ["pkg/core.py"]
    assert localize.recall([["pkg/core.py"], []], ["pkg/core.py", "setup.py"]) == 0.5
    assert localize.recall([], []) is None


def test_repair_samples_cycle_over_the_distinct_localizations_within_the_budget() -> None:
    lists = repair.file_lists([["a.py"], [], ["a.py"], ["b.py", "a.py"]], 5)
    assert lists == [["a.py"], ["b.py", "a.py"], ["a.py"], ["b.py", "a.py"], ["a.py"]]
    assert repair.file_lists([[], []], 3) == []
    texts = {"a.py": "x" * 50, "b.py": "y" * 10}
    assert list(repair.repair_files(["a.py", "b.py"], texts, max_chars=30)) == ["b.py"]
    assert list(repair.repair_files(["a.py"], texts, max_chars=5)) == ["a.py"]


def test_the_regression_script_runs_the_existing_tests_without_the_test_patch() -> None:
    (instance,) = load_instances("demo", instance_ids=["srl-demo__semverkit-8"])
    script = regression.regression_script(instance.eval_script)
    assert "git apply" not in script and "+def test_" not in script
    assert ">>>>> Start Test Output" in script and "python3 -m pytest -rA" in script
    original = {"t1": "PASSED", "t2": "PASSED", "t3": "FAILED", "t4": "XFAIL"}
    patched = {"t1": "PASSED", "t2": "FAILED", "t3": "PASSED"}
    assert regression.failed_regressions(original, patched) == ["t2", "t4"]


def test_a_reproduction_script_is_the_first_python_block_of_the_answer() -> None:
    _system, user = reproduction.reproduction_prompt("It crashes.")
    assert "It crashes." in user["content"] and reproduction.REPRODUCED in user["content"]
    reply = "<think>x</think><solution>\n```python\nprint('Issue reproduced')  # yes\n```\n```python\n2\n```"
    assert reproduction.extract_test(reply) == "print('Issue reproduced')  # yes"
    assert reproduction.extract_test("no code") is None
    assert reproduction.normalized_test("x=1  # c\n") == reproduction.normalized_test("x = 1")


def candidate(index: int, key: str, failed: int | None = None, passed: set[str] | None = None) -> Candidate:
    return Candidate(index, f"patch-{key}", key, failed, None if passed is None else frozenset(passed))


def test_without_rankers_the_most_frequent_patch_wins_ties_to_the_earlier() -> None:
    picks = [candidate(0, "a"), candidate(1, "b"), candidate(2, "b"), candidate(3, "")]
    assert select(picks, regression=False, reproduction=False).index == 1
    assert select([candidate(0, "a"), candidate(1, "b")], False, False).index == 0
    assert select([candidate(0, "")], False, False) is None


def test_regression_keeps_the_patches_that_break_the_fewest_tests() -> None:
    picks = [candidate(0, "a", 2), candidate(1, "a", 2), candidate(2, "b", 0), candidate(3, "c", None)]
    assert select(picks, regression=True, reproduction=False).index == 2


def test_reproduction_keeps_the_largest_consensus_then_regression() -> None:
    picks = [
        candidate(0, "a", 0, set()),
        candidate(1, "a", 0, set()),
        candidate(2, "b", 1, {"t0", "t1"}),
        candidate(3, "c", 0, {"t0", "t1"}),
    ]
    # regression keeps 0, 1, 3; among them the group passing {t0, t1} scores 4 × 1 > 0: 3 wins.
    assert select(picks, regression=True, reproduction=True).index == 3
    # without regression, {t0, t1} (2 patches, score 8) beats {} (score 0): 2 is first of that group.
    assert select(picks, regression=False, reproduction=True).index == 2


def test_patches_that_differ_in_formatting_and_comments_share_a_key() -> None:
    assert normalized_key({"a.py": "x = (1)  # one\n"}) == normalized_key({"a.py": "x = 1\n"})
    assert normalized_key({"a.py": "x = 1\n"}) != normalized_key({"a.py": "x = 2\n"})
