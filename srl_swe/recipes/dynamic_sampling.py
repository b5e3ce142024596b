"""Dynamic sampling for GRPO: train only on prompt groups whose rewards differ, refilling the batch.

A group is the ``num_generations`` completions of one prompt. When every completion of a group gets the same
reward, its group-relative advantages are all zero and the group teaches nothing (it only dilutes the
token-mean loss). DAPO (Yu et al. 2025, arXiv 2503.14476) drops such groups and keeps sampling until the batch
is full; SRL (Deng et al. 2025, arXiv 2510.25992) does the same with the rule "drop a prompt when the standard
deviation of its rollouts' rewards is at most ε".

TRL 1.16 has no dynamic sampling, so :class:`DynamicSamplingGRPOTrainer` adds it through one override of
``GRPOTrainer._generate_and_score_completions`` (the method that turns a generation batch of prompts into the
tensors of one update):

1. generate and score the batch as TRL does (``super()``);
2. read the rewards TRL just computed (kept by the ``_calculate_rewards`` override) and keep the groups whose
   reward std > ε (:func:`informative_groups`);
3. while fewer than the batch's number of groups are kept, draw a fresh generation batch of prompts from the
   training set (:func:`shuffled_cycle`) and go back to 1, at most ``dynamic_sampling_max_draws`` times;
4. concatenate the kept groups (:func:`concat_batches`), topping up with dropped groups (advantage 0, no
   gradient) only when the cap was hit, and hand the batch back to TRL's loop.

With several processes (``accelerate launch``) each process fills its own share of the batch, but a round
holds collective calls (TRL gathers rewards across processes), so every process must take the same number of
rounds: after each round the processes gather their informative-group counts and all stop together when the
process with the fewest has enough (:func:`stop_drawing`).

Logged per generation batch: ``dynamic_sampling/draws`` (generation rounds), ``dynamic_sampling/kept_frac``
(informative / drawn groups) and ``dynamic_sampling/filler_groups`` (zero-variance groups used to fill the
batch), both over every process. TRL's own ``reward``/``frac_reward_zero_std`` metrics average over every
drawn group, dropped ones included. Each process also appends one JSON line per generation batch to
``OUTPUT_DIR/dynamic_sampling/process-<rank>.jsonl`` (rounds, informative groups found in each, groups used,
fillers), which shows how the work was shared.

With vLLM's importance-sampling correction on, each generation round also logs the fractions of sequences
and of loss tokens whose ratio the correction clipped or masked (``sampling/is_clipped/seq_frac``,
``sampling/is_clipped/token_frac``, over every process; :mod:`srl_swe.recipes.importance_sampling`).
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from trl import GRPOConfig, GRPOTrainer

from agents.policies.vllm_memory import on_cpu_build, processes_on_this_node, size_cpu_kv_cache_for_process
from srl_swe.recipes.colocated_vllm import sync_through_in_place_reload
from srl_swe.recipes.importance_sampling import correction_reach

logger = logging.getLogger(__name__)

# Keys of the batch dict that GRPOTrainer builds for a text-only model, by how their second axis is padded.
PROMPT_KEYS = ("prompt_ids", "prompt_mask")  # left-padded
COMPLETION_KEYS = (  # right-padded, one column per completion token
    "completion_ids",
    "completion_mask",
    "tool_mask",
    "old_per_token_logps",
    "sampling_per_token_logps",
    "ref_per_token_logps",
    "importance_sampling_ratio",
)
ROW_KEYS = ("advantages",)  # one value per completion
IS_REACH = "sampling/is_clipped"
"""Prefix of the logged fractions of sequences and tokens the vLLM importance-sampling correction touched."""
ROUNDS_LOG = "dynamic_sampling"
"""Folder under the output directory holding each process's ``process-<rank>.jsonl`` of generation rounds."""


def informative_groups(rewards: Sequence[float], group_size: int, epsilon: float) -> list[bool]:
    """Return, per consecutive group of ``group_size`` rewards, whether its population std > ``epsilon``.

    NaN rewards (completions no reward function scored) are left out; a group with fewer than two scored
    completions is uninformative.
    """
    if group_size < 1 or len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    keep = []
    for start in range(0, len(rewards), group_size):
        scored = [r for r in rewards[start : start + group_size] if not math.isnan(r)]
        keep.append(len(scored) >= 2 and statistics.pstdev(scored) > epsilon)
    return keep


def stop_drawing(informative_per_process: Sequence[int], wanted: int, draws: int, max_draws: int) -> bool:
    """Return whether every process stops drawing generation rounds: when each process has ``wanted``
    informative groups (the one with fewest decides) or after ``max_draws`` rounds.

    Every process decides on the same gathered counts, so all take the same number of rounds."""
    return min(informative_per_process) >= wanted or draws >= max_draws


def shuffled_cycle(size: int, seed: int) -> Iterator[int]:
    """Return an endless stream of indices into ``range(size)``: a fresh seeded permutation per pass."""
    if size < 1:
        raise ValueError("cannot draw prompts from an empty dataset")
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield from torch.randperm(size, generator=generator).tolist()


def group_rows(groups: Sequence[int], group_size: int) -> list[int]:
    """Return the row indices of the given groups, in order."""
    return [g * group_size + i for g in groups for i in range(group_size)]


def _pad_columns(tensors: list[torch.Tensor], value: float, left: bool) -> torch.Tensor:
    width = max(t.shape[1] for t in tensors)
    padded = []
    for t in tensors:
        missing = width - t.shape[1]
        pad = t.new_full((t.shape[0], missing), value)
        padded.append(torch.cat([pad, t] if left else [t, pad], dim=1))
    return torch.cat(padded, dim=0)


def concat_batches(
    parts: Sequence[tuple[dict[str, Any], Sequence[int]]], pad_token_id: int
) -> dict[str, torch.Tensor]:
    """Return one GRPO batch made of the given rows of each batch, re-padded to a common width.

    Prompt tensors are padded on the left, completion tensors on the right (ids with ``pad_token_id``,
    masks and log-probs with 0, which the loss masks out). ``num_items_in_batch`` is left out: it spans every
    process, so the trainer recomputes it. Raises ValueError on keys of a multimodal batch.
    """
    keys = [k for k in parts[0][0] if k != "num_items_in_batch" and parts[0][0][k] is not None]
    unknown = [k for k in keys if k not in PROMPT_KEYS + COMPLETION_KEYS + ROW_KEYS]
    if unknown:
        raise ValueError(f"dynamic sampling supports text-only batches; cannot merge {', '.join(unknown)}")
    merged = {}
    for key in keys:
        pieces = [batch[key][torch.as_tensor(list(rows), dtype=torch.long)] for batch, rows in parts]
        if key in ROW_KEYS or pieces[0].ndim == 1:
            merged[key] = torch.cat(pieces, dim=0)
        else:
            value = pad_token_id if key.endswith("_ids") else 0
            merged[key] = _pad_columns(pieces, value, left=key in PROMPT_KEYS)
    return merged


@dataclass
class DynamicSamplingGRPOConfig(GRPOConfig):
    """GRPOConfig plus dynamic sampling (drop zero-variance prompt groups and refill the batch)."""

    dynamic_sampling: bool = field(
        default=True,
        metadata={
            "help": "Drop prompt groups whose rewards have std <= dynamic_sampling_epsilon and refill."
        },
    )
    dynamic_sampling_epsilon: float = field(
        default=1e-4,
        metadata={"help": "A group is kept when the population std of its rewards is above this value."},
    )
    dynamic_sampling_max_draws: int = field(
        default=8,
        metadata={
            "help": "Most generation rounds per batch (the first included); when reached, the batch is "
            "topped up with dropped groups, whose advantages are 0."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        if self.dynamic_sampling_epsilon < 0:
            raise ValueError("dynamic_sampling_epsilon must be >= 0")
        if self.dynamic_sampling_max_draws < 1:
            raise ValueError("dynamic_sampling_max_draws must be >= 1")


class DynamicSamplingGRPOTrainer(GRPOTrainer):
    """GRPOTrainer whose generation batches hold only informative prompt groups (see the module docstring).

    Needs a map-style training dataset (replacement prompts are drawn by index) and, with several processes,
    whole groups per process: ``per_device_train_batch_size * steps_per_generation`` divisible by
    ``num_generations``.
    """

    args: DynamicSamplingGRPOConfig

    def __init__(self, model: Any, reward_funcs: Any, args: DynamicSamplingGRPOConfig, **kwargs: Any) -> None:
        if args.use_vllm and args.vllm_mode == "colocate":
            # TRL starts the colocated engine with gpu_memory_utilization only; on the CPU build that share
            # of the NUMA node is more than a machine running the trainer can give: size the KV cache here.
            size_cpu_kv_cache_for_process(
                model if isinstance(model, str) else model.name_or_path,
                max_model_len=args.vllm_max_model_length,
                sequences=args.per_device_train_batch_size * args.steps_per_generation,
                processes=processes_on_this_node(),
            )
        super().__init__(model, reward_funcs, args=args, **kwargs)
        if args.use_vllm and args.vllm_mode == "colocate" and on_cpu_build():
            sync_through_in_place_reload(self.vllm_generation)
        if self.args.dynamic_sampling:
            local_rows = self.args.per_device_train_batch_size * self.args.steps_per_generation
            if local_rows % self.num_generations:
                raise ValueError(
                    f"dynamic sampling needs whole prompt groups per process: per_device_train_batch_size * "
                    f"steps_per_generation ({local_rows}) must be divisible by num_generations "
                    f"({self.num_generations})"
                )
            if not hasattr(self.train_dataset, "__getitem__"):
                raise ValueError("dynamic sampling needs a map-style (indexable) training dataset")
        self._last_rewards_per_func: torch.Tensor | None = None
        self._replacement_prompts: Iterator[int] | None = None

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._last_rewards_per_func = rewards_per_func  # gathered over processes, one row per completion
        return rewards_per_func

    def _local_rewards(self, num_rows: int) -> list[float]:
        """Return this process's weighted reward per completion of the batch just scored (NaN: unscored)."""
        per_func = self._last_rewards_per_func
        weights = self.reward_weights.to(per_func.device).unsqueeze(0)
        total = (per_func * weights).nansum(dim=1)
        total[torch.isnan(per_func).all(dim=1)] = torch.nan
        start = self.accelerator.process_index * num_rows
        return total[start : start + num_rows].tolist()

    def _draw_generation_batch(self, num_prompts: int) -> list[dict[str, Any]]:
        """Return ``num_prompts`` fresh training prompts, each repeated ``num_generations`` times."""
        if self._replacement_prompts is None:
            seed = self.args.seed + 1 + self.accelerator.process_index
            self._replacement_prompts = shuffled_cycle(len(self.train_dataset), seed)
        rows = [self.train_dataset[next(self._replacement_prompts)] for _ in range(num_prompts)]
        return [row for row in rows for _ in range(self.num_generations)]

    def _score_batch(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """Return TRL's scored batch of ``inputs`` (one generation round), logging how much of it the vLLM
        importance-sampling correction masked or clipped."""
        batch = super()._generate_and_score_completions(inputs)
        if self.use_vllm and self.args.vllm_importance_sampling_correction:
            reach = correction_reach(
                batch["old_per_token_logps"],
                batch["sampling_per_token_logps"],
                batch["completion_mask"] * batch.get("tool_mask", 1),
                self.args.vllm_importance_sampling_mode,
                self.args.vllm_importance_sampling_clip_min,
                self.args.vllm_importance_sampling_clip_max,
            )
            counts = torch.tensor(
                [reach.sequences, reach.all_sequences, reach.tokens, reach.all_tokens],
                device=self.accelerator.device,
                dtype=torch.float64,
            )
            sequences, all_sequences, tokens, all_tokens = self.accelerator.gather(counts).view(-1, 4).sum(0)
            metrics = self._metrics["train" if self.model.training else "eval"]
            metrics[f"{IS_REACH}/seq_frac"].append((sequences / all_sequences.clamp(min=1)).item())
            metrics[f"{IS_REACH}/token_frac"].append((tokens / all_tokens.clamp(min=1)).item())
        return batch

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if not self.model.training or not self.args.dynamic_sampling:
            return self._score_batch(inputs)
        group_size = self.num_generations
        wanted = len(inputs) // group_size
        kept: list[tuple[dict[str, Any], list[int]]] = []  # (scored batch, its informative groups)
        dropped: list[tuple[dict[str, Any], list[int]]] = []
        per_draw: list[int] = []  # informative groups found in each generation round
        while True:
            batch = self._score_batch(inputs)
            keep = informative_groups(
                self._local_rewards(len(inputs)), group_size, self.args.dynamic_sampling_epsilon
            )
            kept.append((batch, [g for g, k in enumerate(keep) if k]))
            dropped.append((batch, [g for g, k in enumerate(keep) if not k]))
            per_draw.append(sum(keep))
            found = torch.tensor([sum(per_draw)], device=self.accelerator.device)
            counts = self.accelerator.gather(found).tolist()  # informative groups so far, per process
            if stop_drawing(counts, wanted, len(per_draw), self.args.dynamic_sampling_max_draws):
                break
            inputs = self._draw_generation_batch(wanted)
        draws = len(per_draw)
        chosen = _take_groups(kept, wanted)
        filler = wanted - sum(len(groups) for _, groups in chosen)
        if filler:
            logger.warning(
                "dynamic sampling: %d of %d groups are zero-variance fillers after %d draws "
                "(raise dynamic_sampling_max_draws or check the reward)",
                filler,
                wanted,
                draws,
            )
            chosen += _take_groups(dropped, filler)
        merged = concat_batches(
            [(batch, group_rows(groups, group_size)) for batch, groups in chosen if groups],
            self._tokenizer.pad_token_id,
        )
        loss_mask = merged["completion_mask"] * merged.get("tool_mask", 1)
        merged["num_items_in_batch"] = self.accelerator.gather(loss_mask.sum()).sum()
        metrics = self._metrics["train"]
        metrics["dynamic_sampling/draws"].append(float(draws))
        metrics["dynamic_sampling/kept_frac"].append(sum(counts) / (draws * wanted * len(counts)))
        metrics["dynamic_sampling/filler_groups"].append(float(sum(max(0, wanted - n) for n in counts)))
        self._log_rounds(
            draws=draws,
            informative_per_draw=per_draw,
            groups=len(merged["advantages"]) // group_size,
            filler_groups=filler,
        )
        return merged

    def _log_rounds(self, **record: Any) -> None:
        """Append this process's record of one generation batch to its JSONL under the output directory."""
        path = Path(self.args.output_dir) / ROUNDS_LOG / f"process-{self.accelerator.process_index}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {"step": self.state.global_step + 1, "process": self.accelerator.process_index, **record}
        with path.open("a") as log:
            log.write(json.dumps(line) + "\n")


def _take_groups(
    parts: list[tuple[dict[str, Any], list[int]]], count: int
) -> list[tuple[dict[str, Any], list[int]]]:
    """Return the first ``count`` groups of ``parts``, keeping which batch each group comes from."""
    taken = []
    for batch, groups in parts:
        if count <= 0:
            break
        taken.append((batch, groups[:count]))
        count -= len(taken[-1][1])
    return taken
