"""Dynamic sampling keeps only prompt groups whose rewards differ and refills the batch with new prompts.

The filter and the batch merge are tested alone; a real 2-step GRPO run on the tiny model (vLLM colocated)
then checks the trainer end to end with a reward that is flat for one prompt and varied for the other. The
run is a subprocess (``python -m tests.srl_swe.test_dynamic_sampling OUT``), so that TRL's in-process vLLM
engine never meets the session's shared engine.
"""

from __future__ import annotations

import json
import math
import sys
from itertools import islice
from pathlib import Path

import pytest
import torch

from srl_swe.recipes.dynamic_sampling import (
    ROUNDS_LOG,
    concat_batches,
    group_rows,
    informative_groups,
    shuffled_cycle,
)
from tests.srl_swe.own_process import run_script


def test_groups_with_equal_rewards_are_dropped() -> None:
    rewards = [0.5, 0.5, 0.5, 0.5, 0.1, 0.9, 0.5, 0.5, -1.0, -1.0, -1.0, -1.0]
    assert informative_groups(rewards, 4, epsilon=0.0) == [False, True, False]


def test_epsilon_is_inclusive_and_std_is_the_population_std() -> None:
    rewards = [0.0, 0.2]  # population std 0.1
    assert informative_groups(rewards, 2, epsilon=0.1) == [False]
    assert informative_groups(rewards, 2, epsilon=0.0999) == [True]


def test_unscored_completions_are_left_out_of_the_std() -> None:
    nan = math.nan
    assert informative_groups([nan, 0.2, 0.2, nan, nan, nan, 0.0, 1.0], 4, 0.0) == [False, True]
    assert informative_groups([nan, 0.3, nan, nan], 4, 0.0) == [False]


def test_rewards_that_do_not_split_into_groups_are_an_error() -> None:
    with pytest.raises(ValueError, match="groups of 4"):
        informative_groups([0.0] * 6, 4, 0.0)


def test_replacement_prompts_cover_the_dataset_each_pass_and_repeat_with_the_seed() -> None:
    first = list(islice(shuffled_cycle(5, seed=3), 10))
    assert sorted(first[:5]) == sorted(first[5:]) == [0, 1, 2, 3, 4]
    assert list(islice(shuffled_cycle(5, seed=3), 10)) == first


def test_group_rows_lists_each_group_rows_in_order() -> None:
    assert group_rows([2, 0], 3) == [6, 7, 8, 0, 1, 2]


def _batch(prompt_width: int, completion_width: int, first_id: int) -> dict[str, torch.Tensor]:
    rows = 4
    ids = torch.arange(first_id, first_id + rows).unsqueeze(1)
    return {
        "prompt_ids": ids.repeat(1, prompt_width),
        "prompt_mask": torch.ones(rows, prompt_width, dtype=torch.long),
        "completion_ids": ids.repeat(1, completion_width),
        "completion_mask": torch.ones(rows, completion_width, dtype=torch.long),
        "old_per_token_logps": torch.full((rows, completion_width), -0.5),
        "advantages": ids.squeeze(1).float(),
        "num_items_in_batch": torch.tensor(99),
    }


def test_merged_batches_are_padded_left_for_prompts_and_right_for_completions() -> None:
    narrow, wide = _batch(2, 3, first_id=10), _batch(4, 1, first_id=20)
    merged = concat_batches([(narrow, [2, 3]), (wide, [0, 1])], pad_token_id=0)

    assert "num_items_in_batch" not in merged
    assert merged["advantages"].tolist() == [12.0, 13.0, 20.0, 21.0]
    assert merged["prompt_ids"].tolist()[0] == [0, 0, 12, 12]  # narrow prompt: padded on the left
    assert merged["prompt_mask"].tolist()[0] == [0, 0, 1, 1]
    assert merged["prompt_ids"].tolist()[2] == [20, 20, 20, 20]
    assert merged["completion_ids"].tolist()[2] == [20, 0, 0]  # short completion: padded on the right
    assert merged["completion_mask"].tolist()[2] == [1, 0, 0]
    assert merged["old_per_token_logps"].tolist()[2] == [-0.5, 0.0, 0.0]


def test_multimodal_batches_are_refused() -> None:
    batch = {**_batch(2, 2, first_id=0), "pixel_values": torch.zeros(4, 3)}
    with pytest.raises(ValueError, match="pixel_values"):
        concat_batches([(batch, [0])], pad_token_id=0)


# --- a real training run -------------------------------------------------------------------------------


def flat_or_varied_reward(completions: list, flat: list[bool], **_: object) -> list[float]:
    """0 for every completion of a flat prompt; 0, 1, 2, 3 … by position in the group otherwise."""
    return [0.0 if is_flat else float(i % 4) for i, is_flat in enumerate(flat)]


def train_two_steps(out: Path, model_dir: str) -> None:
    """Train 2 steps on one flat and one varied prompt; write the log history and whether weights moved."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM

    from srl_swe.recipes.dynamic_sampling import DynamicSamplingGRPOConfig, DynamicSamplingGRPOTrainer

    rows = [
        {"prompt": [{"role": "user", "content": "Issue: list the files."}], "flat": True},
        {"prompt": [{"role": "user", "content": "Issue: show the diff."}], "flat": False},
    ]
    config = DynamicSamplingGRPOConfig(
        output_dir=str(out),
        use_cpu=True,
        bf16=False,
        max_steps=2,
        per_device_train_batch_size=8,  # one generation batch = both prompts x 4 rollouts
        num_generations=4,
        max_completion_length=8,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        use_vllm=True,
        vllm_mode="colocate",
        dynamic_sampling_epsilon=0.0,
        seed=0,
    )
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer = DynamicSamplingGRPOTrainer(
        model=model, reward_funcs=flat_or_varied_reward, args=config, train_dataset=Dataset.from_list(rows)
    )
    trainer.train()
    moved = any(not torch.equal(p.detach(), before[n]) for n, p in trainer.model.named_parameters())
    rounds = [json.loads(line) for line in (out / ROUNDS_LOG / "process-0.jsonl").read_text().splitlines()]
    result = {"log_history": trainer.state.log_history, "moved": moved, "rounds": rounds}
    (out / "result.json").write_text(json.dumps(result))


@pytest.mark.train
def test_flat_groups_are_replaced_by_fresh_draws_in_real_training(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    result = run_script("tests.srl_swe.test_dynamic_sampling", tmp_path, tiny_model_dir)
    steps = [entry for entry in result["log_history"] if "loss" in entry]
    assert [entry["step"] for entry in steps] == [1, 2]
    for entry in steps:
        # Each draw holds one flat and one varied group: two draws fill the 2-group batch with varied ones.
        assert entry["dynamic_sampling/draws"] == 2
        assert entry["dynamic_sampling/kept_frac"] == 0.5
        assert entry["dynamic_sampling/filler_groups"] == 0
    assert result["moved"], "two GRPO steps on informative groups changed no weight"
    # The process's own record: one informative group found in each of the two rounds, two groups used.
    assert [(r["step"], r["informative_per_draw"], r["groups"]) for r in result["rounds"]] == [
        (1, [1, 1], 2),
        (2, [1, 1], 2),
    ]


if __name__ == "__main__":
    train_two_steps(Path(sys.argv[1]), sys.argv[2])
