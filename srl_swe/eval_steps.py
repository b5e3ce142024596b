"""Step mode of `python -m srl_swe.eval`: the SRL paper's validation protocol on held-out step examples.

For every step example of a saved step dataset (``python -m srl_swe.data build ... --validation N`` writes the
held-out ones to ``OUT-validation``), the policy completes the step's prompt once greedily and ``samples``
times at ``sample_temperature`` (paper: 1.0). Each completion is scored as in training
(:func:`srl_swe.reward.srl_reward`: action similarity in [0, 1], −1 for a malformed completion) and summed up
as the mean step reward, the format-error rate, the exact-match rate (reward 1: the expert's action, character
for character) and the mean similarity of the well-formed actions, overall and per command kind of the
expert's action. The result is a table and ``<run-dir>/<run-id>/steps.json`` (written atomically), which also
keeps, per step example, its prompt, the expert's action and each completion with its score (``per_example``:
what ``python -m srl_swe.report`` shows side by side).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.completion import ParsedCompletion, parse_completion
from agents.policies import Policy, close_policy
from harness.evaluation import write_json_atomic
from srl_swe.reward import srl_reward

if TYPE_CHECKING:
    from rich.table import Table

    from srl_swe.eval_config import EvalConfig

RESULT_FILE = "steps.json"
EDITOR = "str_replace_editor"
DECODINGS = ("greedy", "sampled")


class StepEvalError(ValueError):
    """A step dataset that cannot be read or scored; one line."""


def command_kind(action: str) -> str:
    """Return the kind of an action: ``submit``, the editor's sub-command (``view``, ``str_replace``,
    ``create``, ``insert``, ``undo_edit``) or ``bash`` for any other command."""
    words = action.split(maxsplit=2)
    if words[:1] == ["submit"]:
        return "submit"
    if words[:1] == [EDITOR] and len(words) > 1:
        return words[1]
    return "bash"


def score_completions(completions: Sequence[str], expert_actions: Sequence[str]) -> list[dict[str, Any]]:
    """Return per completion its reward, whether it broke the format, whether it is the expert's action, and
    its similarity (None when malformed)."""
    rewards = srl_reward(completions, expert_actions)
    well_formed = [isinstance(parse_completion(c), ParsedCompletion) for c in completions]
    return [
        {"reward": r, "format_error": not ok, "exact": ok and r == 1.0, "similarity": r if ok else None}
        for r, ok in zip(rewards, well_formed, strict=True)
    ]


def summarize(scores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the mean step reward, format-error and exact-match rates and the mean similarity of the
    well-formed completions (None when there is none) over ``scores``."""
    count = len(scores)
    similar = [s["similarity"] for s in scores if s["similarity"] is not None]
    return {
        "completions": count,
        "step_reward": sum(s["reward"] for s in scores) / count if count else None,
        "format_error_rate": sum(s["format_error"] for s in scores) / count if count else None,
        "exact_match_rate": sum(s["exact"] for s in scores) / count if count else None,
        "similarity": sum(similar) / len(similar) if similar else None,
    }


def decoding_metrics(
    completions: Sequence[Sequence[str]], expert_actions: Sequence[str], kinds: Sequence[str]
) -> dict[str, Any]:
    """Return :func:`summarize` over all completions (``completions[i]``: those of step i) and per kind."""
    flat = [
        (score, kind)
        for outputs, expert, kind in zip(completions, expert_actions, kinds, strict=True)
        for score in score_completions(outputs, [expert] * len(outputs))
    ]
    by_kind = {k: summarize([s for s, kind in flat if kind == k]) for k in sorted(set(kinds))}
    return summarize([s for s, _ in flat]) | {"by_kind": by_kind}


def evaluate_steps(
    policy: Policy, steps: Any, samples: int, sample_temperature: float = 1.0, greedy_only: bool = False
) -> dict[str, Any]:
    """Return the metrics of ``policy`` on the step dataset ``steps`` (rows with ``prompt`` and
    ``expert_action``): under ``greedy`` one completion per step at temperature 0, under ``sampled``
    ``samples`` at ``sample_temperature`` (left out when ``greedy_only`` or ``samples`` is 0). The policy's
    own sampling settings are restored afterwards."""
    prompts = [list(p) for p in steps["prompt"]]
    experts = list(steps["expert_action"])
    kinds = [command_kind(a) for a in experts]
    result: dict[str, Any] = {"examples": len(prompts)}
    outputs: dict[str, list[list[str]]] = {}
    own = policy.sampling
    plans = [("greedy", 0.0, 1)]
    if samples and not greedy_only:
        plans.append(("sampled", sample_temperature, samples))
    try:
        for name, temperature, n in plans:
            policy.sampling = dataclasses.replace(own, temperature=temperature)
            outputs[name] = policy.generate(prompts, n=n)
            result[name] = decoding_metrics(outputs[name], experts, kinds) | {
                "n": n,
                "temperature": temperature,
            }
    finally:
        policy.sampling = own
    return result | {"per_example": step_records(steps, outputs)}


def step_records(steps: Any, outputs: dict[str, list[list[str]]]) -> list[dict[str, Any]]:
    """Return one record per step example: its instance and step index (None where the dataset has no such
    column), prompt, expert action and, per decoding in ``outputs``, each completion with its score."""
    columns = getattr(steps, "column_names", ())
    count = len(steps["expert_action"])
    ids = steps["instance_id"] if "instance_id" in columns else [None] * count
    indices = steps["step_index"] if "step_index" in columns else [None] * count
    records = []
    for i, (prompt, expert) in enumerate(zip(steps["prompt"], steps["expert_action"], strict=True)):
        record: dict[str, Any] = {
            "instance_id": ids[i],
            "step_index": indices[i],
            "prompt": [dict(message) for message in prompt],
            "expert_action": expert,
        }
        for name, completions in outputs.items():
            scores = score_completions(completions[i], [expert] * len(completions[i]))
            record[name] = [{"completion": c, **s} for c, s in zip(completions[i], scores, strict=True)]
        records.append(record)
    return records


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def steps_table(result: dict[str, Any], title: str) -> Table:
    """Return a rich table of a step evaluation: one row per decoding and command kind."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("decoding", "kind", "completions", "step reward", "format errors", "exact", "similarity"):
        table.add_column(column, justify="left" if column in ("decoding", "kind") else "right")
    for decoding in DECODINGS:
        if decoding not in result:
            continue
        metrics = result[decoding]
        label = f"{decoding} (n={metrics['n']}, T={metrics['temperature']:g})"
        rows = [("all", metrics), *metrics["by_kind"].items()]
        for index, (kind, row) in enumerate(rows):
            table.add_row(
                label if index == 0 else "",
                kind,
                str(row["completions"]),
                _cell(row["step_reward"]),
                _cell(row["format_error_rate"]),
                _cell(row["exact_match_rate"]),
                _cell(row["similarity"]),
                end_section=index == len(rows) - 1,
            )
    return table


def load_step_dataset(path: str | Path) -> Any:
    """Return the saved step dataset at ``path``; StepEvalError in one line when it is none."""
    import datasets

    from srl_swe.trajectories.read import is_saved_dataset

    if not is_saved_dataset(Path(path)):
        raise StepEvalError(
            f"--steps {path}: no saved dataset there (build one: python -m srl_swe.data build)"
        )
    steps = datasets.load_from_disk(str(path))
    missing = [c for c in ("prompt", "expert_action") if c not in steps.column_names]
    if missing:
        raise StepEvalError(f"--steps {path}: not a step dataset, missing column(s) {', '.join(missing)}")
    if len(steps) == 0:
        raise StepEvalError(f"--steps {path}: the step dataset has no step examples")
    return steps


def run_steps_mode(config: EvalConfig, policy: Policy | None = None) -> int:
    """Evaluate the policy on ``config.steps``, print the table, write ``steps.json``; return 0. ``policy``:
    an existing Policy (e.g. one sharing a vLLM engine); built from the config when None."""
    from rich.console import Console

    from srl_swe.eval_policy import build_policy, model_name

    console = Console()
    steps = load_step_dataset(config.steps)
    name = model_name(config.model)
    default = f"steps-{Path(config.steps).name}-{name.replace('/', '__')}"  # two models never share one
    root = Path(config.run_dir) / (config.run_id or default)
    console.print(
        f"[bold]steps[/]: {len(steps)} step examples of {config.steps}; model {name} via {config.policy}, "
        f"greedy and {config.samples} samples at T={config.sample_temperature:g}"
    )
    owned = policy is None
    policy = policy or build_policy(config)
    try:
        result = evaluate_steps(policy, steps, config.samples, config.sample_temperature)
    finally:
        if owned:
            close_policy(policy)
    result = {"model": name, "steps": str(config.steps), **result}
    root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(root / RESULT_FILE, result)
    console.print(steps_table(result, f"held-out steps: {name}"))
    console.print(f"step report: {root / RESULT_FILE}", highlight=False)
    return 0
