"""Benchmark of the RLVR rollout pool: episodes per minute with 1 against N parallel envs, in one run.

Each episode is a whole RLVR rollout on a demo instance (reset, every action, the graded submission) driven
by a scripted policy that writes the instance's gold fix (no model, so the number is the env side of a
rollout: containers, warm resets, grading). The same episodes run through :func:`run_pooled_episodes` with
a pool of ``max_live`` 1 (one episode after the other) and then N; each pool is warmed by one untimed round
so that both measure warm resets of reused containers.

Episodes come as GRPO asks for them: ``--generations`` copies of each of ``--instances`` demo instances, a
group after the other.

    python benchmarks/bench_rollout_pool.py [--envs 4] [--instances 2] [--generations 4] [--rounds 1]
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table
from transformers import AutoTokenizer

from envs.pool import EnvPool, swe_env_factory
from envs.scripted_expert import scripted_expert_actions
from envs.swe_env import SWEEnvConfig
from harness import TaskInstance, load_instances
from srl_swe.recipes.rollouts import ChatTokens, EpisodeLimits, TokenEpisode, run_pooled_episodes
from srl_swe.tiny_model import build_tiny_model

ASSISTANT_START = "<|im_start|>assistant"


def gold_policy(tokenizer, instances: list[TaskInstance]):
    """Return a Generate callable writing each episode's gold fix, one action per turn (the instance is
    read from the context's issue text, the turn from its assistant turns)."""
    scripts = [(i.problem_statement.strip(), scripted_expert_actions(i)) for i in instances]

    def generate(contexts: list[list[int]]) -> list[tuple[list[int], list[float]]]:
        turns = []
        for context in contexts:
            text = tokenizer.decode(context)
            actions = next(actions for problem, actions in scripts if problem in text)
            action = actions[text.count(ASSISTANT_START) - 1]
            completion = f"<think>\nnext step\n</think>\n```bash\n{action}\n```"
            ids = [*tokenizer(completion, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
            turns.append((ids, [0.0] * len(ids)))
        return turns

    return generate


def episodes_per_minute(
    max_live: int, instances: list[TaskInstance], generate, chat: ChatTokens, rounds: int
) -> tuple[float, list[TokenEpisode]]:
    """Return episodes per minute through a pool of ``max_live`` envs (after one warm-up round), and the
    episodes of the last round."""
    factory = swe_env_factory(SWEEnvConfig(step_timeout_s=60.0), max_steps=20)
    limits = EpisodeLimits(max_turn_tokens=512, max_model_len=1_000_000, max_observation_tokens=2048)
    with EnvPool(factory, max_live, instances) as pool:
        run_pooled_episodes(pool, instances, generate, chat, limits)
        started = time.monotonic()
        for _ in range(rounds):
            episodes = run_pooled_episodes(pool, instances, generate, chat, limits)
        elapsed = time.monotonic() - started
    return 60.0 * len(instances) * rounds / elapsed, episodes


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=4, help="parallel envs of the second pool (N)")
    parser.add_argument("--instances", type=int, default=2, help="demo instances per round (prompts)")
    parser.add_argument("--generations", type=int, default=4, help="episodes per instance (a group)")
    parser.add_argument("--rounds", type=int, default=1, help="timed rounds per pool")
    args = parser.parse_args()
    demo = load_instances("demo")
    instances = [instance for instance in demo[: args.instances] for _ in range(args.generations)]
    tokenizer = AutoTokenizer.from_pretrained(str(build_tiny_model()))
    chat, generate = ChatTokens(tokenizer), gold_policy(tokenizer, demo)
    title = (
        f"RLVR rollouts: {args.instances} instances x {args.generations} gold-policy episodes per round, "
        f"{args.rounds} round(s)"
    )
    table = Table(title=title)
    for column in ("parallel envs", "episodes/min", "resolved", "vs 1 env"):
        table.add_column(column, justify="right")
    baseline = None
    for max_live in (1, args.envs):
        rate, episodes = episodes_per_minute(max_live, instances, generate, chat, args.rounds)
        baseline = baseline or rate
        resolved = sum(e.resolved for e in episodes)
        table.add_row(str(max_live), f"{rate:.1f}", f"{resolved}/{len(episodes)}", f"{rate / baseline:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
