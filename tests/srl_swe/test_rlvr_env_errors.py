"""RLVR on an env whose grading container fails to start once (real containers, the real grader otherwise):
the failed episode leaves its group — no reward (not 0.0), no loss tokens, advantage 0 — the step logs
``rlvr/env_errors``, and the grading containers of RLVR have no network. A reset whose container fails to
start ends that episode alone."""

from __future__ import annotations

import logging
import math
import os
import threading
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from envs.swe_env import SWEEnv, SWEEnvConfig
from envs.wrappers import StepLimit
from harness import TaskInstance, load_instances
from harness.grading import grade
from harness.sandbox import DockerSandbox, SandboxConfig, SandboxError
from srl_swe.recipes.rlvr import RLVRTrainer, outcome_reward, rlvr_env_config, rollout_fields
from srl_swe.recipes.rollouts import ChatTokens, EpisodeLimits, TokenEpisode, run_token_episodes
from tests.containers import containers_of
from tests.srl_swe.test_rlvr_loss_mask import INSTANCE, ScriptedPolicy, scripted_config

EOS = 2


class FlakyEngine:
    """Starts containers; the first start fails as an engine hiccup would. Records the network interfaces
    each started container sees."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failed = False
        self.interfaces: list[list[str]] = []

    def __call__(self, config: SandboxConfig) -> DockerSandbox:
        with self.lock:
            if not self.failed:
                self.failed = True
                raise SandboxError("could not start the container: the engine hung up (injected once)")
        sandbox = DockerSandbox(config)
        listing = sandbox.run("ls /sys/class/net").output.split()
        with self.lock:
            self.interfaces.append(listing)
        return sandbox


def test_failed_episodes_have_no_reward_and_no_loss_tokens() -> None:
    graded = TokenEpisode(
        "a", [1, 2], [5, 6, 7], [-0.1, 0.0, -0.2], [1, 0, 1], 1.0, True, 2, 0, 0, "submitted"
    )
    broke = TokenEpisode("a", [1, 2], [5, 6], [-0.1, 0.0], [1, 0], float("nan"), exit_status="error: X: y")
    never = TokenEpisode("a", [1, 2], reward=float("nan"), exit_status="error: SandboxError: no container")
    full = TokenEpisode("a", [1, 2], exit_status="context_full")  # the prompt alone filled the context
    fields = rollout_fields([graded, broke, never, full], EOS)
    assert fields["completion_ids"] == [[5, 6, 7], [5, 6], [EOS], [EOS]]
    assert fields["env_mask"] == [[1, 0, 1], [0, 0], [0], [0]]
    assert [len(lps) for lps in fields["logprobs"]] == [3, 2, 1, 1]
    assert outcome_reward([None] * 4, fields["resolved"], fields["env_error"]) == [1.0, None, None, 0.0]


@pytest.mark.docker
def test_a_reset_that_cannot_start_a_container_ends_that_episode_alone(tiny_model_dir: str) -> None:
    instance = load_instances("demo", instance_ids=[INSTANCE])[0]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    policy = ScriptedPolicy(tokenizer, instance)
    engine = FlakyEngine()
    config = SWEEnvConfig(step_timeout_s=20.0)
    envs = [
        StepLimit(SWEEnv(instance, config=config, sandbox_factory=engine), len(policy.actions))
        for _ in range(2)
    ]
    try:
        episodes = run_token_episodes(envs, policy, ChatTokens(tokenizer), EpisodeLimits(256, 4096, 256))
    finally:
        for env in envs:
            env.close()
    broken = [e for e in episodes if e.env_error]
    assert len(broken) == 1 and broken[0].exit_status.startswith("error: SandboxError: could not start")
    assert math.isnan(broken[0].reward) and broken[0].completion_ids == []
    (graded,) = [e for e in episodes if not e.env_error]
    assert graded.exit_status == "submitted" and graded.resolved and graded.reward == 1.0


@pytest.mark.docker
@pytest.mark.train
def test_an_episode_whose_grading_fails_leaves_its_group_and_is_counted(
    tiny_model_dir: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    instance = load_instances("demo", instance_ids=[INSTANCE])[0]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    # 4 rollouts: rows 0 and 2 write the gold fix (1.0), rows 1 and 3 submit at once (0.0) and are graded
    # first, so one of them meets the failing start
    policy = ScriptedPolicy(tokenizer, instance, split=True)
    config = scripted_config(
        tmp_path, policy, num_generations=4, per_device_train_batch_size=4, dynamic_sampling_max_draws=1
    )
    env_config = rlvr_env_config(config)  # RLVR's defaults: the grading network is off
    engine = FlakyEngine()

    def flaky_grader(task: TaskInstance, patch: str):
        return grade(
            task,
            patch,
            timeout_s=env_config.grade_timeout_s,
            config=env_config.grading(),
            sandbox_factory=engine,
        )

    def factory(task: TaskInstance):
        return StepLimit(SWEEnv(task, config=env_config, grader=flaky_grader), config.max_episode_steps)

    class Recording(RLVRTrainer):
        """Keeps the rollouts and the scored batch the step trained on."""

        def rollout(self, prompts, trainer=None):
            self.fields = super().rollout(prompts, trainer)
            return self.fields

        def _generate_and_score_completions(self, inputs):
            self.batch = super()._generate_and_score_completions(inputs)
            return self.batch

    trainer = Recording(tiny_model_dir, config, [instance], generate=policy, env_factory=factory)
    try:
        with caplog.at_level(logging.WARNING):
            trainer.train()
    finally:
        trainer.close_envs()
    assert containers_of([os.getpid()]) == []

    failed = trainer.fields["env_error"]
    assert sum(failed) == 1 and failed.index(True) in (1, 3)  # a row that submitted first
    row = failed.index(True)
    rewards = trainer._last_rewards_per_func[:, 0]
    assert torch.isnan(rewards[row])  # no outcome, not 0.0
    assert sorted(r for i, r in enumerate(rewards.tolist()) if i != row) == [0.0, 1.0, 1.0]
    batch = trainer.batch
    loss_mask = batch["completion_mask"] * batch["tool_mask"]
    assert loss_mask[row].sum() == 0 and batch["advantages"][row] == 0  # out of the loss
    others = [i for i in range(4) if i != row]
    assert all(loss_mask[i].sum() > 0 and batch["advantages"][i] != 0 for i in others)
    # the group's baseline is the mean of the three graded episodes: 2/3
    resolved = [i for i in others if rewards[i] == 1.0]
    assert all(batch["advantages"][i] > 0 for i in resolved)

    # one line names the failed episode; TRL's dump of an unscored completion is not shown
    messages = [record.getMessage() for record in caplog.records]
    assert sum(f"{INSTANCE}: left out of its group after an error: SandboxError" in m for m in messages) == 1
    assert not any("All reward functions returned None" in m for m in messages)
    entry = next(e for e in trainer.state.log_history if e.get("step") == 1 and "loss" in e)
    assert entry["rlvr/env_errors"] == 1.0
    # three grading containers started, each with loopback only
    assert engine.interfaces == [["lo"]] * 3
