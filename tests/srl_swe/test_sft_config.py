"""The SFT baseline's settings: the paper's (lr 5e-6, batch 64, 3 epochs), and the cpu-demo preset."""

from dataclasses import fields

import pytest

from srl_swe.recipes.sft import StepSFTConfig
from srl_swe.train import parse

CPU = {"use_cpu": True, "bf16": False}


def test_sft_defaults_are_the_papers_and_documented_where_declared() -> None:
    config = StepSFTConfig(output_dir="unused", **CPU)
    assert config.learning_rate == 5e-6
    assert config.num_train_epochs == 3
    assert config.examples_per_step == 64
    # 64 step examples per optimizer step on one process: 8 per device batch x 8 accumulated.
    assert config.per_device_train_batch_size * config.gradient_accumulation_steps == 64
    helps = {spec.name: spec.metadata.get("help", "") for spec in fields(StepSFTConfig)}
    for name in ("learning_rate", "num_train_epochs", "examples_per_step"):
        assert "(paper" in helps[name]


def test_the_batch_must_split_into_device_batches_unless_trls_fields_are_used() -> None:
    with pytest.raises(ValueError, match="divisible"):
        StepSFTConfig(output_dir="unused", examples_per_step=64, per_device_train_batch_size=6, **CPU)
    config = StepSFTConfig(output_dir="unused", examples_per_step=None, gradient_accumulation_steps=3, **CPU)
    assert config.gradient_accumulation_steps == 3


def test_cpu_demo_preset_scales_the_batch_down_and_flags_still_win() -> None:
    _, config = parse(["--recipe", "sft", "--preset", "cpu-demo"])
    assert config.examples_per_step == config.per_device_train_batch_size == 4
    assert config.gradient_accumulation_steps == 1
    assert config.max_steps == 8 and config.learning_rate == 1e-4
    _, config = parse(["--recipe", "sft", "--preset", "cpu-demo", "--examples_per_step", "8"])
    assert config.gradient_accumulation_steps == 2
