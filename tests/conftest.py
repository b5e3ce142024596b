"""Session fixtures shared by every package's tests: the tiny model and one real vLLM engine."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir() -> str:
    """The embedded default model (built once, cached across runs)."""
    from srl_swe.tiny_model import build_tiny_model

    return str(build_tiny_model())


@pytest.fixture(scope="session")
def vllm_engine(tiny_model_dir: str):
    """One in-process vLLM engine on the tiny model, started as the policies start theirs (memory sized for
    this machine), shut down at the end of the session."""
    from agents.policies.vllm_policy import start_engine

    engine = start_engine(tiny_model_dir, dtype="float32", enforce_eager=True, seed=0, max_model_len=2048)
    yield engine
    engine.llm_engine.engine_core.shutdown()
    del engine
    gc.collect()
