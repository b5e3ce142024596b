"""Expert trajectories of every outside format, read as a user reads them, run in SWEEnv at /testbed.

Each fixture under fixtures_replay/ is one run on the demo instance srl-demo__timespan-3 in that format's
exact shape and noise, with the format's own repository root (SWE-Gym's and OpenHands'
``/workspace/srl-demo__timespan__1.1``, the others' ``/testbed``): grep, view the function, fix it, run
its tests, submit (mini-swe-agent, bash only: ``sed`` instead of the editor). The observations were printed in
that instance's container by the commands themselves and by SWE-agent's editor. ``python -m srl_swe.data build
--strict`` reads each; the built step examples' actions are replayed in a real SWEEnv: every one runs, every
editor step gives its recorded observation exactly, and the submit resolves the instance.
"""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from datasets import load_from_disk

from agents.prompts import OBSERVATION_PREFIX
from envs.expert import RecordedStep
from envs.replay import replay
from tests.envs.conftest import demo_instances, instance, make_env  # noqa: F401 (fixtures)
from tests.srl_swe.test_data_cli import summary_rows

pytestmark = pytest.mark.docker

FIXTURES = Path(__file__).parent / "fixtures_replay"
INSTANCE_ID = "srl-demo__timespan-3"
SWE_GYM_ROOT = "/workspace/srl-demo__timespan__1.1"
SOURCES = {
    "swe_agent/srl-demo__timespan-3.traj": None,  # SWE-agent .traj, tool calls
    "swe_smith_tool.jsonl": None,  # SWE-smith tool row
    "swe_smith_ticks.jsonl": None,  # SWE-smith ticks row: SWE-agent's text/backticks format
    "mini_swe_agent/srl-demo__timespan-3.traj.json": None,  # mini-swe-agent, text mode
    "swe_gym_openhands.jsonl": SWE_GYM_ROOT,  # SWE-Gym's OpenHands message row
    "openhands_events/srl-demo__timespan-3.json": SWE_GYM_ROOT,  # OpenHands' event stream
}
EDITOR = "str_replace_editor "


def built_expert(source: Path, out: Path) -> tuple[SimpleNamespace, dict[str, str]]:
    """Returns the expert of the one trajectory `python -m srl_swe.data build --strict` makes of `source`
    (the built actions, each with the observation the step examples show after it) and the build summary."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "srl_swe.data", "build", "--trajectories", str(source)),
            *("--out", str(out), "--context-steps", "all", "--strict", "--num-proc", "1"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = sorted(load_from_disk(str(out)), key=lambda row: row["step_index"])
    assert {row["instance_id"] for row in rows} == {INSTANCE_ID}
    assert [row["step_index"] for row in rows] == list(range(len(rows)))
    shown = [message["content"] for message in rows[-1]["prompt"][3::2]]  # the observations before the last
    assert all(text.startswith(OBSERVATION_PREFIX) for text in shown)
    observations = [text.removeprefix(OBSERVATION_PREFIX) for text in shown] + [None]
    steps = [RecordedStep(row["expert_action"], seen) for row, seen in zip(rows, observations, strict=True)]
    return SimpleNamespace(steps=steps), summary_rows(result.stdout)


@pytest.mark.parametrize("name", SOURCES)
def test_built_expert_actions_run_at_testbed_and_resolve(name, tmp_path, demo_instances, make_env):  # noqa: F811
    expert, summary = built_expert(FIXTURES / name, tmp_path / "steps")
    assert summary["step examples"] == "4"  # grep, view, fix, test; the submit is no target
    source_root = SOURCES[name]
    if source_root is not None:
        assert summary[f"{source_root} → /testbed"] == "1"
    assert summary["paths mapped to /testbed (trajectories)"] == str(int(source_root is not None))
    actions = [step.action for step in expert.steps]
    assert all(SWE_GYM_ROOT not in action for action in actions)
    assert any(EDITOR in action for action in actions) != name.startswith("mini_swe_agent")
    report = replay(make_env(demo_instances[INSTANCE_ID]), expert)
    for step in report.steps[:-1]:
        assert step.exit_code == 0, (step.action, step.observed)
        assert "command not found" not in step.observed and "No such file" not in step.observed, step.action
        if step.action.startswith(EDITOR) and step.recorded is not None:
            assert step.observed == step.recorded, step.action
    compared = [step for step in report.steps if step.recorded is not None and step.action.startswith(EDITOR)]
    assert len(compared) == (0 if name.startswith("mini_swe_agent") else 2)  # the view and the fix
    assert report.steps[-1].action == "submit" and report.terminated
    assert (report.reward, report.resolved) == (1.0, True)
