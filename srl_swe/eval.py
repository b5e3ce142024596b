"""`python -m srl_swe.eval`: grade patches on a task set in real containers and report as swebench does.

Modes (gold: srl_swe.eval_gold; oracle and e2e: srl_swe.eval_policy; agentless: srl_swe.eval_agentless;
predictions: srl_swe.eval_predictions; steps: srl_swe.eval_steps):
  gold    validate the task instances: every gold patch must resolve its instance and, as a control, an
          empty patch must resolve none. Prints a table, writes swebench-style reports, exits 1 on a failure.
  oracle  the policy sees the issue and the files the gold patch edits and answers with SEARCH/REPLACE
          edits, which become its patch: SWE-RL's prompt and reading (agents.swe_rl, the paper's "oracle
          file edit" setting) by default, ours with --oracle-prompt ours (agents.oracle).
  agentless  SWE-RL's Agentless Mini (agents.agentless): localize files, sample repairs, filter them by the
          repository's tests and by generated reproduction tests, choose one by majority vote; each stage
          is kept per instance under agentless/<instance>/<stage>.json and a per-stage report is printed
          and written (agentless_report.json).
  e2e     the policy works in SWEEnv (agents.loop) until it submits or reaches --max-steps, where the
          patch is graded as if submitted; each episode is also written as a SWE-agent .traj.
  predictions  any agent's patches from a SWE-bench predictions file (--predictions FILE: JSONL, JSON list
          or preds.json), graded as the modes above under the file's model_name_or_path
          (srl_swe.eval_predictions); a null or missing patch is an empty patch.
  steps   held-out step examples (--steps DIR): the policy's action per step, greedy and --samples at
          --sample-temperature, scored by the SRL reward; mean step reward, format-error and exact-match
          rates, similarity of well-formed actions, per command kind; a table and <run-id>/steps.json.

oracle, agentless and e2e write, under <run-dir>/<run-id>/ (default run id: <mode>-<task>-<model>):
manifest.json (what made the run: srl_swe.eval_manifest), predictions.jsonl (swebench's instance_id,
model_name_or_path, model_patch), replies/ (oracle) or trajectories/ (e2e), and the grading of
harness.evaluation (<model>/<instance>/ logs and <model>.<run-id>.json, the run report). A rerun with the
same manifest skips the instances already in predictions.jsonl and reuses a graded result only when its
instance, patch and image id all match (--force regrades); a rerun with another setting stops with one line
naming it (a new --run-id keeps both runs, --force starts the folder over). Grading containers have
SWE-bench's settings (network on, no memory or pids limit) unless --grade-network-mode / --grade-memory /
--grade-pids-limit say otherwise. Flags are parsed by TRL's parser, as in srl_swe.train (dashes or
underscores; --config FILE.yaml first, flags win).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from srl_swe.eval_config import MODES, EvalConfig
from srl_swe.framework_logs import quiet_frameworks, verbose_requested

__all__ = ["MODES", "EvalConfig", "main", "parse"]
PROG = "python -m srl_swe.eval"


class ConfigError(ValueError):
    """A `--config` file or a value that does not fit EvalConfig; one line."""


def parse(argv: Sequence[str]) -> EvalConfig:
    """Return the run's settings: EvalConfig's defaults < `--config FILE.yaml` < the flags (TRL's parser, as
    `srl_swe.train` uses); raise ConfigError in one line for a bad file or value."""
    from trl import TrlParser

    argv = list(argv)
    source = argv[argv.index("--config") + 1] if "--config" in argv[:-1] else None
    parser = TrlParser((EvalConfig,), prog=PROG, description=__doc__.splitlines()[0])
    try:
        (config,) = parser.parse_args_and_config(args=argv)
    except Exception as error:  # a missing or bad YAML file, an unknown key, a value out of range
        if not isinstance(error, (ValueError, TypeError, OSError)) and not type(error).__module__.startswith(
            "yaml"
        ):
            raise
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        if type(error).__module__.startswith("yaml"):
            first = f"not valid YAML ({first})"
        where = f"config file {source}: " if source and source not in first else ""
        raise ConfigError(f"{where}{first}") from None
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation CLI; return the process exit code (1 when an instance fails validation, 2 on bad
    input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_frameworks(verbose=verbose_requested(argv))  # before TRL, transformers or vLLM is imported

    from agents.policies import PolicyStartError
    from harness.errors import HarnessError
    from harness.sandbox import SandboxError
    from srl_swe.eval_agentless import run_agentless_mode
    from srl_swe.eval_gold import run_gold
    from srl_swe.eval_manifest import ManifestMismatch
    from srl_swe.eval_policy import PolicyEvalError, run_policy_mode
    from srl_swe.eval_predictions import PredictionsFileError, run_predictions_mode
    from srl_swe.eval_steps import StepEvalError, run_steps_mode
    from srl_swe.models import ModelNotFoundError
    from srl_swe.report import report_at_end

    try:
        config = parse(argv)
        modes = {
            "gold": run_gold,
            "steps": run_steps_mode,
            "agentless": run_agentless_mode,
            "predictions": run_predictions_mode,
        }
        run_mode = modes.get(config.mode, run_policy_mode)
        status = run_mode(config)
        report_at_end(run_folder(config))
        return status
    except (
        ConfigError,
        HarnessError,
        SandboxError,
        ModelNotFoundError,
        PolicyEvalError,
        PolicyStartError,
        StepEvalError,
        ManifestMismatch,
        PredictionsFileError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: finished instances are kept; run the same command again to resume", file=sys.stderr
        )
        return 130


def run_folder(config: EvalConfig) -> Path:
    """Return the folder a mode writes its run to (``<run-dir>/<run-id>``; the report page goes there): the
    default run ids the modes use, which name the model (or the predictions file's) except in gold mode."""
    from srl_swe.eval_manifest import default_run_id
    from srl_swe.eval_policy import model_name
    from srl_swe.eval_predictions import read_predictions_file

    if config.run_id:
        return Path(config.run_dir) / config.run_id
    if config.mode == "gold":
        return Path(config.run_dir) / f"{config.mode}-{config.task}"
    if config.mode == "steps":
        name = model_name(config.model).replace("/", "__")
        return Path(config.run_dir) / f"steps-{Path(config.steps).name}-{name}"
    name = read_predictions_file(config.predictions)[0] if config.mode == "predictions" else None
    return Path(config.run_dir) / default_run_id(config, name or model_name(config.model))


if __name__ == "__main__":
    sys.exit(main())
