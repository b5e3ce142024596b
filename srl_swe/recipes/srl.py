"""The SRL recipe (Deng et al. 2025, arXiv 2510.25992): GRPO on step examples, rewarded by action similarity.

Read top to bottom, one training step is:

1. **steps** — the step dataset (``python -m srl_swe.data build``): each row a chat ``prompt`` (the issue and
   the last expert action/observation pairs) and the ``expert_action`` that came next;
2. **prompts** — TRL's sampler takes ``prompts_per_step`` rows and repeats each ``num_generations`` times;
3. **completions** — vLLM (colocated in the trainer's process, or a TRL ``vllm-serve`` server) samples a
   ``<think>…</think>`` + fenced action completion per copy at ``temperature``;
4. **reward** — :func:`srl_swe.reward.srl_reward`: difflib similarity 2M/T of the completion's action to the
   expert's action (``autojunk=False``), −1 when the completion breaks the format;
5. **filter** — dynamic sampling drops prompts whose rewards have std ≤ ε and samples replacements until the
   batch is full (:mod:`srl_swe.recipes.dynamic_sampling`);
6. **GRPO update** — group-relative advantages, clipped policy-gradient loss, no KL term (``beta=0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasets import Dataset

from srl_swe.recipes.dynamic_sampling import DynamicSamplingGRPOConfig, DynamicSamplingGRPOTrainer
from srl_swe.recipes.heldout import report_through
from srl_swe.recipes.progress import show_rich_progress
from srl_swe.reward import srl_reward


@dataclass
class PromptBatchGRPOConfig(DynamicSamplingGRPOConfig):
    """GRPOConfig with dynamic sampling, the batch sized in the paper's unit (prompts per optimizer step) and
    the sampling/KL/vLLM defaults the SRL paper's recipes share (SRL, RLVR).

    "(paper)" marks a value from Deng et al. 2025; "(ours)" one the paper does not give. Everything else is
    TRL's default. ``prompts_per_step`` sizes the batch; set it to None to size the batch with TRL's own
    ``gradient_accumulation_steps`` / ``generation_batch_size`` instead.
    """

    prompts_per_step: int | None = field(
        default=512,
        metadata={
            "help": "Prompts per optimizer step (paper: SRL batch size 512). Derives "
            "gradient_accumulation_steps = prompts_per_step * num_generations / "
            "(per_device_train_batch_size * processes): one generation batch is one on-policy update. "
            "None: use TRL's batch fields as given."
        },
    )
    learning_rate: float = field(default=5e-7, metadata={"help": "AdamW learning rate (paper: 5e-7)."})
    num_generations: int | None = field(
        default=8, metadata={"help": "Rollouts sampled per prompt (paper: 8)."}
    )
    temperature: float = field(
        default=1.0, metadata={"help": "Sampling temperature of rollouts (paper: 1.0)."}
    )
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (paper: 0, no reference model)."})
    use_vllm: bool = field(default=True, metadata={"help": "Generate rollouts with vLLM (ours)."})
    vllm_mode: str = field(
        default="colocate",
        metadata={
            "help": "'colocate': vLLM inside the trainer's processes; 'server': a `trl vllm-serve` (ours)."
        },
    )
    logging_steps: float = field(
        default=1, metadata={"help": "Log every step: steps are few and expensive (ours)."}
    )
    vllm_importance_sampling_mode: str = field(
        default="token_truncate",
        metadata={
            "help": "How TRL corrects for the gap between vLLM's and the trainer's log-probabilities (ours; "
            "TRL's default is sequence_mask). token_truncate clips each token's ratio at "
            "vllm_importance_sampling_clip_max (3) and drops nothing. A sequence ratio is the product of "
            "every token's: over the thousands of policy tokens of an RLVR episode (and the up to 1024 of an "
            "SRL completion) a tiny per-token gap from kernels or precision compounds past ln 3, and "
            "sequence_mask then drops the whole episode from the loss. Logged per step: "
            "sampling/is_clipped/seq_frac and /token_frac."
        },
    )

    def __post_init__(self):
        derive = self.prompts_per_step is not None
        if derive and (self.generation_batch_size is not None or self.steps_per_generation is not None):
            raise ValueError(
                "set either prompts_per_step or generation_batch_size/steps_per_generation, not both"
            )
        super().__post_init__()
        if derive:
            completions = self.prompts_per_step * self.num_generations
            per_step = self.per_device_train_batch_size * self.world_size
            if completions % per_step:
                raise ValueError(
                    f"prompts_per_step * num_generations ({completions}) must be divisible by "
                    f"per_device_train_batch_size * processes ({per_step})"
                )
            self.gradient_accumulation_steps = completions // per_step
            self.steps_per_generation = self.gradient_accumulation_steps
            self.generation_batch_size = completions


@dataclass
class SRLConfig(PromptBatchGRPOConfig):
    """Settings of SRL training: :class:`PromptBatchGRPOConfig` (paper batch 512 prompts, lr 5e-7, 8
    rollouts at temperature 1.0, no KL) with completions of one thought and one action."""

    max_completion_length: int | None = field(
        default=1024,
        metadata={"help": "Most tokens of a completion: the thought and one action (ours)."},
    )


# Scaled-down settings for a CPU run of minutes on the tiny model (all ours). `--preset cpu-demo`.
PRESETS: dict[str, dict[str, Any]] = {
    "cpu-demo": {
        "use_cpu": True,
        "bf16": False,
        "prompts_per_step": 2,
        "num_generations": 4,
        "per_device_train_batch_size": 8,
        "max_completion_length": 48,
        "learning_rate": 1e-5,
        "dynamic_sampling_max_draws": 3,
        "max_steps": 8,
        "save_steps": 1,
        "save_total_limit": 2,
        "seed": 0,
    },
}


class SRLTrainer(DynamicSamplingGRPOTrainer):
    """GRPO with dynamic sampling whose reward is :func:`srl_swe.reward.srl_reward` unless told otherwise."""

    def __init__(self, model: Any, args: SRLConfig, train_dataset: Dataset, **kwargs: Any) -> None:
        kwargs.setdefault("reward_funcs", srl_reward)
        super().__init__(model=model, args=args, train_dataset=train_dataset, **kwargs)


def train(
    config: SRLConfig, model: str, steps: Dataset, resume: bool = False, callbacks: list | None = None
) -> SRLTrainer:
    """Train ``model`` (path or hub id) with SRL on the step dataset (``callbacks``: extra TrainerCallbacks,
    e.g. held-out evaluation); return the trainer (its log history)."""
    trainer = SRLTrainer(model=model, args=config, train_dataset=steps, callbacks=callbacks)
    show_rich_progress(trainer)
    report_through(trainer)
    trainer.train(resume_from_checkpoint=resume or None)
    trainer.save_model()
    return trainer
