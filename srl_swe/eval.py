"""`python -m srl_swe.eval`: grade patches on a task set in real containers and report as swebench does.

Modes (gold: srl_swe.eval_gold; oracle and e2e: srl_swe.eval_policy):
  gold    validate the task instances: every gold patch must resolve its instance and, as a control, an
          empty patch must resolve none. Prints a table, writes swebench-style reports, exits 1 on a failure.
  oracle  the policy sees the issue and the files the gold patch edits and answers with SEARCH/REPLACE
          edits (agents.oracle), which become its patch.
  e2e     the policy works in SWEEnv (agents.loop) until it submits or reaches --max-steps, where the
          patch is graded as if submitted; each episode is also written as a SWE-agent .traj.

oracle and e2e write, under <run-dir>/<run-id>/: predictions.jsonl (swebench's instance_id,
model_name_or_path, model_patch), replies/ (oracle) or trajectories/ (e2e), and the grading of
harness.evaluation (<model>/<instance>/ logs and <model>.<run-id>.json, the run report). A rerun skips the
instances already in predictions.jsonl and those already graded.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from agents.policies import POLICY_KINDS
from srl_swe.config import ConfigError, parse_config

MODES = ("gold", "oracle", "e2e")


@dataclass
class EvalConfig:
    """Settings of an evaluation run."""

    mode: str = field(default="gold", metadata={"help": "what to grade", "choices": MODES})
    task: str = field(default="demo", metadata={"help": "task set: demo, swe-bench-verified, swe-gym, ..."})
    path: str | None = field(
        default=None, metadata={"help": "local JSON/JSONL/Parquet file or folder of rows"}
    )
    instance_ids: list[str] | None = field(default=None, metadata={"help": "only these instances"})
    image_map: str | None = field(default=None, metadata={"help": "JSON/YAML file: instance_id -> image"})
    workers: int = field(default=2, metadata={"help": "instances graded in parallel"})
    timeout_s: float = field(default=1800.0, metadata={"help": "limit for one instance's tests, seconds"})
    run_dir: str = field(default="runs/eval", metadata={"help": "where logs and reports are written"})
    run_id: str | None = field(default=None, metadata={"help": "name of this run (default: <mode>-<task>)"})
    control: bool = field(
        default=True, metadata={"help": "gold mode: also grade an empty patch per instance"}
    )
    model: str | None = field(
        default=None, metadata={"help": "oracle/e2e: local model folder or hub id (default: the tiny model)"}
    )
    policy: str = field(
        default="vllm", metadata={"help": "oracle/e2e: how completions are made", "choices": POLICY_KINDS}
    )
    base_url: str | None = field(
        default=None, metadata={"help": "policy openai: the server's /v1 root, e.g. http://127.0.0.1:8000/v1"}
    )
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={"help": "policy openai: API key variable"})
    served_model: str | None = field(
        default=None, metadata={"help": "policy openai: model name the server knows (None: --model)"}
    )
    max_model_len: int | None = field(
        default=None, metadata={"help": "policy vllm: context length of the engine (None: the model's)"}
    )
    gpu_memory_utilization: float | None = field(
        default=None,
        metadata={
            "help": "policy vllm: share of the GPU (on the CPU build: of the NUMA node) the engine takes "
            "(None: on a GPU vLLM's default, on the CPU a KV cache sized for max-model-len x batch-size)"
        },
    )
    dtype: str = field(default="auto", metadata={"help": "policy vllm/transformers: weights' dtype"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0: greedy)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling mass"})
    max_new_tokens: int = field(default=1024, metadata={"help": "longest completion, tokens"})
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    max_steps: int = field(default=30, metadata={"help": "e2e: actions per episode before it is graded"})
    context_steps: int = field(
        default=2, metadata={"help": "e2e: earlier (action, observation) pairs in each prompt (-1: all)"}
    )
    step_timeout_s: float = field(default=60.0, metadata={"help": "e2e: limit of one action, seconds"})
    batch_size: int = field(
        default=8, metadata={"help": "oracle/e2e: instances whose prompts go to the policy together"}
    )
    verbose: bool = field(
        default=False, metadata={"help": "show vLLM's, transformers' and torch's own logs and warnings"}
    )


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation CLI; return the process exit code (1 when an instance fails validation)."""
    from agents.policies import PolicyStartError
    from harness.errors import HarnessError
    from harness.sandbox import SandboxError
    from srl_swe.eval_gold import run_gold
    from srl_swe.eval_policy import PolicyEvalError, run_policy_mode
    from srl_swe.framework_logs import quiet_frameworks
    from srl_swe.models import ModelNotFoundError

    try:
        config = parse_config(EvalConfig, argv, "python -m srl_swe.eval", __doc__.splitlines()[0])
        quiet_frameworks(verbose=config.verbose)
        return run_gold(config) if config.mode == "gold" else run_policy_mode(config)
    except (
        ConfigError,
        HarnessError,
        SandboxError,
        ModelNotFoundError,
        PolicyEvalError,
        PolicyStartError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: finished instances are kept; run the same command again to resume", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
