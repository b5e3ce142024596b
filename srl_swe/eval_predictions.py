"""Predictions mode of `python -m srl_swe.eval`: any agent's patches, from a SWE-bench predictions file
(`--predictions FILE`), graded with the same runner, executors, reuse rules and report as the policy modes,
under the file's `model_name_or_path`.

The file is JSONL (one prediction per line), a JSON list, or a JSON object of instance id -> prediction
(SWE-agent's preds.json), each prediction with swebench's fields `instance_id`, `model_name_or_path`,
`model_patch`. A `null` or missing `model_patch` is an empty patch, counted as swebench counts it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from srl_swe.eval_config import EvalConfig


class PredictionsFileError(ValueError):
    """A predictions file that cannot be graded; the message names the file, the row and the field."""


def read_predictions_file(path: str | Path) -> tuple[str, dict[str, str | None]]:
    """Return (model_name_or_path, instance id -> patch or None) from a swebench predictions file; raise
    PredictionsFileError in one line for an unreadable file, a row without `instance_id` or
    `model_name_or_path`, a patch that is not text, an instance given twice, or rows of several models."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PredictionsFileError(f"--predictions {path}: cannot read it ({error})") from None
    rows = _rows(path, text)
    models: dict[str, str] = {}
    patches: dict[str, str | None] = {}
    for where, row in rows:
        if not isinstance(row, dict):
            raise PredictionsFileError(f"{path} {where}: a prediction must be an object, not {row!r:.40}")
        instance_id, model = row.get("instance_id"), row.get("model_name_or_path")
        if not isinstance(instance_id, str) or not instance_id:
            raise PredictionsFileError(f"{path} {where}: no instance_id")
        if not isinstance(model, str) or not model:
            raise PredictionsFileError(f"{path} {where} ({instance_id}): no model_name_or_path")
        patch = row.get("model_patch")
        if patch is not None and not isinstance(patch, str):
            raise PredictionsFileError(
                f"{path} {where} ({instance_id}): model_patch must be a unified diff or null, not "
                f"{type(patch).__name__}"
            )
        if instance_id in patches:
            raise PredictionsFileError(f"{path} {where}: {instance_id} is predicted twice")
        patches[instance_id] = patch
        models.setdefault(model, instance_id)
    if not patches:
        raise PredictionsFileError(f"{path}: no predictions")
    if len(models) > 1:
        first, second = list(models)[:2]
        raise PredictionsFileError(
            f"{path}: rows of {len(models)} models ({first}, {second} at {models[second]}): grade one "
            "model's predictions per file"
        )
    return next(iter(models)), patches


def _rows(path: Path, text: str) -> list[tuple[str, Any]]:
    """Return (where, row) for each prediction: "line N" of a JSONL file, "item N" of a JSON list or
    "key ID" of a JSON object."""
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and path.suffix == ".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise PredictionsFileError(f"{path}: not valid JSON ({error})") from None
        if isinstance(data, dict):
            return [(f"key {key}", value) for key, value in data.items()]
        return [(f"item {number}", row) for number, row in enumerate(data, 1)]
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as error:
                raise PredictionsFileError(f"{path} line {number}: not JSON ({error})") from None
    return rows


def predictions_manifest(
    config: EvalConfig, model: str, image_ids: dict[str, str | None], file: Path
) -> dict[str, Any]:
    """Return the manifest of a predictions run: mode, task, model name, the file (path and sha256, kept
    for the reader: each patch's own hash decides its reuse), grading settings and image ids."""
    from srl_swe.eval_manifest import grading_settings

    return {
        "mode": config.mode,
        "task": config.task,
        "model_name_or_path": model,
        "predictions_file": str(file.resolve()),
        "predictions_sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        "grading": grading_settings(config),
        "image_ids": dict(image_ids),
    }


def run_predictions_mode(config: EvalConfig) -> int:
    """Grade the predictions file's patches, print the table and the report's path; return 0 when every
    predicted instance was graded, else 1."""
    from rich.console import Console

    from harness import load_instances
    from harness.evaluation import evaluate
    from harness.images import ensure_images
    from srl_swe.eval_manifest import claim_run_folder, default_run_id
    from srl_swe.eval_policy import policy_table, print_summary

    file = Path(config.predictions or "")
    name, predictions = read_predictions_file(file)
    wanted = [i for i in config.instance_ids or predictions if i in predictions]
    instances = load_instances(config.task, config.path, wanted, image_map=config.image_map)
    if config.executor == "local":
        ensure_images(instances, pull=config.pull)
    root = Path(config.run_dir) / (config.run_id or default_run_id(config, name))
    console = Console()
    console.print(
        f"[bold]predictions[/]: {len(instances)} instances of [bold]{config.task}[/] from {file}, model "
        f"{name}, {sum(1 for i in wanted if not predictions[i])} empty or null patch(es)",
        soft_wrap=True,
    )
    with config.open_executor() as executor:
        image_ids = executor.image_ids(instances)
        by_instance = {i.instance_id: image_ids.get(i.image) for i in instances}
        manifest = predictions_manifest(config, name, by_instance, file)
        claim_run_folder(root, manifest, config.force)
        run = evaluate(
            instances,
            {i: predictions[i] for i in wanted},
            root,
            run_id=root.name,
            model_name=name,
            timeout_s=config.timeout_s,
            force=config.force,
            grading=config.grading(),
            executor=executor,
            manifest=manifest,
        )
    patches = {i: predictions[i] or "" for i in wanted}
    console.print(policy_table("predictions", instances, run, patches, {}))
    return print_summary(console, run, root, file)
