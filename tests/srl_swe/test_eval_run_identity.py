"""A policy run is identified by its manifest: two models never share a run folder by default, a rerun with
another setting stops with one line naming it, and `--force` starts the folder over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from srl_swe.eval import main
from srl_swe.eval_config import EvalConfig
from srl_swe.eval_manifest import (
    MANIFEST_FILE,
    ManifestMismatch,
    build_manifest,
    claim_run_folder,
    first_difference,
)
from srl_swe.tiny_model import build_tiny_model

ID = "srl-demo__timespan-6"


def changed_copy(where: Path) -> Path:
    """Return a copy of the tiny model whose weights differ (an "SRL checkpoint" of the same shape)."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(build_tiny_model(), where)
    weights = load_file(where / "model.safetensors")
    name = next(iter(weights))
    weights[name] = weights[name] + 0.01
    save_file(weights, where / "model.safetensors", metadata={"format": "pt"})
    return where


def manifest(tiny: str, **settings) -> dict:
    return build_manifest(EvalConfig(mode="oracle", **settings), "srl-swe-tiny", {ID: "sha256:1"}, tiny)


def test_the_first_differing_setting_is_named() -> None:
    tiny = str(build_tiny_model())
    base = manifest(tiny)
    assert first_difference(base, manifest(tiny)) is None
    assert first_difference(base, manifest(tiny, temperature=0.7))[0] == "temperature"
    assert first_difference(base, manifest(tiny, thinking=False))[0] == "thinking"
    assert first_difference(base, manifest(tiny, grade_memory="4g"))[0] == "memory"
    other = build_manifest(EvalConfig(mode="oracle"), "srl-swe-tiny", {ID: "sha256:2"}, tiny)
    assert first_difference(base, other) == (f"image id of {ID}", "sha256:1", "sha256:2")


def test_a_changed_checkpoint_is_another_model_even_in_a_folder_of_the_same_name(tmp_path: Path) -> None:
    tiny = build_tiny_model()
    moved = shutil.copytree(tiny, tmp_path / "a" / tiny.name)
    changed = changed_copy(tmp_path / "b" / tiny.name)
    base = manifest(str(tiny))
    assert first_difference(base, manifest(str(moved))) is None  # the same weights elsewhere
    assert first_difference(base, manifest(str(changed)))[0] == "model weights"


def test_force_starts_a_folder_of_other_settings_over(tmp_path: Path) -> None:
    tiny = str(build_tiny_model())
    claim_run_folder(tmp_path, manifest(tiny), force=False)
    (tmp_path / "predictions.jsonl").write_text('{"instance_id": "x", "model_patch": ""}\n')
    (tmp_path / "replies").mkdir()
    with pytest.raises(ManifestMismatch, match=r"temperature 0\.0, this run has 0\.7: pass a new --run-id"):
        claim_run_folder(tmp_path, manifest(tiny, temperature=0.7), force=False)
    assert (tmp_path / "predictions.jsonl").is_file()  # nothing lost without --force
    claim_run_folder(tmp_path, manifest(tiny, temperature=0.7), force=True)
    assert not (tmp_path / "predictions.jsonl").exists() and not (tmp_path / "replies").exists()
    assert json.loads((tmp_path / MANIFEST_FILE).read_text())["protocol"]["temperature"] == 0.7


def test_predictions_made_without_a_manifest_are_not_reused(tmp_path: Path) -> None:
    (tmp_path / "predictions.jsonl").write_text('{"instance_id": "x", "model_patch": ""}\n')
    with pytest.raises(ManifestMismatch, match=r"predictions\.jsonl made without a manifest"):
        claim_run_folder(tmp_path, manifest(str(build_tiny_model())), force=False)
    claim_run_folder(tmp_path, manifest(str(build_tiny_model())), force=True)
    assert not (tmp_path / "predictions.jsonl").exists() and (tmp_path / MANIFEST_FILE).is_file()


@pytest.mark.docker
def test_two_models_get_their_own_runs_and_a_changed_temperature_stops(tmp_path: Path, capsys) -> None:
    checkpoint = changed_copy(tmp_path / "srl-demo")
    common = ["--mode", "oracle", "--task", "demo", "--policy", "transformers", "--instance-ids", ID]
    common += ["--max-new-tokens", "8", "--run-dir", str(tmp_path / "runs")]
    assert main(common) == 0
    assert main([*common, "--model", str(checkpoint)]) == 0
    for model in ("srl-swe-tiny", "srl-demo"):
        root = tmp_path / "runs" / f"oracle-demo-{model}"
        (row,) = [json.loads(line) for line in (root / "predictions.jsonl").read_text().splitlines()]
        assert row["model_name_or_path"] == model
        assert json.loads((root / MANIFEST_FILE).read_text())["model"]["weights_sha256"]
        assert (root / f"{model}.oracle-demo-{model}.json").is_file()
    capsys.readouterr()

    assert main([*common, "--run-id", "mine"]) == 0
    assert main([*common, "--run-id", "mine", "--temperature", "0.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "temperature 0.0, this run has 0.5" in err
    assert "--run-id" in err and "--force" in err
