"""The `Policy` contract and its sampling settings, shared by every backend.

A policy turns a batch of chat conversations (lists of ``{"role", "content"}`` messages ending with a user
turn) into ``n`` completions each: the text of the next assistant turn, stop strings excluded. A
conversation that does not fit the model's context gets ``n`` empty completions (and a warning), so that
one long prompt never sinks a batch; to the agent loop an empty completion is a format error, to oracle
mode a malformed reply.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

Conversation = list[dict[str, str]]

logger = logging.getLogger("agents.policies")


class PolicyStartError(RuntimeError):
    """A policy backend that cannot start here (e.g. too little memory for its engine); one line."""


@dataclass(frozen=True)
class SamplingConfig:
    """How completions are sampled; the defaults are the paper's rollout settings (temperature 1.0)."""

    temperature: float = 1.0
    """0 means greedy decoding."""
    top_p: float = 1.0
    max_new_tokens: int = 1024
    """Most tokens one completion may have."""
    seed: int | None = None
    """Seed of the sampler (None: not seeded)."""
    stop: tuple[str, ...] = field(default=())
    """Strings that end a completion; the stop string itself is not part of it."""


@runtime_checkable
class Policy(Protocol):
    """Anything that completes chat conversations."""

    sampling: SamplingConfig

    def generate(self, conversations: Sequence[Conversation], n: int = 1) -> list[list[str]]:
        """Return ``n`` completions for each conversation, in the conversations' order."""
        ...


def request_seed(seed: int | None, index: int) -> int | None:
    """Return the seed of the ``index``-th conversation of a call seeded with ``seed`` (None: unseeded).

    Every backend that takes per-request seeds uses it, so that a seeded batch gives the same completions
    in process and through a server."""
    return None if seed is None else (seed * 1_000_003 + index) % (1 << 63)


def warn_too_long(index: int, prompt_tokens: int, limit: int) -> None:
    """Log that conversation ``index`` (``prompt_tokens`` long) does not fit ``limit`` and gets empty
    completions."""
    logger.warning(
        "conversation %d has %d prompt tokens, over the model's limit of %d: empty completions",
        index,
        prompt_tokens,
        limit,
    )


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Return ``text`` up to (not including) the earliest of the ``stop`` strings it contains."""
    cut = min((text.find(s) for s in stop if s and s in text), default=-1)
    return text if cut < 0 else text[:cut]
