"""`OpenAIPolicy`: completions from any OpenAI-compatible chat endpoint (e.g. ``vllm serve``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from agents.policies.base import Conversation, SamplingConfig, logger, request_seed

DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"


class OpenAIPolicy:
    """Sends one chat-completions request per conversation (``n`` samples each), ``max_concurrency`` at a
    time, so that the server batches them.

    ``base_url`` is the endpoint's ``/v1`` root (e.g. ``http://127.0.0.1:8000/v1``); the API key is read
    from the environment variable ``api_key_env`` (a local server needs none: ``"EMPTY"`` is sent then). A
    request the server refuses as too long for the context gets empty completions; other errors are raised.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        sampling: SamplingConfig | None = None,
        max_concurrency: int = 16,
        timeout_s: float = 600.0,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.sampling = sampling or SamplingConfig()
        self.max_concurrency = max_concurrency
        self.client = OpenAI(
            base_url=base_url, api_key=os.environ.get(api_key_env) or "EMPTY", timeout=timeout_s
        )

    def generate(self, conversations: Sequence[Conversation], n: int = 1) -> list[list[str]]:
        """Return ``n`` completions per conversation (empty ones for a conversation the server refuses as
        too long)."""
        if not conversations:
            return []
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(conversations))) as pool:
            return list(pool.map(lambda item: self._complete(*item, n), enumerate(conversations)))

    def _optional(self, index: int) -> dict:
        """The optional fields of conversation ``index``'s request that are set (some servers refuse an
        explicit null)."""
        optional = {"seed": request_seed(self.sampling.seed, index), "stop": list(self.sampling.stop) or None}
        return {key: value for key, value in optional.items() if value is not None}

    def _complete(self, index: int, conversation: Conversation, n: int) -> list[str]:
        from openai import BadRequestError

        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=conversation,
                n=n,
                temperature=self.sampling.temperature,
                top_p=self.sampling.top_p,
                max_tokens=self.sampling.max_new_tokens,
                **self._optional(index),
            )
        except BadRequestError as error:
            if "context" not in str(error).lower() and "too long" not in str(error).lower():
                raise
            logger.warning("conversation %d refused by the server as too long: empty completions", index)
            return [""] * n
        choices = sorted(response.choices, key=lambda choice: choice.index)
        return [choice.message.content or "" for choice in choices]
