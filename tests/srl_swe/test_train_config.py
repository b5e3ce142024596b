"""The training command's settings: the paper's defaults, presets, YAML and flags in order; SFT's targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import Dataset

from agents.completion import ParsedCompletion, parse_completion
from srl_swe.recipes.sft import StepSFTConfig, sft_dataset
from srl_swe.recipes.srl import SRLConfig
from srl_swe.train import parse

CPU = {"use_cpu": True, "bf16": False}


def test_srl_defaults_are_the_papers() -> None:
    config = SRLConfig(output_dir="unused", **CPU)
    assert config.learning_rate == 5e-7
    assert config.num_generations == 8
    assert config.temperature == 1.0
    assert config.beta == 0.0
    assert config.dynamic_sampling
    # 512 prompts x 8 rollouts per optimizer step, one on-policy update per generation batch.
    assert config.generation_batch_size == 512 * 8
    assert config.gradient_accumulation_steps == config.steps_per_generation == 512 * 8 // 8


def test_batch_in_prompts_must_split_into_device_batches() -> None:
    with pytest.raises(ValueError, match="divisible"):
        SRLConfig(
            output_dir="unused", prompts_per_step=3, num_generations=2, per_device_train_batch_size=4, **CPU
        )


def test_batch_in_prompts_or_trl_batch_fields_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        SRLConfig(output_dir="unused", generation_batch_size=16, **CPU)
    config = SRLConfig(output_dir="unused", prompts_per_step=None, generation_batch_size=16, **CPU)
    assert config.generation_batch_size == 16


def test_preset_then_yaml_then_flags(tmp_path: Path) -> None:
    yaml_file = tmp_path / "srl.yaml"
    yaml_file.write_text(
        "learning_rate: 3.0e-6\nnum_generations: 2\nper_device_train_batch_size: 4\nmax_steps: 5\n"
    )
    args, config = parse(
        ["--task", "demo", "--preset", "cpu-demo", "--config", str(yaml_file), "--max_steps", "7"]
    )
    assert (args.recipe, args.task, args.preset) == ("srl", "demo", "cpu-demo")
    assert config.use_cpu and not config.bf16  # from the preset
    assert config.max_completion_length == 48  # preset, untouched by YAML
    assert config.learning_rate == 3e-6  # YAML over preset
    assert config.num_generations == 2
    assert config.max_steps == 7  # flag over YAML
    assert config.output_dir == "runs/train/srl-demo"
    assert config.generation_batch_size == 2 * 2  # preset's prompts_per_step x YAML's rollouts


def test_sft_recipe_takes_its_own_config() -> None:
    args, config = parse(["--recipe", "sft", "--preset", "cpu-demo", "--steps_data", "somewhere"])
    assert isinstance(config, StepSFTConfig)
    assert config.max_length is None
    assert args.steps_data == "somewhere"
    assert config.output_dir == "runs/train/sft-demo"


def test_sft_targets_are_the_expert_thought_and_action_in_the_completion_format() -> None:
    action = "str_replace_editor str_replace /testbed/a.py --old_str 'x = 1' --new_str 'x = 2'"
    steps = Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": "Fix it."}],
                "expert_action": action,
                "expert_thought": "The constant is wrong.\n",
                "step_index": 1,
            }
        ]
    )
    rows = sft_dataset(steps)
    assert rows.column_names == ["prompt", "completion"]
    [message] = rows[0]["completion"]
    assert message["role"] == "assistant"
    assert parse_completion(message["content"]) == ParsedCompletion("The constant is wrong.", action)


def test_a_batch_sized_with_trls_fields_is_named_in_those_fields() -> None:
    from srl_swe.train import TrainError, check_batch_fits

    srl = SRLConfig(output_dir="unused", prompts_per_step=None, generation_batch_size=64, **CPU)  # 8 prompts
    with pytest.raises(
        TrainError,
        match=r"^5 step examples cannot fill one batch of 8 \(--generation_batch_size"
        r" 64\).*--generation_batch_size 40 or less$",
    ):
        check_batch_fits(5, "step examples", srl)
    check_batch_fits(8, "step examples", srl)
    sft = StepSFTConfig(
        output_dir="unused",
        examples_per_step=None,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=4,
        **CPU,
    )
    with pytest.raises(
        TrainError, match=r"batch of 8 \(--gradient_accumulation_steps 4\).*accumulation_steps 2 or"
    ):
        check_batch_fits(5, "step examples", sft)
