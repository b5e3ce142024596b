"""The SFT baseline of the SRL paper: supervised fine-tuning on the same step examples.

Each step example becomes a prompt-completion pair: the step's chat ``prompt`` and, as the assistant's reply,
the expert's own thought and action in the completion format (``<think>thought</think>`` then the fenced
action). TRL's SFTTrainer trains on the completion tokens only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from agents.completion import THINK_CLOSE, THINK_OPEN
from agents.prompts import action_block
from srl_swe.recipes.heldout import report_through
from srl_swe.recipes.progress import show_rich_progress


def expert_completion(thought: str, action: str) -> str:
    """Return the completion the expert would have written: its thought in think tags, then its action."""
    return f"{THINK_OPEN}\n{thought.strip()}\n{THINK_CLOSE}\n{action_block(action)}"


def sft_dataset(steps: Dataset) -> Dataset:
    """Return the step dataset as conversational prompt-completion rows for TRL's SFTTrainer."""
    return steps.map(
        lambda row: {
            "completion": [
                {
                    "role": "assistant",
                    "content": expert_completion(row["expert_thought"], row["expert_action"]),
                }
            ]
        },
        remove_columns=[c for c in steps.column_names if c != "prompt"],
    )


@dataclass
class StepSFTConfig(SFTConfig):
    """TRL's SFTConfig for step examples with the paper's SFT baseline settings.

    "(paper)" marks a value from Deng et al. 2025's SFT baseline; "(ours)" a default changed from TRL's that
    the paper does not give. Everything else is TRL's default. ``examples_per_step`` sizes the batch in the
    paper's unit (step examples per optimizer step); set it to None to use TRL's own
    ``gradient_accumulation_steps`` as given.
    """

    examples_per_step: int | None = field(
        default=64,
        metadata={
            "help": "Step examples per optimizer step (paper: batch size 64). Derives "
            "gradient_accumulation_steps = examples_per_step / (per_device_train_batch_size * processes). "
            "None: use TRL's batch fields as given."
        },
    )
    learning_rate: float = field(default=5e-6, metadata={"help": "AdamW learning rate (paper: 5e-6)."})
    num_train_epochs: float = field(
        default=3.0, metadata={"help": "Epochs over the step examples (paper: 3)."}
    )
    max_length: int | None = field(
        default=None,
        metadata={
            "help": "Truncate sequences to this many tokens; None keeps them whole (ours: TRL's 1024 would "
            "cut the completion off long step prompts, which hold the issue and two observations)."
        },
    )
    logging_steps: float = field(default=1, metadata={"help": "Log every step (ours)."})

    def __post_init__(self):
        super().__post_init__()
        if self.examples_per_step is not None:
            per_step = self.per_device_train_batch_size * self.world_size
            if self.examples_per_step % per_step:
                raise ValueError(
                    f"examples_per_step ({self.examples_per_step}) must be divisible by "
                    f"per_device_train_batch_size * processes ({per_step})"
                )
            self.gradient_accumulation_steps = self.examples_per_step // per_step


# Scaled-down settings for a CPU run of minutes on the tiny model (all ours). `--preset cpu-demo`.
PRESETS: dict[str, dict[str, Any]] = {
    "cpu-demo": {
        "use_cpu": True,
        "bf16": False,
        "per_device_train_batch_size": 4,
        "examples_per_step": 4,
        "learning_rate": 1e-4,
        "max_steps": 8,
        "save_steps": 1,
        "save_total_limit": 2,
        "seed": 0,
    },
}


def train(
    config: StepSFTConfig, model: str, steps: Dataset, resume: bool = False, callbacks: list | None = None
) -> SFTTrainer:
    """Fine-tune ``model`` (path or hub id) on the expert completions of the steps (``callbacks``: extra
    TrainerCallbacks, e.g. held-out evaluation); return the trainer."""
    trainer = SFTTrainer(model=model, args=config, train_dataset=sft_dataset(steps), callbacks=callbacks)
    show_rich_progress(trainer)
    report_through(trainer)
    trainer.train(resume_from_checkpoint=resume or None)
    trainer.save_model()
    return trainer
