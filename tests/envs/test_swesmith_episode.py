"""An episode on a SWE-smith task, on an image in SWE-smith's layout built offline from a demo repository: the
sandbox starts at the instance's branch (bug in place, FAIL_TO_PASS test file absent, as SWE-smith's agents
see it), warm and fresh resets return to that buggy tree, and the gold fix made through the editor gets
reward 1.0."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

import envs  # noqa: F401  (registers srl_swe/SWE-v0)
from harness import load_instances
from harness.demo.swesmith_layout import ensure_swesmith_layout

pytestmark = pytest.mark.docker
FIXTURE = Path(__file__).parents[1] / "harness" / "fixtures" / "swe_smith_demo.jsonl"
BUGGY = "days, rest = divmod(whole, 86400)"
FIXED = "days, rest = divmod(abs(whole), 86400)"


@pytest.fixture
def env(tmp_path: Path):
    """Returns an SWEEnv on the fixture's SWE-smith instance, its image built offline; closes it after."""
    ensure_swesmith_layout(load_instances("demo", instance_ids=["srl-demo__timespan-3"])[0])
    (tmp_path / "rows.jsonl").write_text(FIXTURE.read_text())
    instance_id = load_instances("swe-smith", tmp_path / "rows.jsonl")[0].instance_id
    made = gym.make(
        "srl_swe/SWE-v0", task="swe-smith", path=str(tmp_path / "rows.jsonl"), instance_id=instance_id
    )
    yield made
    made.close()


def state(env) -> dict[str, str]:
    """Returns what the episode's sandbox holds: HEAD, the last two commits, the buggy line, the test file."""
    run = env.unwrapped.sandbox.run
    return {
        "head": run("git -C /testbed rev-parse HEAD").output.strip(),
        "log": run("git -C /testbed log --all --format=%s").output.strip(),
        "buggy": str(BUGGY in run("cat /testbed/timespan/format.py").output),
        "tests": run("test -e /testbed/tests/test_format.py && echo present || echo absent").output.strip(),
        "status": run("git -C /testbed status --porcelain").output.strip(),
    }


def test_resets_warm_and_fresh_return_to_the_buggy_tree(env) -> None:
    _, info = env.reset()
    first = state(env)
    base = env.unwrapped.instance.base_commit
    assert info["fresh"] and first["head"] == base and len(base) == 40
    assert first["buggy"] == "True" and first["tests"] == "absent" and first["status"] == ""

    commit = "git -c user.name=agent -c user.email=agent@x commit -qm 'moves the branch'"
    observation, *_ = env.step(
        f"sed -i 's/{BUGGY}/{FIXED}/' timespan/format.py && touch new.py && git add -A && {commit}"
    )
    assert state(env)["head"] != base, observation
    _, info = env.reset()
    assert not info["fresh"], info.get("fresh_reason")
    assert state(env) == first

    _, info = env.reset(options={"fresh": True})
    assert info["fresh"] and state(env) == first and env.unwrapped.instance.base_commit == base


def test_the_repository_holds_no_clean_code_to_copy_the_fix_from(env) -> None:
    env.reset()
    instance = env.unwrapped.instance
    assert state(env)["log"] == instance.instance_id  # one commit: SWE-smith's history holds the fix
    clean = instance.instance_id.split(".")[1]  # the clean commit's abbreviation, in the instance id
    looks = "git -C /testbed cat-file -e {}^{{commit}} && echo found; ls /tmp/srl_swe_bug.diff 2>&1"
    observation = env.unwrapped.sandbox.run(looks.format(clean)).output
    assert "found" not in observation and "No such file" in observation
    env.unwrapped.sandbox.write_file("/tmp/gold.diff", instance.patch)
    fixed = "cd /testbed && git apply /tmp/gold.diff && git hash-object timespan/format.py"
    fixed += " && git checkout -q ."
    blob = env.unwrapped.sandbox.run(fixed).output.strip()
    assert len(blob) == 40 and env.unwrapped.sandbox.run(f"git -C /testbed cat-file -e {blob}").exit_code != 0


def test_the_gold_fix_through_the_editor_gets_reward_one(env) -> None:
    env.reset()
    observation, *_ = env.step(
        f"str_replace_editor str_replace /testbed/timespan/format.py --old_str '{BUGGY}' --new_str '{FIXED}'"
    )
    assert "has been edited" in observation
    _, reward, terminated, _, info = env.step("submit")
    assert terminated and reward == 1.0 and info["resolved"]
