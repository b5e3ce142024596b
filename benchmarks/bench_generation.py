"""Generation throughput: vLLM in-process against transformers ``generate``, same prompts and sampling.

    python benchmarks/bench_generation.py [--prompts 32] [--samples 8] [--max-new-tokens 32] [--model M]

The prompts are real SRL step prompts (the demo's step examples, cycled to ``--prompts``); each backend
samples ``--samples`` completions per prompt at temperature 1.0 with seed 0 and at most ``--max-new-tokens``
tokens, through the project's policies (:class:`VLLMPolicy`: one batched call, seeded per request;
:class:`TransformersPolicy`: ``generate`` per prompt with ``num_return_sequences``). Tokens are the
completions' texts re-encoded by the model's tokenizer, the same count for both. Start-up (engine, weights)
and one warm-up call are not timed. Prints tokens/s of each and the ratio, vLLM over transformers.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table


def step_prompts(count: int) -> list[list[dict[str, str]]]:
    """Return ``count`` step prompts of the demo's trajectories (cycled when there are fewer)."""
    from srl_swe.steps import step_dataset
    from srl_swe.train import DEMO_TRAJECTORIES
    from srl_swe.trajectories import read

    prompts = [list(p) for p in step_dataset(read(DEMO_TRAJECTORIES))["prompt"]]
    return [prompts[i % len(prompts)] for i in range(count)]


def timed(policy, prompts, samples: int, tokenizer) -> tuple[int, int, float]:
    """Return (completions, tokens, seconds) of one timed ``generate`` call after an untimed warm-up."""
    policy.generate(prompts[:1], n=1)
    start = time.perf_counter()
    outputs = policy.generate(prompts, n=samples)
    seconds = time.perf_counter() - start
    texts = [text for samples_ in outputs for text in samples_]
    return len(texts), sum(len(tokenizer.encode(text)) for text in texts), seconds


def main() -> None:
    """Run both backends on the same prompts and print their tokens/s and the ratio."""
    from srl_swe.framework_logs import quiet_frameworks

    quiet_frameworks(verbose=False)
    from transformers import AutoTokenizer

    from agents.policies import SamplingConfig, close_policy
    from agents.policies.transformers_policy import TransformersPolicy
    from agents.policies.vllm_policy import VLLMPolicy
    from srl_swe.models import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--model", default=None, help="local folder or hub id (default: the tiny model)")
    args = parser.parse_args()

    model = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(model)
    prompts = step_prompts(args.prompts)
    sampling = SamplingConfig(temperature=1.0, max_new_tokens=args.max_new_tokens, seed=0)
    results = {}
    vllm = VLLMPolicy(model, sampling=sampling, max_num_seqs=args.prompts * args.samples, dtype="float32")
    try:
        results["vLLM (in-process, one batched call)"] = timed(vllm, prompts, args.samples, tokenizer)
    finally:
        close_policy(vllm)
    plain = TransformersPolicy(model, sampling=sampling, dtype="float32")
    results["transformers generate (per prompt)"] = timed(plain, prompts, args.samples, tokenizer)

    table = Table(title=f"generation: {args.prompts} prompts x {args.samples} samples, T=1.0, seed 0")
    for column in ("backend", "completions", "tokens", "seconds", "tokens/s"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for name, (completions, tokens, seconds) in results.items():
        table.add_row(name, str(completions), str(tokens), f"{seconds:.2f}", f"{tokens / seconds:.0f}")
    console = Console()
    console.print(table)
    (vllm_rate, plain_rate) = (tokens / seconds for _, tokens, seconds in results.values())
    console.print(f"vLLM / transformers: {vllm_rate / plain_rate:.1f}x tokens/s")


if __name__ == "__main__":
    main()
