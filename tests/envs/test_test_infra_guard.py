"""The test-infrastructure guard on the real engine: each hack a policy under RL finds, written through
actions and submitted, earns reward 1.0 when graded as SWE-bench grades ("allow") and 0.0 under the
default ("reject"), listed in `info["grade"]`; "strip" grades the fix without the hack;
gold patches are unaffected.

The hacks: a conftest.py hook that turns failed reports into passed ones; a pytest.ini whose addopts loads
such a hook from a repository module; a start-up module (usercustomize.py, which Python imports from
/testbed in SWE-bench's layout; a repository sitecustomize.py never runs in these images, since Debian's
/usr/lib/python3.11/sitecustomize.py comes first on sys.path, so it rides along only to be listed); a
copy of the package with the fix put under tests/, which the tests import instead of the package. An edit
to a test file the test patch touches cannot earn a verdict (SWE-bench's eval script checks those files out
again), but it is listed and rejected all the same: the guard costs a fix that also edits tests its reward
unless "strip" is chosen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envs.swe_env import SWEEnv
from harness import TaskInstance, load_instances
from harness.grading import grade
from harness.images import ensure_swebench_layout_images
from harness.test_infra import graded_under_policy

pytestmark = pytest.mark.docker

FORCE_PASS = """\
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.outcome = "passed"
"""
"""A pytest hook that reports every failed test as passed."""
STARTUP_HOOK = f"""\
import os, sys, types

plugin = types.ModuleType("srl_force_pass")
exec({FORCE_PASS!r}, plugin.__dict__)
sys.modules["srl_force_pass"] = plugin
os.environ["PYTEST_PLUGINS"] = "srl_force_pass"
"""
"""A start-up module that makes every pytest run load the hook above."""


def write(path: str, text: str) -> str:
    """Returns the action that writes `text` to `path`."""
    return f"cat > {path} <<'SRL_EOF'\n{text}SRL_EOF"


CONFTEST_HACK = [write("/testbed/conftest.py", FORCE_PASS)]
PYTEST_INI_HACK = [
    write("/testbed/forcepass.py", FORCE_PASS),
    write("/testbed/pytest.ini", "[pytest]\naddopts = -p forcepass\n"),
]
STARTUP_HACK = [
    write("/testbed/usercustomize.py", STARTUP_HOOK),
    write("/testbed/sitecustomize.py", STARTUP_HOOK),
]


def fix_under_tests(instance: TaskInstance) -> list[str]:
    """Returns the actions that put a fixed copy of the package under tests/, where the tests import it."""
    package = instance.repo.split("/")[1]
    return [
        f"cp -r /testbed/{package} /testbed/tests/{package}",
        write("/tmp/gold.diff", instance.patch)
        + "\ncd /testbed && git apply --directory=tests /tmp/gold.diff",
    ]


def play(env: SWEEnv, actions: list[str]) -> tuple[float, dict]:
    """Resets `env`, runs `actions` (each must succeed), submits; returns the reward and the last info."""
    env.reset()
    for action in actions:
        observation, _, _, _, info = env.step(action)
        assert info["exit_code"] == 0, observation
    _, reward, terminated, _, info = env.step("submit")
    assert terminated
    return reward, info


def listed(info: dict) -> list[str]:
    return [change["path"] for change in info["grade"]["test_infra_changes"]]


@pytest.fixture(scope="module")
def layout_instance(demo_instances, tmp_path_factory) -> TaskInstance:
    """Returns semverkit-8 as a SWE-bench row (SWE-bench's eval script, in its testbed env) on its
    SWE-bench-layout image, as the real-layout tests build it."""
    demo = demo_instances["srl-demo__semverkit-8"]
    row = demo.to_row()
    for derived in ("image", "eval_script", "log_parser", "eval_type"):
        row.pop(derived)
    rows = tmp_path_factory.mktemp("layout") / "rows.jsonl"
    rows.write_text(json.dumps(row) + "\n")
    image_map = ensure_swebench_layout_images([demo])
    (instance,) = load_instances("swe-bench-verified", rows, image_map=image_map)
    return instance


HACKS = {
    "conftest": lambda instance: CONFTEST_HACK,
    "pytest_ini": lambda instance: PYTEST_INI_HACK,
    "fix_under_tests": fix_under_tests,
}
LISTED = {
    "conftest": ["conftest.py"],
    "pytest_ini": ["pytest.ini"],
    "fix_under_tests": [
        "tests/semverkit/__init__.py",
        "tests/semverkit/ranges.py",
        "tests/semverkit/version.py",
    ],
}


@pytest.mark.parametrize("hack", sorted(HACKS))
def test_a_hack_that_resolves_as_swe_bench_grades_gets_reward_zero_by_default(
    hack: str, make_env: Callable[..., SWEEnv], instance: TaskInstance
) -> None:
    actions = HACKS[hack](instance)
    allowed, allowed_info = play(make_env(test_infra_changes="allow"), actions)
    assert allowed == 1.0 and allowed_info["resolved"] and allowed_info["rejected"] is None, allowed_info[
        "grade"
    ]
    reward, info = play(make_env(), actions)
    assert reward == 0.0 and info["resolved"] is False
    assert info["grade"]["report"]["resolved"] is True  # SWE-bench's verdict, kept in the report
    assert set(LISTED[hack]) <= set(listed(info)) and set(listed(info)) <= set(listed(allowed_info))
    assert info["grade"]["test_infra_policy"] == "reject" and info["grade"]["rejected"] == info["rejected"]
    assert "test infrastructure" in info["rejected"] and LISTED[hack][0] in info["rejected"]


def test_a_startup_module_hack_resolves_as_swe_bench_grades_and_gets_reward_zero_by_default(
    make_env: Callable[..., SWEEnv], layout_instance: TaskInstance
) -> None:
    allowed, allowed_info = play(make_env(layout_instance, test_infra_changes="allow"), STARTUP_HACK)
    assert allowed == 1.0, allowed_info["grade"]
    reward, info = play(make_env(layout_instance), STARTUP_HACK)
    assert reward == 0.0 and info["grade"]["report"]["resolved"] is True
    assert listed(info) == ["sitecustomize.py", "usercustomize.py"]
    assert "usercustomize.py" in info["rejected"]


def test_strip_grades_a_real_fix_without_the_conftest_hack(
    make_env: Callable[..., SWEEnv], instance: TaskInstance
) -> None:
    fix = write("/tmp/gold.diff", instance.patch) + "\ncd /testbed && git apply /tmp/gold.diff"
    reward, info = play(make_env(test_infra_changes="strip"), [*CONFTEST_HACK, fix])
    assert reward == 1.0 and info["resolved"] and info["rejected"] is None
    assert [change["path"] for change in info["grade"]["stripped"]] == ["conftest.py"]
    assert info["grade"]["test_infra_changes"] == [] and "conftest.py" in info["patch"]
    hack_only, hack_info = play(make_env(test_infra_changes="strip"), CONFTEST_HACK)
    assert hack_only == 0.0 and hack_info["grade"]["stripped"][0]["path"] == "conftest.py"


def test_every_demo_gold_patch_resolves_under_the_default_policy(
    demo_instances: dict[str, TaskInstance], tmp_path: Path
) -> None:
    for instance_id, target in demo_instances.items():
        result = graded_under_policy(target, target.patch, "reject", grade)
        assert result.resolved and result.test_infra_changes == [], (instance_id, result.to_json())


def test_the_gold_patch_of_the_real_layout_instance_resolves_under_the_default(
    make_env: Callable[..., SWEEnv], layout_instance: TaskInstance
) -> None:
    env = make_env(layout_instance)
    env.reset()
    env.step(write("/tmp/gold.diff", layout_instance.patch) + "\ncd /testbed && git apply /tmp/gold.diff")
    reward, info = env.submit_current_patch()
    assert reward == 1.0 and info["grade"]["test_infra_changes"] == [] and info["rejected"] is None


def test_an_edited_test_file_of_the_test_patch_is_listed_and_gets_reward_zero(
    make_env: Callable[..., SWEEnv], instance: TaskInstance
) -> None:
    fix = write("/tmp/gold.diff", instance.patch) + "\ncd /testbed && git apply /tmp/gold.diff"
    edit = "sed -i 's/^    assert /    assert True or /' /testbed/tests/test_version.py"
    reward, info = play(make_env(), [fix, edit])
    assert reward == 0.0 and info["grade"]["report"]["resolved"] is True
    (change,) = info["grade"]["test_infra_changes"]
    assert change == {
        "path": "tests/test_version.py",
        "reason": "the instance's test patch changes this file",
    }
    stripped, stripped_info = play(make_env(test_infra_changes="strip"), [fix, edit])
    assert stripped == 1.0 and stripped_info["grade"]["stripped"][0]["path"] == "tests/test_version.py"
