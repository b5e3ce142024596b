"""What the vLLM importance-sampling correction masks or clips, counted as the trainer logs it, and why the
recipes truncate per token: a long episode's small per-token gap compounds past a sequence bound."""

from __future__ import annotations

import math

import torch

from srl_swe.recipes.importance_sampling import correction_reach
from srl_swe.recipes.rlvr import RLVRConfig
from srl_swe.recipes.srl import SRLConfig

C_MAX = 3.0  # TRL's and our default vllm_importance_sampling_clip_max


def test_a_small_per_token_gap_drops_a_long_episode_under_sequence_mask_only() -> None:
    tokens = 4000  # an RLVR episode's policy tokens on a real instance
    sampler = torch.full((1, tokens), -1.0)
    trainer = sampler + 0.001  # summed: 4.0 > ln 3
    mask = torch.ones(1, tokens)
    dropped = correction_reach(trainer, sampler, mask, "sequence_mask", None, C_MAX)
    assert (dropped.sequences, dropped.tokens) == (1, tokens)
    kept = correction_reach(trainer, sampler, mask, "token_truncate", None, C_MAX)
    assert (kept.sequences, kept.tokens, kept.all_sequences, kept.all_tokens) == (0, 0, 1, tokens)


def test_tokens_outside_the_bounds_are_counted_once_per_sequence() -> None:
    sampler = torch.zeros(3, 4)
    trainer = torch.zeros(3, 4)
    trainer[0, 1] = math.log(5.0)  # above C_max
    trainer[0, 2] = math.log(4.0)
    trainer[1, 0] = math.log(0.1)  # below C_min
    mask = torch.ones(3, 4)
    mask[2] = 0  # an episode out of the loss (an env error): not looked at
    reach = correction_reach(trainer, sampler, mask, "token_mask", 0.2, C_MAX)
    assert (reach.sequences, reach.all_sequences, reach.tokens, reach.all_tokens) == (2, 2, 3, 8)
    no_floor = correction_reach(trainer, sampler, mask, "token_truncate", None, C_MAX)
    assert (no_floor.sequences, no_floor.tokens) == (1, 2)


def test_observation_tokens_and_unscored_tokens_carry_no_gap() -> None:
    sampler = torch.tensor([[0.0, 0.0, float("nan")]])
    trainer = torch.tensor([[0.0, 9.0, 9.0]])
    mask = torch.tensor([[1.0, 0.0, 1.0]])  # token 1 is an observation's (env_mask 0)
    reach = correction_reach(trainer, sampler, mask, "sequence_mask", None, C_MAX)
    assert (reach.sequences, reach.tokens, reach.all_tokens) == (0, 0, 2)


def test_the_recipes_truncate_per_token(tmp_path) -> None:
    for config_class in (RLVRConfig, SRLConfig):
        config = config_class(
            output_dir=str(tmp_path), use_cpu=True, bf16=False, per_device_train_batch_size=8
        )
        assert config.vllm_importance_sampling_correction
        assert config.vllm_importance_sampling_mode == "token_truncate"
        assert config.vllm_importance_sampling_clip_max == C_MAX
