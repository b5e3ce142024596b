"""The embedded default model: built offline, deterministic, loadable, chat-templated, warmed up to write the
completion format after a real SRL step prompt."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from agents.completion import ParsedCompletion, parse_completion
from agents.prompts import build_prompt
from harness import load_instances
from srl_swe.models import ModelNotFoundError, resolve_model
from srl_swe.tiny_model import TinyModelSpec, build_tiny_model
from srl_swe.trajectories import read

DEMO_TRAJECTORIES = Path(__file__).parents[2] / "srl_swe" / "assets" / "demo_trajectories"
QUICK_WARMUP = 30  # enough steps to exercise the warm-up in the build tests without its full minute


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_builds_byte_identical_model(tmp_path: Path) -> None:
    first = build_tiny_model(TinyModelSpec(seed=3, warmup_steps=QUICK_WARMUP), tmp_path / "a")
    second = build_tiny_model(TinyModelSpec(seed=3, warmup_steps=QUICK_WARMUP), tmp_path / "b")
    assert _digest(first) == _digest(second)
    other = build_tiny_model(TinyModelSpec(seed=4, warmup_steps=QUICK_WARMUP), tmp_path / "a")
    assert other != first
    assert _digest(other)["model.safetensors"] != _digest(first)["model.safetensors"]


def test_build_is_cached(tmp_path: Path) -> None:
    spec = TinyModelSpec(warmup_steps=QUICK_WARMUP)
    first = build_tiny_model(spec, tmp_path)
    mtime = (first / "model.safetensors").stat().st_mtime_ns
    assert build_tiny_model(spec, tmp_path) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == mtime
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".building-")]


def test_tiny_model_loads_with_chatml_template_and_head_dim_64(tiny_model_dir: str) -> None:
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(tiny_model_dir)
    assert config.model_type == "qwen2"
    assert config.hidden_size // config.num_attention_heads >= 32
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "ls -la /testbed"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == "<|im_start|>user\nls -la /testbed<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.eos_token == "<|im_end|>"
    text = "str_replace_editor view /testbed/a.py <think>ünïcode</think>"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def _demo_step_prompts() -> list[list[dict[str, str]]]:
    """Real SRL step prompts: three demo issues, each with its expert's first 0, 1 and 2 steps as context."""
    trajectories = {trajectory.instance_id: trajectory for trajectory in read(DEMO_TRAJECTORIES)}
    prompts = []
    for instance in load_instances("demo")[::3]:
        steps = trajectories[instance.instance_id].steps
        for shown in range(3):
            context = [(step.action, step.observation) for step in steps[:shown]]
            prompts.append(build_prompt(instance.problem_statement, context))
    return prompts


def test_tiny_model_often_writes_the_completion_format_with_varied_actions(tiny_model_dir: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    completions = []
    for prompt in _demo_step_prompts():
        ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt")[
            "input_ids"
        ]
        # As the CPU demo samples rollouts: temperature 1, no top-k/top-p, at most 48 new tokens.
        samples = model.generate(
            ids.repeat(8, 1), do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=48
        )
        completions += tokenizer.batch_decode(samples[:, ids.shape[1] :], skip_special_tokens=True)
    parsed = [p for p in map(parse_completion, completions) if isinstance(p, ParsedCompletion)]
    assert len(parsed) >= 0.25 * len(completions), completions
    assert len({p.action for p in parsed}) > 1


def test_no_model_given_means_the_tiny_model(tiny_model_dir: str) -> None:
    assert resolve_model(None) == tiny_model_dir
    assert resolve_model(tiny_model_dir) == tiny_model_dir


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("/no/such/model/dir", "no such directory"),
        ("not-a-hub-id", "no such directory"),
        ("srl-swe-test/surely-not-a-model", "not a local directory and not reachable on the hub"),
    ],
)
def test_unknown_model_is_reported_in_one_line(
    model: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelNotFoundError) as raised:
        resolve_model(model)
    message = str(raised.value)
    assert expected in message or "HF_HUB_OFFLINE" in message
    assert model in message and "\n" not in message


def test_folder_without_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        resolve_model(str(tmp_path))


def test_the_shipped_model_is_what_the_builders_recorded_settings_describe() -> None:
    from srl_swe.tiny_model import CORPUS, SHIPPED, file_digests, read_manifest

    manifest = read_manifest()
    spec = TinyModelSpec()
    # the recorded settings are this builder's default spec, corpus, prompt and version (else: regenerate)
    assert manifest["spec"] == asdict(spec) and manifest["key"] == spec.cache_key(CORPUS.read_text("utf-8"))
    # the shipped files are the ones the builder wrote then, byte for byte
    assert file_digests(SHIPPED) == manifest["files"]
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= set(manifest["files"])
    assert manifest["built_on"]["vector"] and manifest["built_on"]["torch"]


def test_the_shipped_tokenizer_is_the_one_the_builder_trains() -> None:
    """Tokenizer training is integer work, the same on every CPU: rebuilt here, it is the shipped one."""
    from agents.prompts import SYSTEM_PROMPT
    from srl_swe.tiny_model import CORPUS, SHIPPED, _train_tokenizer

    tokenizer = _train_tokenizer(CORPUS.read_text("utf-8") + "\n" + SYSTEM_PROMPT, TinyModelSpec().vocab_size)
    shipped = json.loads((SHIPPED / "tokenizer.json").read_text())
    assert json.loads(tokenizer.backend_tokenizer.to_str()) == shipped


def test_the_default_model_is_the_shipped_one_loaded_without_training(tmp_path: Path) -> None:
    from srl_swe.tiny_model import SHIPPED

    done = subprocess.run(
        [sys.executable, "-m", "srl_swe.tiny_model"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SRL_SWE_CACHE": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(SHIPPED) and "warming up" not in done.stderr
    assert not (tmp_path / "cache").exists()  # nothing built, nothing cached


def test_shipped_files_that_differ_from_the_manifest_are_one_line(tmp_path: Path) -> None:
    import shutil

    from srl_swe.tiny_model import CORPUS, SHIPPED, ShippedModelError, check_shipped

    copy = shutil.copytree(SHIPPED, tmp_path / "tiny_model")
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("128", "129", 1))
    with pytest.raises(ShippedModelError, match=r"differ from its manifest \(config\.json\).*--regenerate"):
        check_shipped(TinyModelSpec(), CORPUS.read_text("utf-8"), copy)
