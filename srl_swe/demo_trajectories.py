"""Expert trajectories of the demo set: hand-written expert scripts run in the real `SWEEnv`, saved as
SWE-agent ``.traj`` files.

    python -m srl_swe.demo_trajectories [--instance-ids ID ...] [--out DIR]

Each demo instance has a script, ``assets/demo_experts/<instance_id>.yaml``: an ordered list of
``{thought, action}`` that ends with ``submit``. Recording runs every action in a fresh `SWEEnv` and keeps
what really came back (observation, execution time, the submitted patch); a recording that does not end
with ``submit`` graded 1.0 is an error. The result is written as SWE-agent 1.x writes a function-calling run
(``DefaultAgent.get_trajectory_data``): ``trajectory`` (one ``TrajectoryStep`` per action), ``history`` (the
chat with ``bash`` / ``str_replace_editor`` / ``submit`` tool calls), ``info``, ``replay_config`` (a JSON
string) and ``environment``. Observations keep their nondeterministic bits (pytest's timings); replays
compare them with envs.replay's normalisation.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from envs.swe_env import SWEEnv, SWEEnvConfig
from harness import TaskInstance, load_instances
from srl_swe.trajectories.actions import EDITOR, normalize_action, parse_editor_command

ASSETS = Path(__file__).parent / "assets"
EXPERTS_DIR = ASSETS / "demo_experts"
"""Where the expert scripts are: ``<instance_id>.yaml``."""
TRAJECTORIES_DIR = ASSETS / "demo_trajectories"
"""Where the recorded trajectories are shipped: ``<instance_id>.traj``."""
SUBMIT = "submit"
AGENT_NAME = "main"
ENVIRONMENT_NAME = "main"
"""SWE-agent's default environment name, which its ``.traj`` files carry in ``environment``."""
REPO_ROOT = "/testbed"
SYSTEM_MESSAGE = (
    "You are a software engineer working in a Python repository at /testbed. Use the bash tool to run "
    "commands (one bash session: the working directory carries over), the str_replace_editor tool to view, "
    "create and edit files, and the submit tool once the issue is resolved."
)
OBSERVATION_PREFIX = "OBSERVATION:\n"


class DemoTrajectoryError(RuntimeError):
    """An expert script that cannot be read, or a recording that did not end resolved; names the instance."""


@dataclass(frozen=True)
class ScriptStep:
    """One step of an expert script: the reasoning, then the action the environment runs."""

    thought: str
    action: str


def script_path(instance_id: str, folder: Path = EXPERTS_DIR) -> Path:
    """Returns the path of the expert script of `instance_id`."""
    return folder / f"{instance_id}.yaml"


def load_script(path: Path) -> list[ScriptStep]:
    """Returns the steps of an expert script; raises DemoTrajectoryError naming the file and step when the
    script is not a list of {thought, action}, an editor call is not in its canonical quoting (the form the
    trajectory readers give back), or the last action is not `submit`."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DemoTrajectoryError(f"{path}: unreadable expert script: {error}") from error
    if not isinstance(entries, list) or not entries:
        raise DemoTrajectoryError(f"{path}: an expert script is a non-empty list of {{thought, action}}")
    steps = []
    for index, entry in enumerate(entries):
        where = f"{path} step {index}"
        if not isinstance(entry, dict) or set(entry) != {"thought", "action"}:
            raise DemoTrajectoryError(f"{where}: a step has exactly the keys 'thought' and 'action'")
        thought, action = entry["thought"], entry["action"]
        if not isinstance(thought, str) or not isinstance(action, str) or not action.strip():
            raise DemoTrajectoryError(f"{where}: 'thought' and 'action' are strings, the action non-empty")
        if normalize_action(action) != action:
            raise DemoTrajectoryError(f"{where}: write the action as {normalize_action(action)!r}")
        steps.append(ScriptStep(thought.strip(), action))
    if steps[-1].action != SUBMIT:
        raise DemoTrajectoryError(f"{path}: the last action is {steps[-1].action!r}, not {SUBMIT!r}")
    return steps


def tool_call(action: str, call_id: str) -> dict[str, Any]:
    """Returns the function-calling tool call (OpenAI/litellm form) that SWE-agent renders as `action`."""
    if action == SUBMIT:
        name, arguments = SUBMIT, {}
    elif action.startswith(EDITOR + " "):
        name, arguments = EDITOR, parse_editor_command(action)
    else:
        name, arguments = "bash", {"command": action}
    return {"function": {"arguments": json.dumps(arguments), "name": name}, "id": call_id, "type": "function"}


def task_message(instance: TaskInstance) -> str:
    """Returns the first user message: the repository and the issue inside ``<pr_description>``."""
    return (
        f"<uploaded_files>\n{REPO_ROOT}\n</uploaded_files>\n"
        f"The repository at {REPO_ROOT} has the issue described below.\n\n"
        f"<pr_description>\n{instance.problem_statement}\n</pr_description>\n\n"
        "Change the repository's non-test files so that the issue is resolved."
    )


def replay_config(instance: TaskInstance) -> str:
    """Returns the run configuration as SWE-agent stores it in a ``.traj``: the JSON text of the config."""
    config = {
        "env": {
            "deployment": {"type": "docker", "image": instance.image},
            "repo": {
                "type": "preexisting",
                "repo_name": REPO_ROOT.strip("/"),
                "base_commit": instance.base_commit,
            },
            "name": ENVIRONMENT_NAME,
        },
        "problem_statement": {
            "type": "text",
            "text": instance.problem_statement,
            "extra_fields": {},
            "id": instance.instance_id,
        },
    }
    return json.dumps(config)


def _message(role: str, content: str, message_type: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": content, "agent": AGENT_NAME, "message_type": message_type, **extra}


def record(instance: TaskInstance, script: Sequence[ScriptStep], env: SWEEnv) -> dict[str, Any]:
    """Runs the script's actions in `env` (reset first) and returns the SWE-agent ``.traj`` data of what came
    back; raises DemoTrajectoryError when an action times out, the episode ends before the script does, or
    the submission is not graded resolved (reward 1.0)."""
    env.reset()
    history = [
        _message("system", SYSTEM_MESSAGE, "system_prompt"),
        _message("user", task_message(instance), "observation"),
    ]
    trajectory: list[dict[str, Any]] = []
    reward, info = 0.0, {}
    for index, step in enumerate(script):
        query = copy.deepcopy(history)
        observation, reward, terminated, truncated, info = env.step(step.action)
        if info.get("timed_out"):
            raise DemoTrajectoryError(f"{instance.instance_id} step {index}: {step.action!r} timed out")
        call = tool_call(step.action, f"call_{index:02d}")
        history.append(
            _message(
                "assistant",
                step.thought,
                "action",
                thought=step.thought,
                action=step.action,
                tool_calls=[call],
                thinking_blocks=None,
            )
        )
        history.append(
            _message("tool", OBSERVATION_PREFIX + observation, "observation", tool_call_ids=[call["id"]])
        )
        trajectory.append(
            {
                "action": step.action,
                "observation": observation,
                "response": step.thought,
                "thought": step.thought,
                "execution_time": round(info["duration_s"], 3),
                "state": {},
                "query": query,
                "extra_info": {},
            }
        )
        if (terminated or truncated) and index < len(script) - 1:
            raise DemoTrajectoryError(
                f"{instance.instance_id}: the episode ended at step {index} of {len(script)}"
            )
    if reward != 1.0:
        outcome = "resolved" if info.get("resolved") else "not resolved"
        raise DemoTrajectoryError(f"{instance.instance_id}: the submission got reward {reward} ({outcome})")
    return {
        "trajectory": trajectory,
        "history": history,
        "info": {
            "submission": info["patch"],
            "exit_status": "submitted",
            "model_stats": {"instance_cost": 0.0, "tokens_sent": 0, "tokens_received": 0, "api_calls": 0},
        },
        "replay_config": replay_config(instance),
        "environment": ENVIRONMENT_NAME,
    }


def write_traj(data: dict[str, Any], path: Path) -> Path:
    """Writes `data` as a ``.traj`` file (JSON, indent 2, as SWE-agent writes it) atomically; returns path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(data, indent=2) + "\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def record_instance(instance: TaskInstance, out: Path, experts: Path = EXPERTS_DIR) -> Path:
    """Records the expert script of `instance` in a fresh SWEEnv and writes ``<out>/<instance_id>.traj``;
    returns the written path."""
    script = load_script(script_path(instance.instance_id, experts))
    env = SWEEnv(instance, config=SWEEnvConfig())
    try:
        data = record(instance, script, env)
    finally:
        env.close()
    return write_traj(data, out / f"{instance.instance_id}.traj")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m srl_swe.demo_trajectories",
        description="Record the demo set's expert trajectories in SWEEnv as SWE-agent .traj files.",
    )
    parser.add_argument("--instance-ids", nargs="+", metavar="ID", help="record only these demo instances")
    parser.add_argument(
        "--out", type=Path, default=TRAJECTORIES_DIR, help=f"folder (default {TRAJECTORIES_DIR})"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Records the demo trajectories; returns 0 when every one ended with reward 1.0, 1 when one did not, 2
    on bad input (an unknown instance id)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.errors import HarnessError

    arguments = _arguments(argv)
    console = Console(stderr=True)
    try:
        instances = load_instances("demo", instance_ids=arguments.instance_ids)
    except HarnessError as error:  # bad input: one line, exit 2
        console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        return 2
    failures = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("recording", total=len(instances))
        for instance in instances:
            progress.update(task, description=f"recording {instance.instance_id}")
            try:
                path = record_instance(instance, arguments.out)
                progress.console.print(f"[green]wrote[/green] {path}")
            except (DemoTrajectoryError, HarnessError) as error:
                failures.append(str(error))
                progress.console.print(f"[red]failed[/red] {error}")
            progress.advance(task)
    if failures:
        console.print(f"[red]{len(failures)} of {len(instances)} recordings failed[/red]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
