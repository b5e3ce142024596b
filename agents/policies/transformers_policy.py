"""`TransformersPolicy`: the plain fallback, ``AutoModelForCausalLM.generate`` on the chat template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.policies.base import Conversation, SamplingConfig, cut_at_stop, warn_too_long


class TransformersPolicy:
    """Completes conversations one at a time with transformers (no batching: a fallback and a reference).

    ``model`` is a local folder or hub id (``model_kwargs`` go to ``from_pretrained``, e.g. ``dtype``), or a
    model already loaded, e.g. one being trained, with its ``tokenizer`` (left where it is; put in eval mode
    only while generating). The context limit is the config's ``max_position_embeddings``.
    """

    def __init__(
        self,
        model: Any,
        *,
        tokenizer: Any = None,
        sampling: SamplingConfig | None = None,
        device: str = "cpu",
        **model_kwargs: Any,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.sampling = sampling or SamplingConfig()
        if isinstance(model, str):
            tokenizer = AutoTokenizer.from_pretrained(model)
            model = AutoModelForCausalLM.from_pretrained(model, **model_kwargs).to(device)
        self.tokenizer = tokenizer
        self.model = model
        self.max_model_len: int = getattr(self.model.config, "max_position_embeddings", 1 << 30)
        pad = self.tokenizer.pad_token_id
        self._pad_token_id = self.tokenizer.eos_token_id if pad is None else pad

    def generate(self, conversations: Sequence[Conversation], n: int = 1) -> list[list[str]]:
        """Return ``n`` completions per conversation (empty ones for a conversation over the context)."""
        import torch

        if self.sampling.seed is not None:
            torch.manual_seed(self.sampling.seed)
        results = []
        training = self.model.training
        self.model.eval()
        try:
            for index, conversation in enumerate(conversations):
                results.append(self._complete(index, conversation, n))
        finally:
            self.model.train(training)
        return results

    def _complete(self, index: int, conversation: Conversation, n: int) -> list[str]:
        encoded = self.tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.model.device)
        length = encoded["input_ids"].shape[1]
        if length >= self.max_model_len:
            warn_too_long(index, length, self.max_model_len)
            return [""] * n
        return self._sample(encoded, length, n)

    def _sample(self, encoded: Any, length: int, n: int) -> list[str]:
        import torch

        greedy = self.sampling.temperature == 0
        sampling = {} if greedy else {"temperature": self.sampling.temperature, "top_p": self.sampling.top_p}
        with torch.no_grad():
            output = self.model.generate(
                **encoded,
                do_sample=not greedy,
                max_new_tokens=min(self.sampling.max_new_tokens, self.max_model_len - length),
                num_return_sequences=n,
                pad_token_id=self._pad_token_id,
                **sampling,
            )
        texts = self.tokenizer.batch_decode(output[:, length:], skip_special_tokens=True)
        return [cut_at_stop(text, self.sampling.stop) for text in texts]
