"""The RLVR recipe on `SWEEnv`: GRPO whose rollouts are whole agent episodes, rewarded by the graded outcome.

The paper's (Deng et al. 2025, arXiv 2510.25992) strongest result is the curriculum SRL → RLVR: SRL first,
then RLVR from the SRL model. Here RLVR trains in the SWE environment itself; read top to bottom, one step:

1. **prompts** — one row per task instance (the agent loop's first prompt: system prompt and issue); TRL's
   sampler takes ``prompts_per_step`` rows and repeats each ``num_generations`` times;
2. **rollouts** — TRL's ``rollout_func`` hook (:meth:`RLVRTrainer.rollout`) maps each prompt back to its
   instance, takes one env per copy from the :class:`envs.pool.EnvPool` (every group member on its own
   container of the instance, containers reused across groups by warm reset, at most ``max_live_envs``
   alive; with ``executor="ray"`` the envs are :class:`envs.remote.RemoteEnv` actors on a Ray cluster's
   nodes) and runs whole episodes token by token with the colocated vLLM engine
   (:mod:`srl_swe.recipes.rollouts`): observations and prompts are ``env_mask`` 0, so the loss sees only the
   policy's tokens;
3. **reward** — :func:`outcome_reward`: 1.0 when the graded patch resolves the instance, else 0.0 (a patch
   is graded at ``submit``, at the step limit and when the context is full); with ``expert_shaping`` W > 0
   also :func:`expert_similarity` with weight W: the mean per-step SRL similarity to the expert's action at
   that step (ours, beyond the paper), logged under its own name;
4. **filter** — dynamic sampling drops all-0 and all-1 groups and refills (unchanged from SRL);
5. **GRPO update** — as SRL: group-relative advantages, clipped loss, no KL (``beta=0``).

**Infrastructure errors leave the group.** An episode that ended in an env or grading error
(:attr:`TokenEpisode.env_error`: a reset, a step or the grading raised, e.g. the grading container could not
start) has no outcome, and scoring it 0.0 would teach the policy that its actions failed and shift its
group's baseline. Its reward functions return None, which TRL 1.16 turns into NaN: the episode is left out of
its group's mean and std and its advantage is 0. Its ``env_mask`` is all 0 besides, so its tokens leave the
loss's token count (a token-mean loss would otherwise be diluted by them) and the importance-sampling
statistics. Dynamic sampling counts only scored members: a group with fewer than two is not kept and is
refilled like an all-0 group. They are counted per optimizer step, over every process, as ``rlvr/env_errors``.

Logged per step besides TRL's: ``rlvr/resolved_rate``, ``rlvr/episode_length`` (actions),
``rlvr/format_error_rate`` (per action), ``rlvr/submit_rate``, ``rlvr/context_full_rate``, ``rlvr/timeouts``
(actions that hit the step timeout, per episode), ``rlvr/env_errors`` (episodes, per step) and, in seconds
per optimizer step, ``time/env_s`` (resets, actions, grading), ``time/generation_s`` (sampling turns) and
``time/update_s`` (the rest: weight sync, log-probabilities, forward, backward and optimizer step).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from datasets import Dataset
from transformers import TrainerCallback
from trl import GRPOTrainer

from agents.prompts import build_prompt
from envs.expert import Expert
from envs.pool import EnvFactory, EnvPool, swe_env_factory
from envs.swe_env import SWEEnvConfig
from harness import TaskInstance
from harness.executors import EXECUTORS
from srl_swe.recipes.dynamic_sampling import DynamicSamplingGRPOTrainer
from srl_swe.recipes.heldout import report_through
from srl_swe.recipes.progress import show_rich_progress
from srl_swe.recipes.rollouts import (
    ChatTokens,
    EpisodeLimits,
    Generate,
    RolloutTimes,
    TokenEpisode,
    run_pooled_episodes,
)
from srl_swe.recipes.srl import PromptBatchGRPOConfig

logger = logging.getLogger(__name__)

GRADE_NETWORKS = ("none", "bridge")
"""Networks an RLVR grading container may have (docker's names)."""


@dataclass
class RLVRConfig(PromptBatchGRPOConfig):
    """Settings of RLVR on SWEEnv: :class:`PromptBatchGRPOConfig` (lr 5e-7 as SRL, 8 rollouts at temperature
    1.0, no KL, dynamic sampling) with the paper's RLVR batch of 128 prompts and the episode's bounds."""

    prompts_per_step: int | None = field(
        default=128,
        metadata={
            "help": "Task instances per optimizer step (paper: RLVR batch size 128); "
            "see PromptBatchGRPOConfig."
        },
    )
    max_completion_length: int | None = field(
        default=1024, metadata={"help": "Most tokens the policy samples per turn of an episode (ours)."}
    )
    max_episode_steps: int = field(
        default=30,
        metadata={"help": "Actions per episode; at the limit the patch is graded (autosubmission) (ours)."},
    )
    max_episode_tokens: int | None = field(
        default=None,
        metadata={
            "help": "Longest episode context, prompt and every turn, in tokens; a turn that would not fit "
            "ends the episode, graded (None: the engine's max model length). Also the engine's "
            "vllm_max_model_length unless that is set (ours)."
        },
    )
    max_observation_tokens: int = field(
        default=2048,
        metadata={"help": "Budget of one observation in context (characters/4), as the agent loop."},
    )
    max_live_envs: int = field(
        default=16,
        metadata={"help": "Most containers alive at once in the rollout pool; episodes run in waves (ours)."},
    )
    executor: str = field(
        default="local",
        metadata={
            "help": "Where the rollout envs' containers run: local (this machine's engine) or ray (RemoteEnv "
            "actors on the nodes of a Ray cluster that offer srl_swe_sandbox_slots) (ours).",
            "choices": EXECUTORS,
        },
    )
    ray_address: str | None = field(
        default=None,
        metadata={
            "help": "executor ray: the cluster's address (auto, HOST:PORT); None: start a local cluster with "
            "max_live_envs sandbox slots."
        },
    )
    step_timeout_s: float = field(default=60.0, metadata={"help": "Seconds one action may run (ours)."})
    grade_timeout_s: float = field(
        default=1800.0, metadata={"help": "Seconds the grading test run may take."}
    )
    test_infra_changes: str = field(
        default="reject",
        metadata={
            "help": "reject | strip | allow: a patch that changes test infrastructure (conftest.py, pytest "
            "or tox settings, sitecustomize.py, .pth, test files) gets reward 0 / is graded without those "
            "files / is graded as SWE-bench does (ours; see SWEEnvConfig.test_infra_changes)."
        },
    )
    grade_network: str = field(
        default="none",
        metadata={
            "help": "Network of the grading containers: none (loopback only) or bridge (on, as SWE-bench "
            "grades; needed where an eval script downloads at test time, e.g. reinstalls the package). none "
            "by default (ours): the graded code is written by a policy under optimisation, thousands of "
            "times. Evaluation keeps SWE-bench's bridge.",
            "choices": GRADE_NETWORKS,
        },
    )
    expert_shaping: float = field(
        default=0.0,
        metadata={
            "help": "W: add W x the mean per-step SRL similarity to the expert's action at that step to the "
            "outcome reward (ours, beyond the paper; 0: off). Needs the task's expert trajectories."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        if self.vllm_max_model_length is None:
            self.vllm_max_model_length = self.max_episode_tokens
        for name in ("max_episode_steps", "max_observation_tokens", "max_live_envs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.grade_network not in GRADE_NETWORKS:
            raise ValueError(
                f"grade_network must be one of {', '.join(GRADE_NETWORKS)}, not {self.grade_network!r}"
            )
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {self.executor!r}")
        if self.expert_shaping < 0:
            raise ValueError(f"expert_shaping must be >= 0, not {self.expert_shaping}")
        if self.use_vllm and self.vllm_mode == "server" and self.world_size > 1:
            # TRL's server mode gathers every process's prompts at each generate call, and episodes of
            # different processes end after different numbers of turns: the processes would wait forever.
            raise ValueError(
                "rlvr with several processes needs vllm_mode colocate (server mode's per-turn gather hangs)"
            )


# Scaled-down settings for a CPU run of minutes on the tiny model and the demo set (all ours).
PRESETS: dict[str, dict[str, Any]] = {
    "cpu-demo": {
        "use_cpu": True,
        "bf16": False,
        "prompts_per_step": 2,
        "num_generations": 2,
        "per_device_train_batch_size": 2,  # also splits over 2 processes (accelerate launch)
        "max_completion_length": 32,
        "max_episode_steps": 3,
        "max_episode_tokens": 2048,
        "max_observation_tokens": 128,
        "max_live_envs": 4,
        "step_timeout_s": 20.0,
        "grade_timeout_s": 120.0,
        "learning_rate": 1e-5,
        "dynamic_sampling_max_draws": 1,
        "max_steps": 2,
        "save_steps": 1,
        "save_total_limit": 2,
        "seed": 0,
    },
}


def rlvr_env_config(config: RLVRConfig) -> SWEEnvConfig:
    """Return the settings of the rollout envs: step and grading limits, the grading network and what a
    patch that changes test infrastructure gets."""
    return SWEEnvConfig(
        step_timeout_s=config.step_timeout_s,
        grade_timeout_s=config.grade_timeout_s,
        grade_network_mode=config.grade_network,
        test_infra_changes=config.test_infra_changes,
    )


def prompt_key(prompt: Any) -> str:
    """Return the key a prompt (chat messages) is looked up by: its canonical JSON."""
    return json.dumps(prompt, sort_keys=True)


def rlvr_dataset(instances: Sequence[TaskInstance]) -> tuple[Dataset, dict[str, TaskInstance]]:
    """Return the prompt dataset (one row per instance: ``prompt``, ``instance_id``) and the map from
    prompt key to instance; ValueError naming both instances when two have the same prompt, or without any."""
    if not instances:
        raise ValueError("no task instances to train on")
    rows, index = [], {}
    for instance in instances:
        prompt = build_prompt(instance.problem_statement, [])
        key = prompt_key(prompt)
        if key in index:
            raise ValueError(
                f"instances {index[key].instance_id} and {instance.instance_id} have the same problem "
                "statement: their rollouts could not be told apart"
            )
        index[key] = instance
        rows.append({"prompt": prompt, "instance_id": instance.instance_id})
    return Dataset.from_list(rows), index


def missing_experts(instances: Sequence[TaskInstance], experts: Mapping[str, Expert] | None) -> str | None:
    """Return, in one line, which instances have no expert trajectory for ``expert_shaping`` (None: all
    have one)."""
    missing = sorted(i.instance_id for i in instances if i.instance_id not in (experts or {}))
    if not missing:
        return None
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (
        f"--expert_shaping needs an expert trajectory per instance; none for {', '.join(missing[:5])}{more}"
    )


def outcome_reward(
    completions: list, resolved: list[bool], env_error: list[bool], **kwargs: Any
) -> list[float | None]:
    """Return the RLVR outcome per episode: 1.0 when its graded patch resolved the instance, else 0.0; None
    (no outcome) after an env or grading error."""
    return [
        None if failed else 1.0 if done else 0.0 for done, failed in zip(resolved, env_error, strict=True)
    ]


def expert_similarity(
    completions: list, expert_similarity: list[float], env_error: list[bool], **kwargs: Any
) -> list[float | None]:
    """Return per episode the mean per-step SRL similarity to the expert's action at that step (weighted by
    ``expert_shaping`` in the total reward); None after an env or grading error."""
    return [
        None if failed else float(value) for value, failed in zip(expert_similarity, env_error, strict=True)
    ]


def episode_metrics(episodes: Sequence[TokenEpisode]) -> dict[str, float]:
    """Return the rollout metrics of a batch of episodes (rates per episode, format errors per action)."""
    count = max(1, len(episodes))
    actions = sum(e.steps for e in episodes)
    return {
        "rlvr/resolved_rate": sum(e.resolved for e in episodes) / count,
        "rlvr/episode_length": actions / count,
        "rlvr/format_error_rate": sum(e.format_errors for e in episodes) / max(1, actions),
        "rlvr/submit_rate": sum(e.exit_status == "submitted" for e in episodes) / count,
        "rlvr/context_full_rate": sum(e.exit_status == "context_full" for e in episodes) / count,
        "rlvr/timeouts": sum(e.timeouts for e in episodes) / count,
    }


def rollout_fields(episodes: Sequence[TokenEpisode], eos_token_id: int) -> dict[str, list]:
    """Return what TRL's ``rollout_func`` hands back for the episodes: the token fields, ``env_mask`` and the
    reward inputs. An episode that ended in an env error keeps its tokens with ``env_mask`` all 0 (out of
    the loss); one masked EOS stands for a completion never sampled (an env error at reset, a prompt that
    fills the context), as TRL needs one token."""
    fields: dict[str, list] = {name: [] for name in ("prompt_ids", "completion_ids", "logprobs", "env_mask")}
    for e in episodes:
        sampled = bool(e.completion_ids)
        completion = e.completion_ids if sampled else [eos_token_id]
        fields["prompt_ids"].append(e.prompt_ids)
        fields["completion_ids"].append(completion)
        fields["logprobs"].append(e.logprobs if sampled else [0.0])
        fields["env_mask"].append(e.env_mask if sampled and not e.env_error else [0] * len(completion))
    return fields | {
        "resolved": [e.resolved for e in episodes],
        "env_error": [e.env_error for e in episodes],
        "expert_similarity": [e.expert_similarity for e in episodes],
    }


class UnscoredAreEnvErrors(logging.Filter):
    """Drops TRL's warning that dumps a completion no reward function scored: in RLVR those are exactly the
    episodes an env error ended, which :meth:`RLVRTrainer.rollout` names in one line each."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for TRL's unscored-completion warning, True for every other record."""
        return "All reward functions returned None" not in record.getMessage()


class StepTotals(TrainerCallback):
    """Logs, per optimizer step, the seconds spent in envs, in generation and (the rest) in the update, and
    the episodes that ended in an env error (summed over every process)."""

    def __init__(self, trainer: RLVRTrainer) -> None:
        self.trainer = trainer
        self._started = 0.0

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Start timing and counting the step."""
        self._started = time.monotonic()
        self.trainer.rollout_times = RolloutTimes()
        self.trainer.step_env_errors = 0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Record the step's times and env errors with the metrics logged next."""
        spent = self.trainer.rollout_times
        total = time.monotonic() - self._started
        metrics = self.trainer._metrics["train"]
        metrics["time/env_s"].append(spent.env_s)
        metrics["time/generation_s"].append(spent.generation_s)
        metrics["time/update_s"].append(max(0.0, total - spent.env_s - spent.generation_s))
        accelerator = self.trainer.accelerator
        errors = torch.tensor([self.trainer.step_env_errors], device=accelerator.device)
        metrics["rlvr/env_errors"].append(float(accelerator.gather(errors).sum()))


class RLVRTrainer(DynamicSamplingGRPOTrainer):
    """GRPO with dynamic sampling whose rollouts are SWEEnv episodes (see the module docstring).

    ``instances`` are the training task instances (the dataset is built from them); ``experts`` maps
    instance ids to expert trajectories (needed with ``expert_shaping``); ``generate`` replaces the colocated
    vLLM engine as the policy's sampler (e.g. a scripted policy); ``env_factory`` replaces the local SWEEnv
    factory of the pool.
    """

    args: RLVRConfig

    def __init__(
        self,
        model: Any,
        args: RLVRConfig,
        instances: Sequence[TaskInstance],
        *,
        experts: Mapping[str, Expert] | None = None,
        generate: Generate | None = None,
        env_factory: EnvFactory | None = None,
        **kwargs: Any,
    ) -> None:
        dataset, self.prompt_index = rlvr_dataset(instances)
        reward_funcs: list = [outcome_reward]
        if args.expert_shaping > 0:
            if missing := missing_experts(instances, experts):
                raise ValueError(missing)
            reward_funcs.append(expert_similarity)
            args.reward_weights = [1.0, args.expert_shaping]
        super().__init__(
            model=model,
            reward_funcs=reward_funcs,
            args=args,
            train_dataset=dataset,
            rollout_func=self.rollout,
            **kwargs,
        )
        env_config = rlvr_env_config(args)
        remote = args.executor == "ray" and env_factory is None
        self.cluster = None
        if remote:  # the envs are actors on the cluster's nodes; each node reaps and gets its images itself
            from harness.executors.ray_executor import RayExecutor

            self.cluster = RayExecutor(args.ray_address, slots=args.max_live_envs)
            self.cluster.start()
        factory = env_factory or swe_env_factory(
            env_config, args.max_episode_steps, experts if args.expert_shaping > 0 else None, remote=remote
        )
        self.pool = EnvPool(factory, args.max_live_envs, () if remote else instances, reap_first=not remote)
        self.generate_turns = generate or self._vllm_turns
        self.chat = ChatTokens(self.processing_class)
        self.rollout_times = RolloutTimes()
        self.step_env_errors = 0  # episodes of the current optimizer step that ended in an env error, here
        self.add_callback(StepTotals(self))
        trl_logger = logging.getLogger(GRPOTrainer.__module__)
        if not any(isinstance(f, UnscoredAreEnvErrors) for f in trl_logger.filters):
            trl_logger.addFilter(UnscoredAreEnvErrors())

    def close_envs(self) -> None:
        """Close every env of the rollout pool (their containers are removed) and a Ray connection opened
        for them; returns nothing."""
        self.pool.close()
        if self.cluster is not None:
            self.cluster.close()

    def episode_limits(self) -> EpisodeLimits:
        """Return the episodes' bounds: turn tokens, context (the engine's length or less) and observation."""
        if self.use_vllm and self.args.vllm_mode == "colocate":
            engine = self.vllm_generation.llm.llm_engine.model_config.max_model_len
        else:
            engine = self.model.config.max_position_embeddings
        limit = min(engine, self.args.max_episode_tokens or engine)
        return EpisodeLimits(self.args.max_completion_length, limit, self.args.max_observation_tokens)

    def rollout(self, prompts: list, trainer: Any = None) -> dict[str, list]:
        """TRL's rollout_func: run one episode per prompt (prompts come repeated per generation) in waves of
        at most ``max_live_envs`` envs; return the token fields, ``env_mask`` and the reward inputs."""
        instances = [self._instance_of(prompt) for prompt in prompts]
        episodes = run_pooled_episodes(
            self.pool, instances, self.generate_turns, self.chat, self.episode_limits(), self.rollout_times
        )
        mode = "train" if self.model.training else "eval"
        for name, value in episode_metrics(episodes).items():
            self._metrics[mode][name].append(value)
        for e in episodes:
            if e.env_error:
                self.step_env_errors += 1
                logger.warning("%s: left out of its group after an %s", e.instance_id, e.exit_status[:500])
        return rollout_fields(episodes, self.processing_class.eos_token_id)

    def _instance_of(self, prompt: Any) -> TaskInstance:
        try:
            return self.prompt_index[prompt_key(prompt)]
        except KeyError:
            raise ValueError("a training prompt matches no task instance (not from rlvr_dataset)") from None

    def _vllm_turns(self, contexts: list[list[int]]) -> list[tuple[list[int], list[float]]]:
        """Sample one turn per context with TRL's vLLM engine (the trainer's sampling settings)."""
        _, completion_ids, logprobs, _ = self.vllm_generation.generate(
            prompts=contexts, images=None, num_generations=1
        )
        return [(list(ids), [lp[0] for lp in lps]) for ids, lps in zip(completion_ids, logprobs, strict=True)]


def train(
    config: RLVRConfig,
    model: str,
    instances: Sequence[TaskInstance],
    resume: bool = False,
    callbacks: list | None = None,
    experts: Mapping[str, Expert] | None = None,
) -> RLVRTrainer:
    """Train ``model`` (path or hub id) with RLVR on the task instances in real containers (``experts``:
    instance id → expert trajectory, for ``expert_shaping``); every container is removed at the end, also
    on a crash; return the trainer (its log history)."""
    trainer = RLVRTrainer(model=model, args=config, instances=instances, experts=experts, callbacks=callbacks)
    try:
        show_rich_progress(trainer)
        report_through(trainer)
        trainer.train(resume_from_checkpoint=resume or None)
        trainer.save_model()
    finally:
        trainer.close_envs()
    return trainer
