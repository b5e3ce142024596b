"""The three policy backends on the tiny model: n completions per conversation in order, stop strings cut,
and a conversation over the context gets empty completions without sinking its batch. The OpenAI backend
talks to a real `vllm serve` (vLLM's OpenAI-compatible server) started for this module."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agents.policies import Policy, SamplingConfig, make_policy
from agents.policies.vllm_policy import VLLMPolicy

CONVERSATIONS = [
    [{"role": "system", "content": "You fix bugs."}, {"role": "user", "content": f"Issue {i}: it crashes."}]
    for i in range(3)
]
TOO_LONG = [{"role": "user", "content": "word " * 5000}]
SERVER_START_LIMIT_S = 180


def check_shapes(policy: Policy) -> None:
    completions = policy.generate([*CONVERSATIONS, TOO_LONG], n=2)
    assert len(completions) == 4
    for samples in completions[:3]:
        assert len(samples) == 2 and all(isinstance(text, str) for text in samples)
    assert any(text for samples in completions[:3] for text in samples)
    assert completions[3] == ["", ""]


def check_stop_cuts_the_completion(make) -> None:
    """A seeded sample, then the same sample with a stop string that occurs in it: cut just before it."""
    seeded = SamplingConfig(temperature=1.0, max_new_tokens=24, seed=11)
    text = make(seeded).generate(CONVERSATIONS[:1])[0][0]
    stops = [char for char in text[1:] if char.isascii() and char.strip()]
    assert stops, f"the seeded sample has no ASCII character to stop at: {text!r}"
    cut = make(replace(seeded, stop=(stops[0],))).generate(CONVERSATIONS[:1])
    assert cut == [[text[: text.index(stops[0])]]]


@pytest.mark.vllm
def test_vllm_policy_gives_n_completions_and_empty_ones_over_the_context(vllm_engine) -> None:
    policy = VLLMPolicy(engine=vllm_engine, sampling=SamplingConfig(max_new_tokens=12, seed=3))
    assert isinstance(policy, Policy)
    check_shapes(policy)


@pytest.mark.vllm
def test_vllm_policy_stop_string_cuts_the_completion(vllm_engine) -> None:
    check_stop_cuts_the_completion(lambda sampling: VLLMPolicy(engine=vllm_engine, sampling=sampling))


def test_transformers_policy_gives_n_completions_and_cuts_at_stop(tiny_model_dir: str) -> None:
    policy = make_policy("transformers", tiny_model_dir, sampling=SamplingConfig(max_new_tokens=12, seed=3))
    check_shapes(policy)

    def remake(sampling: SamplingConfig) -> Policy:
        policy.sampling = sampling
        return policy

    check_stop_cuts_the_completion(remake)


@pytest.fixture(scope="module")
def vllm_server(tiny_model_dir: str) -> Iterator[str]:
    """A real vLLM OpenAI-compatible server on the tiny model at 127.0.0.1; yields its /v1 root."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", tiny_model_dir]
    command += ["--host", "127.0.0.1", "--port", str(port), "--served-model-name", "tiny"]
    command += ["--dtype", "float32", "--enforce-eager", "--max-model-len", "2048", "--seed", "0"]
    command += ["--kv-cache-memory-bytes", "1G"]  # as README says: vLLM-CPU's default share does not fit
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + SERVER_START_LIMIT_S
        while not _answers(f"{base_url}/models"):
            if server.poll() is not None:
                pytest.fail(f"vllm serve exited {server.returncode}: {server.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"vllm serve did not answer within {SERVER_START_LIMIT_S} s")
            time.sleep(1)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.vllm
def test_openai_policy_against_vllm_serve(vllm_server: str, vllm_engine) -> None:
    sampling = SamplingConfig(max_new_tokens=12, seed=3)
    policy = make_policy("openai", "tiny", base_url=vllm_server, sampling=sampling)
    check_shapes(policy)
    check_stop_cuts_the_completion(lambda s: make_policy("openai", "tiny", base_url=vllm_server, sampling=s))
    seeded = SamplingConfig(temperature=1.0, max_new_tokens=16, seed=5)
    served = make_policy("openai", "tiny", base_url=vllm_server, sampling=seeded).generate(CONVERSATIONS)
    in_process = VLLMPolicy(engine=vllm_engine, sampling=seeded).generate(CONVERSATIONS)
    assert served == in_process


def test_make_policy_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="unknown policy kind 'tgi'"):
        make_policy("tgi", "m")
    with pytest.raises(ValueError, match="needs a base_url"):
        make_policy("openai", "m")


def test_request_seeds_derive_from_one_seed_and_the_position() -> None:
    from agents.policies.base import request_seed

    seeds = [request_seed(0, index) for index in range(256)]
    assert len(set(seeds)) == 256 and seeds == [request_seed(0, index) for index in range(256)]
    assert request_seed(1, 0) not in seeds and request_seed(None, 3) is None


@pytest.mark.vllm
def test_seeded_sampling_of_a_rollout_batch_works_and_repeats(tiny_model_dir: str) -> None:
    """32 long prompts x 8 samples, seed 0: vLLM-CPU prefills such a batch in chunks, and a seeded request
    prefilled in chunks killed its engine ("CPU Generator does not use offset")."""
    from agents.policies import close_policy

    words = (Path(__file__).parents[2] / "srl_swe/assets/tiny_corpus.txt").read_text().split()
    conversations = [[{"role": "user", "content": " ".join(words[i * 40 : i * 40 + 900])}] for i in range(32)]
    sampling = SamplingConfig(temperature=1.0, max_new_tokens=8, seed=0)
    policy = VLLMPolicy(
        tiny_model_dir, sampling=sampling, max_num_seqs=256, max_model_len=2048, dtype="float32"
    )
    try:
        assert all(policy.prompt_tokens(c) > 600 for c in conversations)
        first = policy.generate(conversations, n=8)
        again = policy.generate(conversations, n=8)
        policy.sampling = replace(sampling, seed=1)
        other = policy.generate(conversations, n=8)
    finally:
        close_policy(policy)
    assert [len(samples) for samples in first] == [8] * 32
    assert first == again and first != other
