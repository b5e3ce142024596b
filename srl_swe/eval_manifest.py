"""What produced a policy run of `python -m srl_swe.eval`, kept as ``manifest.json`` in its run folder.

A run's predictions, replies, trajectories and agentless stage files are reused by a rerun only when the
rerun's manifest matches the folder's in every setting that shapes them: the model (hub id and revision, or
the sha256 of a local folder's weights files), the policy backend, the mode, the protocol (prompt texts'
hash, thinking, temperature, samples, token budget, step limit, seed, ...), the grading settings and each
instance's image id. A difference stops the run with one line naming the setting (ManifestMismatch);
`--force` starts the folder over, a new `--run-id` keeps both.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.evaluation import write_json_atomic

if TYPE_CHECKING:
    from srl_swe.eval_config import EvalConfig

MANIFEST_FILE = "manifest.json"
WEIGHTS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
MADE_FILES = ("predictions.jsonl", "replies", "trajectories", "agentless")
"""What a policy run makes before grading; `--force` on a folder of other settings removes them."""
INFORMATIONAL = ("path", "weights_files", "predictions_file", "predictions_sha256")
"""Fields kept for the reader but not compared: a local model's place and files (to skip rehashing
unchanged ones), a predictions file's place and hash (each patch's own hash decides its reuse)."""


class ManifestMismatch(RuntimeError):
    """The run folder was made with other settings than this run's; the message names the first one."""


def default_run_id(config: EvalConfig, model_name: str) -> str:
    """Return the run folder's default name: ``<mode>-<task>-<model>`` (the model's name made path-safe), so
    that two models never share a folder by accident."""
    return f"{config.mode}-{config.task}-{model_name.replace('/', '__')}"


def model_identity(config: EvalConfig, resolved: str | None, previous: dict | None = None) -> dict[str, Any]:
    """Return what identifies the policy's weights: a local folder's path and the sha256 of its weights
    files (reused from ``previous`` when every file's size and mtime are unchanged), a hub id and its
    revision, or a served model's name and server (whose weights cannot be seen from here)."""
    if config.policy == "openai":
        return {"served_model": config.served_model or config.model, "base_url": config.base_url}
    source = resolved or config.model or ""
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(WEIGHTS_SUFFIXES))
        stats = {str(p.relative_to(path)): [p.stat().st_size, p.stat().st_mtime_ns] for p in files}
        old = (previous or {}).get("model") or {}
        if old.get("path") == str(path.resolve()) and old.get("weights_files") == stats:
            digest = old["weights_sha256"]
        else:
            digest = _weights_digest(files, path)
        return {"path": str(path.resolve()), "weights_sha256": digest, "weights_files": stats}
    return {"hub_id": source, "revision": _hub_revision(source)}


def _weights_digest(files: list[Path], root: Path) -> str:
    """Return one sha256 over the weights files' relative names and contents, in name order."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _hub_revision(model_id: str) -> str | None:
    """Return the commit of the hub model in the local cache (the snapshot vLLM/transformers will load), or
    None when it cannot be told offline."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model_id, local_files_only=True, allow_patterns=["config.json"])).name
    except Exception:  # not cached: the loaders download the newest, which cannot be named before
        return None


def prompt_digest(config: EvalConfig) -> str:
    """Return the sha256 of the prompt texts this mode sends (SWE-RL's templates, our oracle prompt or the
    agent's system prompt)."""
    if config.mode == "e2e":
        from agents.prompts import SYSTEM_PROMPT

        text = SYSTEM_PROMPT
    elif config.mode == "oracle" and config.oracle_prompt == "ours":
        from agents.oracle import ORACLE_SYSTEM_PROMPT

        text = ORACLE_SYSTEM_PROMPT
    else:
        import dataclasses

        from agents.swe_rl_prompts import load_prompt_texts

        text = json.dumps(dataclasses.asdict(load_prompt_texts(config.prompt_texts)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def protocol_settings(config: EvalConfig) -> dict[str, Any]:
    """Return the settings of ``config`` that shape the predictions of its mode."""
    settings: dict[str, Any] = {
        "prompt_sha256": prompt_digest(config),
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_new_tokens": config.max_new_tokens,
        "seed": config.seed,
        "dtype": config.dtype,
        "max_model_len": config.max_model_len,
    }
    if config.mode == "oracle":
        settings |= {"oracle_prompt": config.oracle_prompt, "thinking": config.thinking}
    elif config.mode == "e2e":
        settings |= {
            "max_steps": config.max_steps,
            "context_steps": config.context_steps,
            "step_timeout_s": config.step_timeout_s,
        }
    elif config.mode == "agentless":
        settings |= {
            "thinking": config.thinking,
            "agentless_stages": list(config.agentless_stages),
            "gold_localization": config.gold_localization,
            "localize_samples": config.localize_samples,
            "repair_samples": config.repair_samples,
            "reproduction_samples": config.reproduction_samples,
            "agentless_temperature": config.agentless_temperature,
            "agentless_max_input_chars": config.agentless_max_input_chars,
            "step_timeout_s": config.step_timeout_s,
        }
    return settings


def grading_settings(config: EvalConfig) -> dict[str, Any]:
    """Return the grading settings of ``config``: the sandbox's network and limits, the tests' timeout."""
    import dataclasses

    return {**dataclasses.asdict(config.grading()), "timeout_s": config.timeout_s}


def build_manifest(
    config: EvalConfig,
    model_name: str,
    image_ids: dict[str, str | None],
    resolved_model: str | None = None,
    previous: dict | None = None,
) -> dict[str, Any]:
    """Return the manifest of a policy run: mode, task, model name and identity, policy backend, protocol
    and grading settings, and ``image_ids`` (instance id -> the engine's image id)."""
    return {
        "mode": config.mode,
        "task": config.task,
        "model_name_or_path": model_name,
        "model": model_identity(config, resolved_model, previous),
        "policy": config.policy,
        "protocol": protocol_settings(config),
        "grading": grading_settings(config),
        "image_ids": dict(image_ids),
    }


def read_manifest(root: Path) -> dict | None:
    """Return the run folder's manifest, or None when it has none."""
    path = root / MANIFEST_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def first_difference(old: dict, new: dict) -> tuple[str, Any, Any] | None:
    """Return (setting, old value, new value) of the first setting that differs, or None. Image ids are
    compared only for the instances both runs hold (and whose id is known); a local model only by its weights'
    hash (a moved or copied folder is the same model)."""
    for key in new:
        if key == "image_ids":
            shared = sorted(set(old.get(key, {})) & set(new[key]))
            for instance_id in shared:
                before, now = old[key][instance_id], new[key][instance_id]
                if before is not None and now is not None and before != now:
                    return f"image id of {instance_id}", old[key][instance_id], new[key][instance_id]
        elif isinstance(new[key], dict) and isinstance(old.get(key), dict):
            for sub in new[key]:
                if sub not in INFORMATIONAL and old[key].get(sub) != new[key][sub]:
                    name = "model weights" if sub == "weights_sha256" else sub
                    return name, old[key].get(sub), new[key][sub]
        elif key not in INFORMATIONAL and old.get(key) != new[key]:
            return key, old.get(key), new[key]
    return None


def claim_run_folder(root: Path, manifest: dict, force: bool) -> None:
    """Make ``root`` this run's: write ``manifest`` (image ids merged with the folder's) when the folder is
    new or was made with the same settings; with other settings (or predictions without a manifest) raise
    ManifestMismatch naming the first, unless ``force``, which removes what the other settings made and
    starts the folder over."""
    old = read_manifest(root)
    made = [name for name in MADE_FILES if (root / name).exists()]
    if old is None and made and not force:
        raise ManifestMismatch(
            f"{root} holds {made[0]} made without a manifest (by an older srl-swe, or by hand): its settings "
            "cannot be checked; pass a new --run-id, or --force to start it over"
        )
    if old is None and made:
        _remove(root, made)
    if old is not None:
        differs = first_difference(old, manifest)
        if differs and not force:
            setting, before, now = differs
            raise ManifestMismatch(
                f"{root} was made with {setting} {_short(before)}, this run has {_short(now)}: pass a new "
                "--run-id to keep both runs, or --force to start this one over"
            )
        if differs:
            _remove(root, MADE_FILES)
        else:
            manifest = {**manifest, "image_ids": {**old.get("image_ids", {}), **manifest["image_ids"]}}
    write_json_atomic(root / MANIFEST_FILE, manifest)


def _remove(root: Path, names: Iterable[str]) -> None:
    """Remove the files and folders ``names`` of ``root`` that exist."""
    for name in names:
        target = root / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def _short(value: Any) -> str:
    """Return a value as shown in the mismatch line (digests cut to 12 characters)."""
    text = json.dumps(value) if not isinstance(value, str) else value
    return text[:12] if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else text
