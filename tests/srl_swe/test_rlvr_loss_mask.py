"""RLVR rollouts: a scripted policy that resolves a demo instance gets reward 1, its episode's observation
tokens are env tokens (mask 0), and the GRPO loss has gradients on the policy's tokens only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from envs.pool import swe_env_factory
from envs.scripted_expert import scripted_expert_actions
from envs.swe_env import SWEEnvConfig
from harness import TaskInstance, load_instances
from srl_swe.recipes.rollouts import ChatTokens, EpisodeLimits, run_token_episodes

INSTANCE = "srl-demo__semverkit-8"
ASSISTANT_START = "<|im_start|>assistant"


@pytest.fixture(scope="module")
def instance() -> TaskInstance:
    return load_instances("demo", instance_ids=[INSTANCE])[0]


def completion(action: str) -> str:
    return f"<think>\nthe next step of the fix\n</think>\n```bash\n{action}\n```"


class ScriptedPolicy:
    """Writes the gold fix of ``instance`` action by action (the turn is read from the context); rows at odd
    positions of the first turn submit at once (unresolved) when ``split`` is set. Records what it wrote."""

    def __init__(self, tokenizer, instance: TaskInstance, split: bool = False) -> None:
        self.tokenizer = tokenizer
        self.actions = scripted_expert_actions(instance)
        self.split = split
        self.written: list[list[int]] = []

    def __call__(self, contexts: list[list[int]]) -> list[tuple[list[int], list[float]]]:
        turns = []
        for row, context in enumerate(contexts):
            turn = self.tokenizer.decode(context).count(ASSISTANT_START) - 1
            action = "submit" if self.split and turn == 0 and row % 2 else self.actions[turn]
            ids = self.tokenizer(completion(action), add_special_tokens=False)["input_ids"]
            ids.append(self.tokenizer.eos_token_id)
            self.written.append(ids)
            turns.append((ids, [-0.5] * len(ids)))
        return turns


def scripted_config(tmp_path: Path, policy: ScriptedPolicy, **overrides):
    """Return an RLVRConfig for one group of 2 episodes of ``policy`` (no vLLM: the policy samples)."""
    from srl_swe.recipes.rlvr import RLVRConfig

    settings = dict(
        output_dir=str(tmp_path),
        use_cpu=True,
        bf16=False,
        use_vllm=False,
        report_to=[],
        prompts_per_step=1,
        num_generations=2,
        per_device_train_batch_size=2,
        max_completion_length=256,
        max_episode_steps=len(policy.actions),
        max_episode_tokens=4096,
        max_observation_tokens=256,
        step_timeout_s=20.0,
        max_steps=1,
    )
    return RLVRConfig(**(settings | overrides))


def spans(mask: list[int], ids: list[int], value: int) -> list[list[int]]:
    """Return the maximal runs of ``ids`` whose mask is ``value``."""
    runs, current = [], []
    for token, flag in zip(ids, mask, strict=True):
        if flag == value:
            current.append(token)
        elif current:
            runs.append(current)
            current = []
    return [*runs, current] if current else runs


@pytest.mark.docker
def test_resolving_scripted_episode_scores_one_and_masks_observations(
    tiny_model_dir: str, instance: TaskInstance
) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    policy = ScriptedPolicy(tokenizer, instance)
    factory = swe_env_factory(SWEEnvConfig(step_timeout_s=20.0), max_steps=len(policy.actions))
    env = factory(instance)
    try:
        (episode,) = run_token_episodes([env], policy, ChatTokens(tokenizer), EpisodeLimits(256, 4096, 256))
    finally:
        env.close()
    assert episode.exit_status == "submitted" and episode.resolved and episode.reward == 1.0
    assert episode.steps == len(policy.actions)
    # every token the policy wrote is a policy token, in order; everything else is the env's
    assert spans(episode.env_mask, episode.completion_ids, 1) == policy.written
    observations = [tokenizer.decode(run) for run in spans(episode.env_mask, episode.completion_ids, 0)]
    assert len(observations) == len(policy.actions) - 1  # no observation after the final submit
    assert all("Observation:" in text and text.endswith(f"{ASSISTANT_START}\n") for text in observations)
    assert all(episode.logprobs[i] == 0.0 for i, m in enumerate(episode.env_mask) if m == 0)
    assert all(episode.logprobs[i] == -0.5 for i, m in enumerate(episode.env_mask) if m == 1)
    # one assistant turn per action: the prompt's generation prompt, then one after each observation
    text = tokenizer.decode(episode.prompt_ids + episode.completion_ids)
    assert text.count(ASSISTANT_START) == len(policy.actions)


@pytest.mark.docker
@pytest.mark.train
def test_grpo_gradients_touch_only_policy_tokens(
    tiny_model_dir: str, instance: TaskInstance, tmp_path: Path
) -> None:
    from srl_swe.recipes.rlvr import RLVRTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    policy = ScriptedPolicy(tokenizer, instance, split=True)
    config = scripted_config(tmp_path, policy)
    trainer = RLVRTrainer(tiny_model_dir, config, [instance], generate=policy)
    try:
        trainer.model.train()
        batch = trainer._generate_and_score_completions([dict(trainer.train_dataset[0]) for _ in range(2)])
    finally:
        trainer.close_envs()
    assert trainer._last_rewards_per_func[:, 0].tolist() == [1.0, 0.0]  # resolved; submitted nothing
    loss_mask = batch["completion_mask"] * batch["tool_mask"]
    assert 0 < loss_mask[0].sum() < batch["completion_mask"][0].sum()  # observations are masked out

    captured = {}

    def keep_hidden(module, inputs, output):  # the final hidden states, which only the LM head reads
        output.retain_grad()
        captured["hidden"] = output

    handle = trainer.model.model.norm.register_forward_hook(keep_hidden)
    trainer.current_gradient_accumulation_steps = 1  # what Trainer's loop sets before compute_loss
    try:
        trainer.compute_loss(trainer.model, batch).backward()
    finally:
        handle.remove()
    # the hidden state before completion token j predicts it: its gradient is nonzero only for policy tokens
    prompt_width = batch["prompt_ids"].shape[1]
    width = loss_mask.shape[1]
    grad = captured["hidden"].grad[:, prompt_width - 1 : prompt_width - 1 + width].abs().sum(dim=-1)
    assert torch.all(grad[loss_mask == 0] == 0)
    assert torch.all(grad[0][loss_mask[0] == 1] > 0)
