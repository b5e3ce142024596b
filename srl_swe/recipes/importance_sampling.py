"""How much of a batch TRL's vLLM importance-sampling correction masked or clipped.

vLLM samples the completions and the trainer recomputes their log-probabilities; TRL 1.16 corrects for the
gap with a ratio ρ = exp(trainer − sampler), per token or per sequence (the sum over its tokens), held to
[C_min, C_max]: ``*_truncate`` modes clip ρ to the bounds, ``*_mask`` modes zero it outside them (a masked
sequence leaves the loss). TRL logs the ratio's min/mean/max (``sampling/importance_sampling_ratio/…``) but
not how many tokens or sequences the bounds touched; :func:`correction_reach` counts them, and the trainer
(:class:`srl_swe.recipes.dynamic_sampling.DynamicSamplingGRPOTrainer`) logs the fractions per step as
``sampling/is_clipped/seq_frac`` and ``sampling/is_clipped/token_frac``: the sequences with at least one such
token, and the loss tokens, whose ratio lay outside the bounds — clipped in a ``*_truncate`` mode, masked
(zeroed) in a ``*_mask`` mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SEQUENCE_MODES = ("sequence_mask", "sequence_truncate")


@dataclass(frozen=True)
class CorrectionReach:
    """Counts of one batch: the sequences and loss tokens whose ratio lay outside [C_min, C_max], and all."""

    sequences: int
    all_sequences: int
    tokens: int
    all_tokens: int


def correction_reach(
    trainer_logps: torch.Tensor,
    sampler_logps: torch.Tensor,
    loss_mask: torch.Tensor,
    mode: str,
    clip_min: float | None,
    clip_max: float | None,
) -> CorrectionReach:
    """Return how many sequences and loss tokens (``loss_mask`` 1) of a batch the correction of ``mode``
    masked or clipped, and how many it looked at (sequences without a loss token are not counted).

    The ratio is TRL's: per token, or per sequence for the ``sequence_*`` modes (every token of the
    sequence then shares it); a sampler log-probability of NaN counts as no gap, as TRL counts it."""
    gap = torch.nan_to_num((trainer_logps - sampler_logps) * loss_mask, nan=0.0)
    if mode in SEQUENCE_MODES:
        gap = gap.sum(dim=-1, keepdim=True).expand_as(gap)
    low = math.log(clip_min) if clip_min is not None and clip_min > 0 else -math.inf
    high = math.inf if clip_max is None else math.log(clip_max)
    outside = ((gap < low) | (gap > high)) & loss_mask.bool()
    counted = loss_mask.bool().any(dim=-1)
    return CorrectionReach(
        sequences=int(outside.any(dim=-1).sum()),
        all_sequences=int(counted.sum()),
        tokens=int(outside.sum()),
        all_tokens=int(loss_mask.bool().sum()),
    )
