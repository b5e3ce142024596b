"""Oracle and end-to-end modes of `python -m srl_swe.eval`: a policy's patches, as swebench predictions,
graded in real containers (see srl_swe.eval for the layout of a run)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from agents.policies import Policy, close_policy
from agents.swe_rl_prompts import DEFAULT_TEXTS, PromptTexts, load_prompt_texts
from harness.evaluation import write_json_atomic
from srl_swe.eval_manifest import (
    MANIFEST_FILE,
    build_manifest,
    claim_run_folder,
    default_run_id,
    read_manifest,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from agents.loop import Episode
    from harness import TaskInstance
    from srl_swe.eval_config import EvalConfig

PREDICTIONS_FILE = "predictions.jsonl"


class PolicyEvalError(RuntimeError):
    """A policy that cannot be built or reached, or a predictions file that cannot be read; one line."""


def run_policy_mode(
    config: EvalConfig,
    policy: Policy | None = None,
    make_batch: Callable | None = None,
    report_more: Callable | None = None,
) -> int:
    """Make (or resume) the policy's predictions in oracle or e2e mode, grade them, print the table and the
    report's path; return 0 when every instance was graded, else 1. ``policy``: an existing Policy (e.g. one
    sharing a vLLM engine); built from the config when None. Another mode (agentless) passes its own
    ``make_batch(batch, policy, config, root, name)``, yielding (instance id, patch, record), and
    ``report_more(console, instances, root, run)``, printing its own report after the table."""
    from rich.console import Console

    from harness import load_instances
    from harness.evaluation import evaluate

    console = Console()
    instances = load_instances(config.task, config.path, config.instance_ids, image_map=config.image_map)
    unavailable = {}
    if config.executor == "local" or config.mode in ("oracle", "agentless"):  # they read files on this engine
        unavailable = config.missing_images(instances)
    name = model_name(config.model)
    root = Path(config.run_dir) / (config.run_id or default_run_id(config, name))
    with config.open_executor() as executor:
        manifest = _manifest(config, name, instances, executor, root)
        claim_run_folder(root, manifest, config.force)
        predictions = read_predictions(root / PREDICTIONS_FILE)
        todo = [i for i in instances if i.instance_id not in predictions and i.instance_id not in unavailable]
        console.print(
            f"[bold]{config.mode}[/]: {len(instances)} instances of [bold]{config.task}[/], "
            f"{len(instances) - len(todo)} already predicted (same settings: {root / MANIFEST_FILE}); "
            f"model {name} via {config.policy}",
            soft_wrap=True,
        )
        make = make_batch or (_oracle_batch if config.mode == "oracle" else _e2e_batch)
        episodes = _predict(todo, policy, config, root, name, predictions, executor, make) if todo else {}
        run = evaluate(
            instances,
            predictions,
            root,
            run_id=root.name,
            model_name=name,
            timeout_s=config.timeout_s,
            grader=_reusing_grader(episodes),
            force=config.force,
            grading=config.grading(),
            executor=executor,
            manifest=manifest,
            unavailable=unavailable,
        )
    console.print(policy_table(config.mode, instances, run, predictions, episodes))
    if report_more is not None:
        report_more(console, instances, root, run)
    return print_summary(console, run, root, root / PREDICTIONS_FILE)


def print_summary(console, run, root: Path, predictions_path: Path) -> int:
    """Print the run report's counts (swebench's: an empty patch is not completed, a patch that did not
    apply is an error), why each unresolved instance failed, and where the predictions and the report
    are; return 0 when every instance with a prediction was graded, else 1."""
    from srl_swe.eval_gold import describe_unresolved

    report = json.loads(run.report_path.read_text())
    console.print(
        f"resolved {report['resolved_instances']}/{report['total_instances']} (swebench's counters: "
        f"completed {report['completed_instances']}, unresolved {report['unresolved_instances']}, "
        f"empty patches {report['empty_patch_instances']}, errors {report['error_instances']}); "
        f"{report['reused_instances']} result(s) reused (same instance, patch and image; --force regrades)"
    )
    for instance_id in report["unresolved_diagnosis"]:
        why = describe_unresolved(run.entry(instance_id))
        if why and instance_id not in report["empty_patch_ids"]:
            console.print(f"{instance_id}: unresolved{why}", soft_wrap=True, highlight=False, markup=False)
    for instance_id, why in report["failure_reasons"].items():
        if instance_id not in report["unresolved_diagnosis"]:
            console.print(f"{instance_id}: not graded: {why}", soft_wrap=True, highlight=False, markup=False)
    console.print(f"predictions: {predictions_path}", soft_wrap=True)
    console.print(f"report: {run.report_path}", soft_wrap=True)
    return 1 if run.errors or report["incomplete_ids"] else 0


def _predict(todo, policy, config, root, name, predictions, executor, make) -> dict:
    """Make the predictions of ``todo`` in batches (appended to predictions.jsonl and ``predictions`` as
    they come); return instance id -> reply record (oracle) or episode (e2e). Under --executor ray an e2e
    batch is at most the cluster's sandbox slots: each of its envs holds one."""
    owned = policy is None
    policy = policy or build_policy(config)
    size = max(1, config.batch_size)
    if config.mode == "e2e" and config.executor == "ray":
        size = min(size, executor.capacity())
    episodes: dict = {}
    try:
        for start in range(0, len(todo), size):
            for instance_id, patch, record in make(todo[start : start + size], policy, config, root, name):
                if patch is not None:
                    predictions[instance_id] = patch
                    append_prediction(root / PREDICTIONS_FILE, instance_id, name, patch)
                episodes[instance_id] = record
    finally:
        if owned:
            close_policy(policy)  # before grading: the engine's memory and cores go back
    return episodes


def _manifest(config: EvalConfig, name: str, instances, executor, root: Path) -> dict:
    """Return this run's manifest (srl_swe.eval_manifest): its settings, the model's identity and each
    instance's image id as the executor's engines report it."""
    from srl_swe.models import resolve_model

    resolved = None if config.policy == "openai" else resolve_model(config.model)
    image_ids = executor.image_ids(instances)
    by_instance = {i.instance_id: image_ids.get(i.image) for i in instances}
    return build_manifest(config, name, by_instance, resolved, read_manifest(root))


def model_name(model: str | None) -> str:
    """Return the model_name_or_path written in predictions: the hub id, a local folder's name, or the
    tiny model's name."""
    if model is None:
        return "srl-swe-tiny"
    path = Path(model).expanduser()
    return path.name if path.exists() else model


def build_policy(config: EvalConfig) -> Policy:
    """Return the Policy the config names, on its model (the tiny model by default)."""
    from agents.policies import SamplingConfig, make_policy
    from srl_swe.models import resolve_model

    sampling = SamplingConfig(
        temperature=config.temperature,
        top_p=config.top_p,
        max_new_tokens=config.max_new_tokens,
        seed=config.seed,
    )
    if config.policy == "openai":
        if not config.base_url:
            raise PolicyEvalError("--policy openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        served = config.served_model or config.model
        if not served:
            raise PolicyEvalError(
                "--policy openai needs --served-model or --model: the name the server knows"
            )
        return make_policy(
            "openai", served, sampling=sampling, base_url=config.base_url, api_key_env=config.api_key_env
        )
    model = resolve_model(config.model)
    if config.policy == "vllm":
        options = {
            "dtype": config.dtype,
            "seed": config.seed,
            "max_model_len": config.max_model_len,
            "max_num_seqs": max(1, config.batch_size) * _samples_per_prompt(config),
        }
        if config.gpu_memory_utilization is not None:
            options["gpu_memory_utilization"] = config.gpu_memory_utilization
        return make_policy("vllm", model, sampling=sampling, **options)
    return make_policy("transformers", model, sampling=sampling, dtype=config.dtype)


def _samples_per_prompt(config: EvalConfig) -> int:
    """Return the most completions one prompt asks for in this mode (sizes vLLM's batch)."""
    if config.mode == "steps":
        return max(1, config.samples)
    if config.mode == "agentless":
        return max(config.localize_samples, config.repair_samples, config.reproduction_samples)
    return 1


def read_predictions(path: Path) -> dict[str, str]:
    """Return instance id -> model_patch from a swebench predictions JSONL file ({} when it is absent)."""
    if not path.is_file():
        return {}
    predictions = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            predictions[row["instance_id"]] = row["model_patch"] or ""
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise PolicyEvalError(f"{path} line {number}: not a prediction row ({error})") from None
    return predictions


def append_prediction(path: Path, instance_id: str, model: str, patch: str) -> None:
    """Append one swebench prediction row to ``path`` (flushed, so a crash keeps the finished ones)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"instance_id": instance_id, "model_name_or_path": model, "model_patch": patch}
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def call_policy(call):
    """Run ``call`` (a policy call); a server that cannot be reached or refuses becomes PolicyEvalError."""
    try:
        return call()
    except Exception as error:
        if type(error).__module__.startswith("openai"):
            raise PolicyEvalError(f"the policy's server failed: {type(error).__name__}: {error}") from None
        raise


def _oracle_batch(batch, policy, config, root, name):
    """Yield (instance id, patch, reply record) for a batch in oracle mode; replies go to replies/."""
    from concurrent.futures import ThreadPoolExecutor

    from agents.oracle import oracle_predictions, read_oracle_files

    with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
        files = dict(zip([i.instance_id for i in batch], pool.map(read_oracle_files, batch), strict=True))
    protocol = oracle_protocol(config.oracle_prompt, config.thinking, load_prompt_texts(config.prompt_texts))
    for result in call_policy(lambda: oracle_predictions(batch, policy, files, protocol)):
        record = {**dataclasses.asdict(result), "model_name_or_path": name}
        write_json_atomic(root / "replies" / f"{result.instance_id}.json", record)
        yield result.instance_id, result.patch, record


def oracle_protocol(name: str, thinking: bool = True, texts: PromptTexts = DEFAULT_TEXTS):
    """Return the OracleProtocol called ``name``: ``swe-rl`` (SWE-RL's prompt in the wording of ``texts``,
    with or without its thinking system prompt, and its reading of the reply) or ``ours``."""
    from agents.oracle import OURS, OracleProtocol
    from agents.swe_rl import SWE_RL_ORACLE, repair_prompt

    if name == "ours":
        return OURS
    return OracleProtocol(
        lambda issue, files: repair_prompt(issue, files, thinking, texts), SWE_RL_ORACLE.to_patch
    )


def _e2e_batch(batch, policy, config, root, name):
    """Yield (instance id, patch or None after an env error, episode) for a batch run in lockstep; each
    episode is written to trajectories/<instance_id>.traj."""
    from agents.loop import LoopConfig, run_episodes
    from envs.remote import RemoteEnv
    from envs.swe_env import SWEEnv, SWEEnvConfig
    from envs.wrappers import StepLimit
    from srl_swe.demo_trajectories import write_traj

    env_config = SWEEnvConfig(
        step_timeout_s=config.step_timeout_s,
        grade_timeout_s=config.timeout_s,
        grade_log_dir=root / name.replace("/", "__"),
        grade_network_mode=config.grade_network_mode,
        grade_memory=config.grade_memory,
        grade_pids_limit=config.grade_pids_limit,
        pull_images=config.pull,
        test_infra_changes="allow",  # evaluation grades as SWE-bench does; its report lists such patches
    )
    loop = LoopConfig(context_steps=None if config.context_steps < 0 else config.context_steps)
    env_class = SWEEnv if config.executor == "local" else RemoteEnv  # RemoteEnv: on a Ray node's engine
    envs = [StepLimit(env_class(instance, config=env_config), config.max_steps) for instance in batch]
    try:
        episodes = call_policy(lambda: run_episodes(envs, policy, loop, keep_prompts=True))
    finally:
        for env in envs:
            env.close()
    for instance, episode in zip(batch, episodes, strict=True):
        write_traj(
            episode_traj(episode, instance, name), root / "trajectories" / f"{instance.instance_id}.traj"
        )
        failed = episode.exit_status.startswith("error")
        yield instance.instance_id, None if failed else episode.patch, episode


def episode_traj(episode: Episode, instance: TaskInstance, name: str) -> dict:
    """Return the episode as a SWE-agent ``.traj`` (text actions): ``trajectory`` (action, observation,
    response = the whole completion, thought, query = the prompt), ``history``, ``info``, ``replay_config``,
    ``environment``; ``info`` also holds the SRL-SWE outcome (reward, resolved, format errors)."""
    from agents.prompts import SYSTEM_PROMPT, observation_message, task_message
    from srl_swe.demo_trajectories import ENVIRONMENT_NAME, replay_config

    def message(role: str, content: str, kind: str, **extra) -> dict:
        return {"role": role, "content": content, "agent": "main", "message_type": kind, **extra}

    history = [
        message("system", SYSTEM_PROMPT, "system_prompt"),
        message("user", task_message(episode.problem_statement), "observation"),
    ]
    steps = []
    for step in episode.steps:
        action = step.action or ""
        history.append(message("assistant", step.completion, "action", thought=step.thought, action=action))
        history.append(message("user", observation_message(step.observation), "observation"))
        steps.append(
            {
                "action": action,
                "observation": step.observation,
                "response": step.completion,
                "thought": step.thought,
                "execution_time": step.execution_time_s,
                "state": {},
                "query": step.prompt,
                "extra_info": {"format_error": step.format_error},
            }
        )
    exit_status = {"submitted": "submitted", "step_limit": "submitted (exit_step_limit)"}
    return {
        "trajectory": steps,
        "history": history,
        "info": {
            "submission": episode.patch,
            "exit_status": exit_status.get(episode.exit_status, "exit_error"),
            "model_stats": {"instance_cost": 0.0, "tokens_sent": 0, "tokens_received": 0, "api_calls": 0},
            "model_name_or_path": name,
            "reward": episode.reward,
            "resolved": episode.resolved,
            "format_errors": episode.format_errors,
            "error": episode.exit_status if episode.exit_status.startswith("error") else None,
        },
        "replay_config": replay_config(instance),
        "environment": ENVIRONMENT_NAME,
    }


def _reusing_grader(episodes: dict):
    """Return a grader for harness.evaluation that reuses the grade an e2e episode already got in its env
    (same patch, logs already in the instance's folder) and grades anything else."""
    from harness.grading import GradeResult, grade

    def grader(instance, patch, **options) -> GradeResult:
        episode = episodes.get(instance.instance_id)
        graded = getattr(episode, "grade", None)
        if graded is not None and episode.patch == (patch or ""):
            return GradeResult(**graded)
        return grade(instance, patch, **options)

    return grader


def policy_table(mode: str, instances, run, predictions: dict, episodes: dict):
    """Return a rich Table: per instance, resolved, patch size and (e2e) steps and format errors or
    (oracle) why the reply gave no patch."""
    from rich.table import Table

    table = Table(title=f"{mode} (✓ resolved; ✗ not; - not graded)")
    table.add_column("instance", no_wrap=True)
    table.add_column("resolved", justify="center")
    table.add_column("patch lines", justify="right")
    if mode == "e2e":
        table.add_column("steps", justify="right")
        table.add_column("format errors", justify="right")
        table.add_column("exit")
    elif mode != "predictions":
        table.add_column("reply")
    for instance in instances:
        iid = instance.instance_id
        entry = run.entry(iid)
        mark = "-" if entry is None else ("[green]✓[/]" if entry["resolved"] else "✗")
        patch = predictions.get(iid)
        cells = [iid, mark, "-" if patch is None else str(len(patch.splitlines()))]
        record = episodes.get(iid)
        if mode == "e2e":
            cells += (
                [str(len(record.steps)), str(record.format_errors), record.exit_status]
                if record
                else ["", "", "(earlier run)"]
            )
        elif mode != "predictions":
            cells.append("(earlier run)" if record is None else record["error"] or "edits applied")
        table.add_row(*cells)
    return table
