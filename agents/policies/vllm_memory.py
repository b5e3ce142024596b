"""Memory of an in-process vLLM engine, sized for the hardware it finds instead of vLLM's defaults.

On a GPU vLLM reserves ``gpu_memory_utilization`` of the device (a flag, vLLM's default when unset). On the
CPU build the same flag means a share of the whole NUMA node (92% by default), which a machine running
anything else cannot give, so the engine dies at start. There the KV cache is sized instead for what the
run needs: ``max_model_len`` tokens for each sequence the caller schedules at once, at most
:data:`CPU_KV_CACHE_SHARE` of the node's free memory, split evenly between the processes of one distributed
run on this machine (each starts an engine of its own at about the same time). A size the user chose
(``VLLM_CPU_KVCACHE_SPACE``, ``kv_cache_memory_bytes`` or ``gpu_memory_utilization``) is left alone.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from agents.policies.base import PolicyStartError

GiB = 1 << 30
CPU_KV_CACHE_SHARE = 0.5
"""Most of the NUMA node's free memory the KV cache may take; the rest is for weights and activations."""
CPU_KV_CACHE_FLOOR = 64 << 20
"""Least KV cache reserved, bytes: vLLM rounds to blocks, a tiny model must not get a few kilobytes."""
TOKEN_ROUNDING = 256
"""Tokens per sequence are rounded up to this, a multiple of vLLM's block sizes."""
MAX_SEQUENCES = 256
"""More concurrent sequences than this are not sized for (vLLM's own default batch)."""
USER_CPU_SETTING = "VLLM_CPU_KVCACHE_SPACE"
LOCAL_SIZE_VARIABLES = ("LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS")
"""Where launchers say how many processes of the run share this machine: torchrun (``accelerate launch``),
Open MPI, Intel MPI."""


class EngineMemoryError(PolicyStartError):
    """The engine cannot get the memory it needs here; the message says why and which flag to change."""


@dataclass(frozen=True)
class KVShape:
    """What one token costs in a model's KV cache, and the model's own context length."""

    layers: int
    kv_heads: int
    head_dim: int
    context: int

    def bytes_per_token(self, dtype_bytes: int) -> int:
        """Return the KV cache bytes of one token: keys and values of every layer."""
        return 2 * self.layers * self.kv_heads * self.head_dim * dtype_bytes


def kv_shape(model: str) -> KVShape:
    """Return the KV shape of ``model`` (a local folder or hub id) from its config."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model).get_text_config()
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return KVShape(
        layers=config.num_hidden_layers,
        kv_heads=getattr(config, "num_key_value_heads", None) or heads,
        head_dim=head_dim,
        context=config.max_position_embeddings,
    )


def on_cpu_build() -> bool:
    """Return whether the installed vLLM runs on the CPU (the ``vllm-cpu`` build, or no accelerator)."""
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def free_node_memory() -> int:
    """Return the bytes free on the NUMA node vLLM-CPU binds to (node 0), as vLLM itself counts them."""
    from vllm.utils.cpu_resource_utils import get_memory_node_info

    return get_memory_node_info(0).available_memory


def processes_on_this_node() -> int:
    """Return how many processes of this distributed run share this machine (1 outside a launcher)."""
    for name in LOCAL_SIZE_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return max(1, int(os.environ[name]))
    return 1


def cpu_kv_cache_bytes(
    model: str,
    max_model_len: int | None,
    sequences: int,
    dtype: str = "auto",
    free: int | None = None,
    processes: int = 1,
) -> int:
    """Return the KV cache bytes for ``sequences`` sequences of ``max_model_len`` tokens (None: the
    model's context), capped by :data:`CPU_KV_CACHE_SHARE` of ``free`` (default: the node's free memory)
    divided by the ``processes`` that each start an engine on this node.

    Raises EngineMemoryError when not even one sequence fits."""
    shape = kv_shape(model)
    tokens = math.ceil((max_model_len or shape.context) / TOKEN_ROUNDING) * TOKEN_ROUNDING
    per_sequence = tokens * shape.bytes_per_token(4 if dtype == "float32" else 2)
    node_free = free_node_memory() if free is None else free
    budget = int(CPU_KV_CACHE_SHARE * node_free / processes)
    if per_sequence > budget:
        share = "half the NUMA node's free memory" + (f" over {processes} processes" if processes > 1 else "")
        raise EngineMemoryError(
            f"vLLM's KV cache for one sequence of {tokens} tokens of {model} needs "
            f"{per_sequence / GiB:.2f} GiB, more than the {budget / GiB:.2f} GiB it may take here "
            f"({share}): lower --max-model-len, or set {USER_CPU_SETTING}=<GiB>"
        )
    wanted = per_sequence * max(1, min(sequences, MAX_SEQUENCES))
    return max(CPU_KV_CACHE_FLOOR, min(wanted, budget // per_sequence * per_sequence))


def engine_memory_kwargs(
    model: str,
    *,
    max_model_len: int | None,
    sequences: int,
    dtype: str = "auto",
    gpu_memory_utilization: float | None = None,
) -> dict[str, Any]:
    """Return the memory arguments of ``vllm.LLM`` for this hardware: ``gpu_memory_utilization`` when
    given, on the CPU build ``kv_cache_memory_bytes`` sized for the run unless the user set
    VLLM_CPU_KVCACHE_SPACE, else nothing (vLLM's defaults)."""
    if gpu_memory_utilization is not None:
        return {"gpu_memory_utilization": gpu_memory_utilization}
    if not on_cpu_build() or os.environ.get(USER_CPU_SETTING):
        return {}
    return {"kv_cache_memory_bytes": cpu_kv_cache_bytes(model, max_model_len, sequences, dtype)}


def size_cpu_kv_cache_for_process(
    model: str, max_model_len: int | None, sequences: int, processes: int = 1
) -> int | None:
    """On the CPU build, set VLLM_CPU_KVCACHE_SPACE (whole GiB) for engines this process starts without
    memory arguments of ours (TRL's colocated vLLM), unless the user set it; ``processes``: how many
    processes on this node start one. Return the GiB set, or None when nothing was set."""
    if os.environ.get(USER_CPU_SETTING) or not on_cpu_build():
        return None
    space = max(1, math.ceil(cpu_kv_cache_bytes(model, max_model_len, sequences, processes=processes) / GiB))
    os.environ[USER_CPU_SETTING] = str(space)
    return space
