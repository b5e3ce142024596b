"""Settings of `python -m srl_swe.eval` (one dataclass: every field is a flag and a `--config` YAML key).

Kept apart from the modes that read it (srl_swe.eval_gold, srl_swe.eval_policy) and the command that parses
it (srl_swe.eval), so that none of them imports another in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.policies import POLICY_KINDS
from harness.grading import GradingConfig

MODES = ("gold", "oracle", "e2e", "steps")


@dataclass
class EvalConfig:
    """Settings of an evaluation run."""

    mode: str = field(default="gold", metadata={"help": "what to grade", "choices": MODES})
    task: str = field(default="demo", metadata={"help": "task set: demo, swe-bench-verified, swe-gym, ..."})
    path: str | None = field(
        default=None, metadata={"help": "local JSON/JSONL/Parquet file or folder of rows"}
    )
    instance_ids: list[str] | None = field(
        default=None, metadata={"help": "only these instances (one or many)"}
    )
    image_map: str | None = field(default=None, metadata={"help": "JSON/YAML file: instance_id -> image"})
    pull: bool = field(
        default=True,
        metadata={"help": "pull missing images when a registry answers (--no-pull: never; one line instead)"},
    )
    force: bool = field(
        default=False,
        metadata={
            "help": "regrade every instance (default: reuse a result of the same instance, patch, image)"
        },
    )
    grade_network_mode: str = field(
        default="bridge",
        metadata={"help": "network of the grading containers: bridge (on, as SWE-bench grades) or none"},
    )
    grade_memory: str | None = field(
        default=None,
        metadata={"help": "memory limit of a grading container, e.g. 4g (None: none, as SWE-bench)"},
    )
    grade_pids_limit: int | None = field(
        default=None,
        metadata={"help": "most processes in a grading container (None: no limit, as SWE-bench)"},
    )
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
        default=8,
        metadata={
            "help": "oracle/e2e: instances whose prompts go to the policy together; steps: sequences the "
            "engine schedules at once, times --samples"
        },
    )
    steps: str | None = field(
        default=None,
        metadata={"help": "steps: a saved step dataset (e.g. OUT-validation of `srl_swe.data build`)"},
    )
    samples: int = field(
        default=8,
        metadata={
            "help": "steps: completions sampled per step at --sample-temperature, besides greedy (paper: 8)"
        },
    )
    sample_temperature: float = field(
        default=1.0, metadata={"help": "steps: temperature of the sampled completions (paper: 1.0)"}
    )
    verbose: bool = field(
        default=False, metadata={"help": "show vLLM's, transformers' and torch's own logs and warnings"}
    )

    def __post_init__(self) -> None:
        """Check the values a YAML file may have set wrong; raise ValueError naming the field."""
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.policy not in POLICY_KINDS:
            raise ValueError(f"policy must be one of {', '.join(POLICY_KINDS)}, not {self.policy!r}")
        for name in ("workers", "batch_size", "max_steps", "max_new_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
        for name in ("timeout_s", "step_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be a number of seconds > 0, not {value!r}")
        if self.mode == "steps" and not self.steps:
            raise ValueError("mode steps needs --steps DIR: a saved step dataset")
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 0:
            raise ValueError(f"samples must be a whole number >= 0, not {self.samples!r}")
        if isinstance(self.instance_ids, str):
            self.instance_ids = [self.instance_ids]
        self.grading()

    def grading(self) -> GradingConfig:
        """Return the grading sandbox's settings (network, memory, pids) this run asks for."""
        return GradingConfig(
            network_mode=self.grade_network_mode, memory=self.grade_memory, pids_limit=self.grade_pids_limit
        )
