"""Policies: batches of chat conversations in, completions out (see :class:`Policy`).

Backends, one module each: ``vllm`` (:class:`VLLMPolicy`, in-process), ``openai`` (:class:`OpenAIPolicy`,
any OpenAI-compatible server such as ``vllm serve``), ``transformers`` (:class:`TransformersPolicy`, the
plain fallback). :func:`make_policy` picks one by name; backends import their heavy dependencies lazily.
"""

from __future__ import annotations

from typing import Any

from agents.policies.base import Conversation, Policy, PolicyStartError, SamplingConfig

POLICY_KINDS = ("vllm", "openai", "transformers")

__all__ = [
    "POLICY_KINDS",
    "Conversation",
    "Policy",
    "PolicyStartError",
    "SamplingConfig",
    "close_policy",
    "make_policy",
]


def close_policy(policy: Policy) -> None:
    """Release what ``policy`` holds (e.g. the vLLM engine it started), for backends that hold anything;
    returns None."""
    close = getattr(policy, "close", None)
    if close is not None:
        close()


def make_policy(
    kind: str,
    model: str,
    *,
    sampling: SamplingConfig | None = None,
    base_url: str | None = None,
    **options: Any,
) -> Policy:
    """Return the ``kind`` backend on ``model``; ``options`` go to its constructor (engine kwargs for vLLM,
    ``from_pretrained`` kwargs for transformers, ``api_key_env``/``max_concurrency`` for openai)."""
    if kind == "vllm":
        from agents.policies.vllm_policy import VLLMPolicy

        return VLLMPolicy(model, sampling=sampling, **options)
    if kind == "transformers":
        from agents.policies.transformers_policy import TransformersPolicy

        return TransformersPolicy(model, sampling=sampling, **options)
    if kind == "openai":
        from agents.policies.openai_policy import OpenAIPolicy

        if not base_url:
            raise ValueError("the openai policy needs a base_url (e.g. http://127.0.0.1:8000/v1)")
        return OpenAIPolicy(base_url, model, sampling=sampling, **options)
    raise ValueError(f"unknown policy kind {kind!r}; known: {', '.join(POLICY_KINDS)}")
