"""The demo set's shipped expert trajectories: one SWE-agent .traj per instance, read back by the trajectory
readers into the expert script's steps, cut into N−1 step examples, and (on the engine) replayed in SWEEnv
to reward 1.0 with the recorded observations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from unidiff import PatchSet

from envs.replay import normalise_observation, replay
from envs.swe_env import SWEEnv, SWEEnvConfig
from harness import TaskInstance, load_instances
from srl_swe.demo_trajectories import (
    EXPERTS_DIR,
    TRAJECTORIES_DIR,
    DemoTrajectoryError,
    load_script,
    main,
    script_path,
    tool_call,
)
from srl_swe.steps import step_examples
from srl_swe.trajectories import Trajectory, read, render_tool_call

INSTANCES = {instance.instance_id: instance for instance in load_instances("demo")}
TRAJECTORY_STEP_KEYS = {
    "action",
    "observation",
    "response",
    "thought",
    "execution_time",
    "state",
    "query",
    "extra_info",
}
_DURATION = re.compile(r"\b\d+(?:\.\d+)?s\b")


def _masked(observation: str) -> str:
    """Returns the observation normalised as envs.replay does, with durations (pytest's "in 0.05s") masked."""
    return _DURATION.sub("<t>", normalise_observation(observation))


def _shipped() -> dict[str, Trajectory]:
    return {trajectory.instance_id: trajectory for trajectory in read(TRAJECTORIES_DIR, strict=True)}


def _changed_files(patch: str) -> set[str]:
    return {patched.path for patched in PatchSet(patch)}


def test_every_demo_instance_has_an_expert_script_and_a_shipped_trajectory() -> None:
    assert {path.stem for path in EXPERTS_DIR.glob("*.yaml")} == set(INSTANCES)
    assert {path.stem for path in TRAJECTORIES_DIR.glob("*.traj")} == set(INSTANCES)


def test_shipped_trajectories_read_back_as_the_expert_scripts_with_the_resolving_patch() -> None:
    shipped = _shipped()
    assert set(shipped) == set(INSTANCES)
    for instance_id, trajectory in shipped.items():
        script = load_script(script_path(instance_id))
        instance = INSTANCES[instance_id]
        assert trajectory.format == "swe-agent"
        assert trajectory.problem_statement == instance.problem_statement
        assert [step.action for step in trajectory.steps] == [step.action for step in script]
        assert [step.thought for step in trajectory.steps] == [step.thought for step in script]
        assert all(step.observation for step in trajectory.steps[:-1]), instance_id
        assert 6 <= len(trajectory.steps) <= 12
        assert trajectory.patch and _changed_files(trajectory.patch) == _changed_files(instance.patch)


def test_shipped_files_follow_swe_agent_function_calling_layout() -> None:
    for path in sorted(TRAJECTORIES_DIR.glob("*.traj")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert set(data) == {"trajectory", "history", "info", "replay_config", "environment"}
        assert all(set(step) == TRAJECTORY_STEP_KEYS for step in data["trajectory"]), path
        assert data["info"]["exit_status"] == "submitted" and data["info"]["submission"]
        assert json.loads(data["replay_config"])["problem_statement"]["id"] == path.stem
        history = data["history"]
        assert [m["role"] for m in history[:2]] == ["system", "user"]
        assistants, tools = history[2::2], history[3::2]
        assert len(assistants) == len(tools) == len(data["trajectory"])
        for step, assistant, tool in zip(data["trajectory"], assistants, tools, strict=True):
            (call,) = assistant["tool_calls"]
            assert render_tool_call(call["function"]["name"], call["function"]["arguments"]) == step["action"]
            assert tool["role"] == "tool" and tool["tool_call_ids"] == [call["id"]]
            assert tool["content"] == "OBSERVATION:\n" + step["observation"]
            assert step["query"] == history[: history.index(assistant)]


def test_the_step_builder_makes_n_minus_one_examples_from_each_trajectory() -> None:
    for trajectory in _shipped().values():
        rows = list(step_examples(trajectory))
        assert len(rows) == len(trajectory.steps) - 1
        assert [row["expert_action"] for row in rows] == [step.action for step in trajectory.steps[:-1]]
        assert {row["instance_id"] for row in rows} == {trajectory.instance_id}


def test_tool_calls_render_back_to_the_action_for_bash_editor_and_submit() -> None:
    for action in ("ls -la", "str_replace_editor view /testbed/a.py --view_range 1 5", "submit"):
        call = tool_call(action, "call_00")["function"]
        assert render_tool_call(call["name"], call["arguments"]) == action


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- {thought: look, action: ls}\n", "not 'submit'"),
        ("- {thought: done, action: submit, extra: 1}\n", "exactly the keys"),
        ("{thought: done, action: submit}\n", "non-empty list"),
        (
            "- {thought: edit, action: \"str_replace_editor view '/testbed/a.py'\"}\n"
            "- {thought: done, action: submit}\n",
            "write the action as",
        ),
    ],
)
def test_a_malformed_expert_script_is_refused_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "demo__x-1.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DemoTrajectoryError, match=problem) as error:
        load_script(path)
    assert str(path) in str(error.value)


@pytest.fixture(scope="module")
def engine_instances() -> dict[str, TaskInstance]:
    """Returns the demo instances with their images built; skips when no container engine answers."""
    from harness.images import ensure_images
    from harness.sandbox.engine import connect_engine
    from harness.sandbox.errors import EngineNotReachableError

    try:
        connect_engine()
    except EngineNotReachableError as error:
        pytest.skip(str(error))
    ensure_images(list(INSTANCES.values()))
    return INSTANCES


@pytest.mark.parametrize("instance_id", sorted(INSTANCES))
def test_replaying_a_shipped_trajectory_in_sweenv_gets_reward_one(
    instance_id: str, engine_instances: dict[str, TaskInstance]
) -> None:
    (trajectory,) = read(TRAJECTORIES_DIR / f"{instance_id}.traj", strict=True)
    env = SWEEnv(engine_instances[instance_id], config=SWEEnvConfig(step_timeout_s=60.0))
    try:
        report = replay(env, trajectory)
    finally:
        env.close()
    assert report.terminated and report.resolved is True and report.reward == 1.0
    assert len(report.steps) == len(trajectory.steps)
    for step in report.steps:  # the same output again, up to pytest's timings
        assert _masked(step.observed) == _masked(step.recorded), (
            f"{instance_id} step {step.index}: {step.action}"
        )


def test_the_command_regenerates_a_shipped_trajectory_up_to_timings(
    tmp_path: Path, engine_instances: dict[str, TaskInstance]
) -> None:
    instance_id = "srl-demo__timespan-3"
    assert main(["--instance-ids", instance_id, "--out", str(tmp_path)]) == 0
    (fresh,) = read(tmp_path / f"{instance_id}.traj", strict=True)
    (shipped,) = read(TRAJECTORIES_DIR / f"{instance_id}.traj", strict=True)
    assert fresh.patch == shipped.patch
    assert [(s.thought, s.action) for s in fresh.steps] == [(s.thought, s.action) for s in shipped.steps]
    assert [_masked(s.observation) for s in fresh.steps] == [_masked(s.observation) for s in shipped.steps]


def test_the_command_names_an_unknown_instance_in_one_line_and_fails(capsys) -> None:
    assert main(["--instance-ids", "srl-demo__nothing-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "srl-demo__nothing-1" in err and err.count("\n") == 1
