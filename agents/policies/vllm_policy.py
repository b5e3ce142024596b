"""`VLLMPolicy`: completions from an in-process ``vllm.LLM`` through its chat interface, one batched call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.policies.base import Conversation, PolicyStartError, SamplingConfig, request_seed, warn_too_long

DEFAULT_SEQUENCES = 8
"""Sequences an engine is sized for when the caller does not say (``max_num_seqs``)."""


class VLLMPolicy:
    """Completes conversations with vLLM in this process.

    Pass ``engine`` to share an existing ``vllm.LLM`` (e.g. the one TRL's colocate mode or a test session
    holds); otherwise one is started on ``model`` with ``engine_kwargs`` (e.g. ``max_model_len``,
    ``dtype``, ``max_num_seqs``, ``gpu_memory_utilization``), its memory sized for this hardware by
    :func:`start_engine`. Every conversation of a call is scheduled in one ``LLM.chat``
    call, so vLLM batches them.

    Seeded sampling (``SamplingConfig.seed``) gives every request a seed derived from it and the request's
    position, so that a batch of any size is reproducible. On vLLM-CPU a seeded request whose prompt is
    prefilled in chunks kills the engine ("CPU Generator does not use offset": vLLM rewinds the request's
    generator, which torch's CPU generator cannot), so an engine started here for seeded sampling on the CPU
    prefills every prompt whole (:func:`seeded_cpu_kwargs`).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        engine: Any = None,
        sampling: SamplingConfig | None = None,
        **engine_kwargs: Any,
    ) -> None:
        self._owns_engine = engine is None
        if engine is None:
            if model is None:
                raise ValueError("VLLMPolicy needs a model (path or hub id) or an existing engine")
            if self._seeded(sampling):
                engine_kwargs = seeded_cpu_kwargs(model, engine_kwargs)
            engine = start_engine(model, **engine_kwargs)
        self.engine = engine
        self.sampling = sampling or SamplingConfig()
        self._tokenizer = engine.get_tokenizer()
        self.max_model_len: int = engine.llm_engine.model_config.max_model_len

    def generate(self, conversations: Sequence[Conversation], n: int = 1) -> list[list[str]]:
        """Return ``n`` completions per conversation (empty ones for a conversation over the context)."""
        from vllm import SamplingParams

        fits = []
        for index, conversation in enumerate(conversations):
            length = self.prompt_tokens(conversation)
            if length < self.max_model_len:
                fits.append(index)
            else:
                warn_too_long(index, length, self.max_model_len)
        results: list[list[str]] = [[""] * n for _ in conversations]
        if not fits:
            return results
        params = [
            SamplingParams(
                n=n,
                temperature=self.sampling.temperature,
                top_p=self.sampling.top_p,
                max_tokens=self.sampling.max_new_tokens,
                seed=request_seed(self.sampling.seed, index),
                stop=list(self.sampling.stop) or None,
            )
            for index in fits
        ]
        outputs = self.engine.chat([conversations[i] for i in fits], params, use_tqdm=False)
        for index, output in zip(fits, outputs, strict=True):
            results[index] = [sample.text for sample in output.outputs]
        return results

    @staticmethod
    def _seeded(sampling: SamplingConfig | None) -> bool:
        return sampling is not None and sampling.seed is not None

    def close(self) -> None:
        """Shut down the engine this policy started (a shared one is left running); returns None.

        vLLM's engine runs in child processes that a finishing Python process waits for: without this, a
        command that is done hangs at exit."""
        if self._owns_engine:
            self.engine.llm_engine.engine_core.shutdown()
            self._owns_engine = False

    def prompt_tokens(self, conversation: Conversation) -> int:
        """Return how many tokens the conversation's chat prompt (generation prompt included) has."""
        encoded = self._tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True)
        return len(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)


def seeded_cpu_kwargs(model: str, engine_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Return ``engine_kwargs`` with, on vLLM-CPU, chunked prefill off and a token budget of a whole context
    (what seeded requests need there; settings given in ``engine_kwargs`` win); unchanged elsewhere."""
    from agents.policies.vllm_memory import kv_shape, on_cpu_build

    if not on_cpu_build():
        return engine_kwargs
    context = engine_kwargs.get("max_model_len") or kv_shape(model).context
    return {"enable_chunked_prefill": False, "max_num_batched_tokens": max(context, 8192)} | engine_kwargs


def start_engine(model: str, **engine_kwargs: Any) -> Any:
    """Return a ``vllm.LLM`` on ``model`` whose memory fits this machine (see
    :mod:`agents.policies.vllm_memory`; memory arguments given in ``engine_kwargs`` win). Raises
    PolicyStartError, in one line, when the engine cannot start."""
    from vllm import LLM

    from agents.policies.vllm_memory import engine_memory_kwargs

    if not {"kv_cache_memory_bytes", "gpu_memory_utilization"} & engine_kwargs.keys():
        engine_kwargs |= engine_memory_kwargs(
            model,
            max_model_len=engine_kwargs.get("max_model_len"),
            sequences=engine_kwargs.get("max_num_seqs") or DEFAULT_SEQUENCES,
            dtype=engine_kwargs.get("dtype", "auto"),
        )
    try:
        return LLM(model=model, **engine_kwargs)
    except Exception as error:  # vLLM reports the cause from its engine process, above this line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise PolicyStartError(
            f"vLLM could not start on {model} ({first[:200]}); if memory is short, lower --max-model-len "
            "or --batch-size, or set --gpu-memory-utilization (GPU) / VLLM_CPU_KVCACHE_SPACE=<GiB> (CPU)"
        ) from None
