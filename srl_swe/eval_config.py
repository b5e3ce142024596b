"""Settings of `python -m srl_swe.eval` (one dataclass: every field is a flag and a `--config` YAML key).

Kept apart from the modes that read it (srl_swe.eval_gold, srl_swe.eval_policy) and the command that parses
it (srl_swe.eval), so that none of them imports another in a circle.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from agents.policies import POLICY_KINDS
from agents.swe_rl_prompts import load_prompt_texts
from harness.executors import EXECUTORS, Executor, open_executor
from harness.grading import GradingConfig

MODES = ("gold", "oracle", "e2e", "agentless", "steps", "predictions")
ORACLE_PROMPTS = ("swe-rl", "ours")
AGENTLESS_STAGES = ("localize", "repair", "regression", "reproduction", "select")
SWE_RL_MAX_NEW_TOKENS = 4096
"""SWE-RL's completion budget (its Agentless Mini's `max_tokens` default): oracle and agentless modes' own."""


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
    fail_fast: bool = field(
        default=False,
        metadata={
            "help": "stop before grading when an instance's image is missing and cannot be pulled (default: "
            "grade the others and report those as error instances, exit 1)"
        },
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
    workers: int = field(
        default=2,
        metadata={"help": "instances graded in parallel (--executor ray: slots of a local cluster)"},
    )
    executor: str = field(
        default="local",
        metadata={
            "help": "where sandboxes run: local (this machine's engine) or ray (actors on a Ray cluster's "
            "nodes, each on its own engine; needs the ray extra)",
            "choices": EXECUTORS,
        },
    )
    ray_address: str | None = field(
        default=None,
        metadata={
            "help": "--executor ray: the cluster to join (auto, HOST:PORT, ray://HOST:PORT; None: start a "
            "local one with --workers sandbox slots)"
        },
    )
    max_retries: int = field(
        default=2,
        metadata={"help": "--executor ray: regradings of an instance whose worker or node died mid-instance"},
    )
    timeout_s: float = field(default=1800.0, metadata={"help": "limit for one instance's tests, seconds"})
    run_dir: str = field(default="runs/eval", metadata={"help": "where logs and reports are written"})
    run_id: str | None = field(
        default=None,
        metadata={"help": "name of this run (default: <mode>-<task>, and -<model> in a policy mode)"},
    )
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
    max_new_tokens: int | None = field(
        default=None,
        metadata={
            "help": f"longest completion, tokens (None: {SWE_RL_MAX_NEW_TOKENS} in oracle/agentless mode, as "
            "SWE-RL, else 1024)"
        },
    )
    oracle_prompt: str = field(
        default="swe-rl",
        metadata={
            "help": "oracle: swe-rl (SWE-RL's prompt and reading of the reply, the paper's setting) or ours "
            "(our shorter prompt, strict edits)",
            "choices": ORACLE_PROMPTS,
        },
    )
    thinking: bool = field(
        default=True,
        metadata={
            "help": "oracle swe-rl/agentless: SWE-RL's thinking system prompt (<think> then <solution>) "
            "(--no-thinking: the user turn alone, as Agentless Mini sends it)"
        },
    )
    prompt_texts: str | None = field(
        default=None,
        metadata={
            "help": "oracle swe-rl/agentless: YAML file with the keys system, repair, localization: the "
            "prompts' wording, e.g. SWE-RL's own for a word-for-word reproduction (default: SWE-RL's format "
            "in our words, agents.swe_rl_prompts)"
        },
    )
    agentless_stages: list[str] = field(
        default_factory=lambda: list(AGENTLESS_STAGES),
        metadata={
            "help": "agentless: stages to run, of localize (without it, --gold-localization is needed), "
            "repair, regression, reproduction, select (repair and select always run)"
        },
    )
    gold_localization: bool = field(
        default=False,
        metadata={
            "help": "agentless without the localize stage: repair the files the gold patch edits (the "
            "report then says gold localization); never used unless given"
        },
    )
    localize_samples: int = field(
        default=1,
        metadata={
            "help": "agentless: localization samples (1: greedy, at most 5 files; more: SWE-RL's "
            "shuffled tree, 2-5 files, at --agentless-temperature)"
        },
    )
    repair_samples: int = field(
        default=8,
        metadata={
            "help": "agentless: repair samples per instance at --agentless-temperature (SWE-RL's "
            "headline result: 500)"
        },
    )
    reproduction_samples: int = field(
        default=4,
        metadata={"help": "agentless: reproduction tests per instance, one greedy and the rest sampled"},
    )
    agentless_temperature: float = field(
        default=0.8, metadata={"help": "agentless: temperature of the sampled completions of every stage"}
    )
    agentless_max_input_chars: int = field(
        default=240_000,
        metadata={
            "help": "agentless: repair context budget in characters (SWE-RL: 60k tokens); files "
            "past it are left out"
        },
    )
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    max_steps: int = field(default=30, metadata={"help": "e2e: actions per episode before it is graded"})
    context_steps: int = field(
        default=2, metadata={"help": "e2e: earlier (action, observation) pairs in each prompt (-1: all)"}
    )
    step_timeout_s: float = field(
        default=60.0,
        metadata={"help": "e2e: limit of one action; agentless: of one reproduction script, seconds"},
    )
    batch_size: int = field(
        default=8,
        metadata={
            "help": "oracle/e2e: instances whose prompts go to the policy together; steps: sequences the "
            "engine schedules at once, times --samples"
        },
    )
    predictions: str | None = field(
        default=None,
        metadata={
            "help": "predictions: a SWE-bench predictions file (JSONL, JSON list, or SWE-agent's preds.json) "
            "of instance_id, model_name_or_path, model_patch, from any agent"
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
        if self.max_new_tokens is None:
            self.max_new_tokens = SWE_RL_MAX_NEW_TOKENS if self.mode in ("oracle", "agentless") else 1024
        if self.oracle_prompt not in ORACLE_PROMPTS:
            raise ValueError(
                f"oracle_prompt must be one of {', '.join(ORACLE_PROMPTS)}, not {self.oracle_prompt!r}"
            )
        if isinstance(self.agentless_stages, str):
            self.agentless_stages = [self.agentless_stages]
        unknown = [stage for stage in self.agentless_stages if stage not in AGENTLESS_STAGES]
        if unknown:
            raise ValueError(f"agentless_stages: {unknown[0]!r} is not one of {', '.join(AGENTLESS_STAGES)}")
        localized = "localize" in self.agentless_stages or self.gold_localization
        if self.mode == "agentless" and not localized:
            raise ValueError(
                "agentless_stages without localize: pass --gold-localization to repair the gold patch's "
                "files (oracle localization), or add localize"
            )
        for name in (
            "workers",
            "batch_size",
            "max_steps",
            "max_new_tokens",
            "localize_samples",
            "repair_samples",
            "reproduction_samples",
            "agentless_max_input_chars",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
        for name in ("timeout_s", "step_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be a number of seconds > 0, not {value!r}")
        if self.mode == "predictions" and not self.predictions:
            raise ValueError("mode predictions needs --predictions FILE: a SWE-bench predictions file")
        if self.mode == "steps" and not self.steps:
            raise ValueError("mode steps needs --steps DIR: a saved step dataset")
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 0:
            raise ValueError(f"samples must be a whole number >= 0, not {self.samples!r}")
        if isinstance(self.instance_ids, str):
            self.instance_ids = [self.instance_ids]
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {self.executor!r}")
        if self.executor == "ray" and self.mode == "steps":
            raise ValueError("mode steps runs no sandbox: --executor ray has nothing to place (use local)")
        retries = self.max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, not {self.max_retries!r}")
        load_prompt_texts(self.prompt_texts)  # a bad file fails here, in one line, before any work
        self.grading()

    def open_executor(self) -> AbstractContextManager[Executor]:
        """Return a context manager yielding the executor this run grades on (--executor, --workers,
        --ray-address, --max-retries, --pull)."""
        return open_executor(
            self.executor,
            workers=self.workers,
            address=self.ray_address,
            max_retries=self.max_retries,
            pull=self.pull,
        )

    def missing_images(self, instances: list) -> dict[str, str]:
        """Make the instances' images available on this machine's engine (demo images built, others pulled
        unless --no-pull); return the instances whose image is still missing, by id, with the cause.
        --fail-fast raises ImageMissingError instead."""
        from harness.images import ensure_each_image, ensure_images

        if self.fail_fast:
            ensure_images(instances, pull=self.pull)
            return {}
        return ensure_each_image(instances, pull=self.pull)

    def grading(self) -> GradingConfig:
        """Return the grading sandbox's settings (network, memory, pids) this run asks for."""
        return GradingConfig(
            network_mode=self.grade_network_mode, memory=self.grade_memory, pids_limit=self.grade_pids_limit
        )
