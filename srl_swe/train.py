"""``python -m srl_swe.train``: train a policy with a recipe (srl, sft: step examples; rlvr, srl-rlvr: SWEEnv)

    python -m srl_swe.train --recipe srl --task demo [--preset cpu-demo] [--model M] [--steps_data DIR]
        [--trajectories PATH] [--output_dir DIR] [--resume] [--config FILE.yaml] [--<any config field> V]
    python -m srl_swe.train --recipe rlvr --task demo [--preset cpu-demo] [--model M] [--image-map FILE]
        [--expert_shaping W] ...
    python -m srl_swe.train --recipe srl-rlvr --task demo [--init-from DIR] ...

The step dataset is ``--steps_data`` when given; otherwise it is built once into ``OUTPUT_DIR/steps`` from
``--trajectories``, or from the task's published expert trajectories (``demo``: the shipped demo
trajectories; ``swe-gym``: SWE-Gym's OpenHands SFT trajectories; ``swe-smith``: SWE-smith's trajectories).
The RLVR recipes train on the task set's instances in real containers instead (``--image-map`` overrides their
images); ``srl-rlvr`` starts from ``--init-from DIR``, else from the last SRL run of the task
(``runs/train/srl-<task>``: its final model, else its last checkpoint).
The model defaults to the embedded tiny model. Every field of the recipe's config (``SRLConfig``,
``StepSFTConfig``, ``RLVRConfig``) is a flag and a YAML key; values come from the config's defaults, then
``--preset``, then ``--config``, then the command line. Checkpoints are TRL's (``OUTPUT_DIR/checkpoint-N``);
``--resume`` continues from the last one. The run ends with a table of the logged metrics and a PNG of their
curves.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

RECIPES = ("srl", "sft", "rlvr", "srl-rlvr")
RLVR_RECIPES = ("rlvr", "srl-rlvr")
DEMO_TRAJECTORIES = Path(__file__).parent / "assets" / "demo_trajectories"
# Expert trajectories published for a task set, read when --trajectories is not given.
HUB_TRAJECTORIES = {
    "swe-gym": "SWE-Gym/OpenHands-SFT-Trajectories",
    "swe-gym-lite": "SWE-Gym/OpenHands-SFT-Trajectories",
    "swe-smith": "SWE-bench/SWE-smith-trajectories",
}
STEP_COLUMNS = ("prompt", "expert_action", "expert_thought")
# Logged metrics shown in the results table (those a recipe logs), and the ones plotted.
TABLE_METRICS = (
    "loss",
    "reward",
    "reward_std",
    "dynamic_sampling/kept_frac",
    "dynamic_sampling/draws",
    "mean_token_accuracy",
    "heldout/step_reward",
    "heldout/format_error_rate",
    "rlvr/resolved_rate",
    "rlvr/episode_length",
    "rlvr/format_error_rate",
    "rlvr/submit_rate",
    "rlvr/timeouts",
    "rlvr/env_errors",
    "rewards/expert_similarity/mean",
    "sampling/is_clipped/seq_frac",
    "sampling/is_clipped/token_frac",
    "time/env_s",
    "time/generation_s",
    "time/update_s",
)
TABLE_STEPS = 8
"""Most steps the results table shows as columns; a longer run shows 8 spread from its first to its last."""
PLOT_METRICS = (
    "reward",
    "heldout/step_reward",
    "rlvr/resolved_rate",
    "rlvr/episode_length",
    "dynamic_sampling/kept_frac",
    "loss",
)
# Applied when torch sees no GPU (transformers would refuse bf16 there); a preset, YAML or flag still wins.
CPU_SETTINGS = {"use_cpu": True, "bf16": False}


class TrainError(Exception):
    """Bad input to the training command (dataset, checkpoint, task), said in one line."""


@dataclass
class TrainArguments:
    """What to train and on what; the recipe's own settings live in its config class."""

    recipe: str = field(default="srl", metadata={"help": f"training recipe: {', '.join(RECIPES)}"})
    task: str = field(
        default="demo", metadata={"help": "task set: demo, swe-gym, swe-gym-lite, swe-smith, ..."}
    )
    trajectories: str | None = field(
        default=None, metadata={"help": "expert trajectories (file, folder, saved dataset or hub id)"}
    )
    steps_data: str | None = field(
        default=None, metadata={"help": "a step dataset built by `python -m srl_swe.data build`"}
    )
    validation_data: str | None = field(
        default=None,
        metadata={
            "help": "held-out step dataset evaluated during training (default: STEPS_DATA-validation when "
            "--steps_data has one, as `srl_swe.data build --validation` writes it)"
        },
    )
    validation_every: int = field(
        default=10, metadata={"help": "evaluate on the held-out steps every N optimizer steps (0: never)"}
    )
    validation_max_new_tokens: int | None = field(
        default=None,
        metadata={
            "help": "longest held-out completion, tokens (default: the recipe's "
            "max_completion_length, or 1024)"
        },
    )
    model: str | None = field(
        default=None, metadata={"help": "model path or hub id (default: the tiny model)"}
    )
    init_from: str | None = field(
        default=None,
        metadata={
            "help": "srl-rlvr: the SRL model to start from (default: the last SRL run of the task, "
            "runs/train/srl-<task>)"
        },
    )
    image_map: str | None = field(
        default=None,
        metadata={"help": "rlvr, srl-rlvr: JSON/YAML file mapping instance ids to container images"},
    )
    preset: str | None = field(default=None, metadata={"help": "named settings of the recipe, e.g. cpu-demo"})
    resume: bool = field(default=False, metadata={"help": "continue from the last checkpoint in output_dir"})
    verbose: bool = field(
        default=False,
        metadata={"help": "show the frameworks' own logs and warnings (vLLM, TRL, transformers, torch)"},
    )


def recipe_module(name: str) -> ModuleType:
    """Return the module of recipe ``name`` (it holds the config class, PRESETS and ``train``)."""
    if name not in RECIPES:
        raise TrainError(f"unknown recipe {name!r}; known recipes: {', '.join(RECIPES)}")
    from srl_swe.recipes import rlvr, sft, srl

    return {"srl": srl, "sft": sft, "rlvr": rlvr, "srl-rlvr": rlvr}[name]


def config_class(module: ModuleType) -> type:
    """Return the config dataclass of a recipe module."""
    for name in ("SRLConfig", "RLVRConfig", "StepSFTConfig"):
        if hasattr(module, name):
            return getattr(module, name)
    raise TrainError(f"recipe module {module.__name__} has no config class")


def early_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """Return what must be known before the full parse: recipe, task and preset."""
    early = argparse.ArgumentParser(add_help=False)
    for name in ("recipe", "task", "preset"):
        early.add_argument(f"--{name}", default=TrainArguments.__dataclass_fields__[name].default)
    known, _ = early.parse_known_args(argv)
    return known


def has_accelerator() -> bool:
    """Return whether torch sees a GPU to train on."""
    import torch

    return torch.cuda.is_available()


def parse(argv: Sequence[str]) -> tuple[TrainArguments, Any]:
    """Return the command's arguments and the recipe's config (defaults < CPU settings when there is no
    GPU < preset < YAML < flags)."""
    from trl import TrlParser

    known = early_arguments(argv)
    module = recipe_module(known.recipe)
    presets = module.PRESETS
    if known.preset is not None and known.preset not in presets:
        raise TrainError(
            f"unknown preset {known.preset!r} for recipe {known.recipe}; known: {', '.join(presets)}"
        )
    defaults = {"output_dir": f"runs/train/{known.recipe}-{known.task}"}
    if not has_accelerator():
        defaults |= CPU_SETTINGS
        if known.preset is None:
            print(
                "no GPU here: training on the CPU (use_cpu, no bf16) at the paper's scale, which takes long; "
                "--preset cpu-demo scales the run down to minutes",
                file=sys.stderr,
            )
    parser = TrlParser((TrainArguments, config_class(module)), prog="python -m srl_swe.train")
    parser.set_defaults(**(defaults | presets.get(known.preset, {})))
    train_args, config = parser.parse_args_and_config(args=list(argv))
    return train_args, config


def trajectory_source(args: TrainArguments) -> str:
    """Return where the task's expert trajectories are read from; TrainError when it has none."""
    from harness.task_sets import get_task_set

    get_task_set(args.task)
    if args.trajectories:
        return args.trajectories
    if args.task == "demo":
        return str(DEMO_TRAJECTORIES)
    if args.task in HUB_TRAJECTORIES:
        return HUB_TRAJECTORIES[args.task]
    raise TrainError(f"no expert trajectories are published for --task {args.task}; pass --trajectories PATH")


def load_steps(args: TrainArguments, output_dir: str):
    """Return the step dataset: ``--steps_data``, or else one built once into OUTPUT_DIR/steps."""
    import datasets

    from srl_swe.trajectories.read import is_saved_dataset

    if args.steps_data:
        path = Path(args.steps_data)
        if not is_saved_dataset(path):
            raise TrainError(
                f"--steps_data {path}: no saved dataset there (build one: python -m srl_swe.data build)"
            )
    else:
        path = Path(output_dir) / "steps"
        if not is_saved_dataset(path):
            build_steps(trajectory_source(args), path)
    steps = datasets.load_from_disk(str(path))
    if not isinstance(steps, datasets.Dataset):
        raise TrainError(f"{path}: a dataset with splits; point at one split's folder")
    missing = [c for c in STEP_COLUMNS if c not in steps.column_names]
    if missing:
        raise TrainError(f"{path}: not a step dataset, missing column(s) {', '.join(missing)}")
    if len(steps) == 0:
        raise TrainError(f"{path}: the step dataset has no step examples")
    return steps


def heldout_callbacks(args: TrainArguments, config: Any) -> list:
    """Return the held-out evaluation callback the arguments ask for ([] without validation data or with
    ``validation_every`` 0); TrainError when the named validation data is no step dataset."""
    from srl_swe.data import validation_path
    from srl_swe.eval_steps import StepEvalError, load_step_dataset
    from srl_swe.recipes.heldout import HeldOutStepsCallback

    path = args.validation_data
    if path is None and args.steps_data and validation_path(Path(args.steps_data)).is_dir():
        path = str(validation_path(Path(args.steps_data)))
    if path is None or args.validation_every <= 0:
        return []
    try:
        steps = load_step_dataset(path)
    except StepEvalError as error:
        raise TrainError(str(error).replace("--steps", "--validation_data", 1)) from None
    tokens = args.validation_max_new_tokens or getattr(config, "max_completion_length", None) or 1024
    return [HeldOutStepsCallback(steps, args.validation_every, tokens, config.output_dir)]


def load_task_instances(args: TrainArguments) -> list:
    """Return the task set's instances (images overridden by ``--image-map``) for the RLVR recipes."""
    from harness import load_instances

    try:
        return load_instances(args.task, image_map=args.image_map)
    except (FileNotFoundError, ValueError) as error:
        raise TrainError(str(error).strip().splitlines()[0]) from None


def load_experts(args: TrainArguments) -> dict:
    """Return the task's expert trajectories by instance id (for ``--expert_shaping``)."""
    from srl_swe.trajectories import TrajectoryFormatError, read

    try:
        return {t.instance_id: t for t in read(trajectory_source(args))}
    except (TrajectoryFormatError, FileNotFoundError) as error:
        raise TrainError(str(error)) from None


def initial_model(args: TrainArguments) -> str:
    """Return the model a run starts from: for srl-rlvr ``--init-from`` or the last SRL run of the task (its
    final model, else its last checkpoint); otherwise ``--model`` or the tiny model."""
    from transformers.trainer_utils import get_last_checkpoint

    from srl_swe.models import resolve_model

    if args.recipe != "srl-rlvr":
        if args.init_from:
            raise TrainError("--init-from is for --recipe srl-rlvr; use --model for the other recipes")
        return resolve_model(args.model)
    if args.model:
        raise TrainError("--recipe srl-rlvr starts from an SRL model: pass --init-from DIR, not --model")
    if args.init_from:
        if not (Path(args.init_from) / "config.json").is_file():
            raise TrainError(f"--init-from {args.init_from}: no model there (no config.json)")
        return args.init_from
    run = Path("runs/train") / f"srl-{args.task}"
    if (run / "config.json").is_file():
        return str(run)
    last = get_last_checkpoint(str(run)) if run.is_dir() else None
    if last is None:
        raise TrainError(
            f"--recipe srl-rlvr: no SRL model in {run}; pass --init-from DIR or train one first "
            f"(python -m srl_swe.train --recipe srl --task {args.task})"
        )
    return last


def batch_rows(config: Any) -> tuple[int, str, Callable[[int], int]]:
    """Return how many data rows one optimizer step draws (step examples for SRL/SFT, task instances for
    RLVR), the flag that sizes it, and the flag's value for a batch of N rows."""
    if hasattr(config, "examples_per_step"):  # SFT: examples per optimizer step
        if config.examples_per_step is not None:
            return config.examples_per_step, "--examples_per_step", lambda rows: rows
        per_step = config.per_device_train_batch_size * config.world_size
        return (
            per_step * config.gradient_accumulation_steps,
            "--gradient_accumulation_steps",
            (lambda rows: max(1, rows // per_step)),
        )
    if config.prompts_per_step is not None:  # GRPO recipes: prompts per generation batch
        return config.prompts_per_step, "--prompts_per_step", lambda rows: rows
    generations = config.num_generations
    return (
        config.generation_batch_size // generations,
        "--generation_batch_size",
        (lambda rows: rows * generations),
    )


def check_batch_fits(rows: int, what: str, config: Any) -> None:
    """Raise TrainError when ``rows`` (the data set's size, in ``what``) cannot fill one batch of the
    config: the trainer would have no full step to take (GRPO's sampler has no length then)."""
    batch, flag, flag_value = batch_rows(config)
    if rows < batch:
        raise TrainError(
            f"{rows} {what} cannot fill one batch of {batch} ({flag} {flag_value(batch)}); pass --preset "
            f"cpu-demo, or a smaller batch: {flag} {flag_value(rows)} or less"
        )


def build_steps(source: str, out: Path) -> None:
    """Build the step dataset of the trajectories at ``source`` into ``out``; TrainError when unreadable."""
    import datasets
    from rich.console import Console

    from srl_swe.data import build
    from srl_swe.trajectories import TrajectoryFormatError

    datasets.disable_progress_bars()
    try:
        result = build(source, out, console=Console(stderr=True))
    except (TrajectoryFormatError, FileNotFoundError) as error:
        raise TrainError(str(error)) from None
    except Exception as error:  # the hub: offline, missing, gated — one line for the user
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TrainError(
            f"cannot load expert trajectories {source}: {first[:200]}; pass --trajectories PATH"
        ) from None
    print(
        f"built {result.rows} step examples from {result.trajectories} trajectories into {out}",
        file=sys.stderr,
    )


def metric_rows(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the per-step training log entries (those carrying a loss), oldest first."""
    return [entry for entry in log_history if "loss" in entry and "step" in entry]


def short_name(metric: str) -> str:
    """Return a metric's name as the table and plots show it (no dynamic_sampling/, rewards/, sampling/,
    /mean)."""
    for prefix in ("dynamic_sampling/", "rewards/", "sampling/"):
        metric = metric.removeprefix(prefix)
    return metric.removesuffix("/mean")


def shown_steps(rows: list[dict[str, Any]], most: int = TABLE_STEPS) -> list[dict[str, Any]]:
    """Return at most ``most`` of the rows, evenly spread from the first to the last (all when fewer)."""
    if len(rows) <= most:
        return rows
    picks = sorted({round(i * (len(rows) - 1) / (most - 1)) for i in range(most)})
    return [rows[i] for i in picks]


def results_table(rows: list[dict[str, Any]]):
    """Return a rich table of the logged metrics (one row each) at the logged steps (one column each, at
    most TABLE_STEPS of them spread over the run; every step is in the curves and trainer_state.json)."""
    from rich.table import Table

    metrics = [m for m in TABLE_METRICS if any(m in row for row in rows)]
    steps = shown_steps(rows)
    title = "training results" + (f" ({len(steps)} of {len(rows)} steps)" if len(steps) < len(rows) else "")
    table = Table(title=title)
    table.add_column("step")
    for row in steps:
        table.add_column(str(row["step"]), justify="right")
    for metric in metrics:
        table.add_row(short_name(metric), *(f"{row[metric]:.4g}" if metric in row else "" for row in steps))
    return table


def plot_curves(rows: list[dict[str, Any]], path: Path) -> Path:
    """Plot the logged reward / kept fraction / loss per step into a PNG at ``path``; return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in PLOT_METRICS if any(m in row for row in rows)]
    figure, axes = plt.subplots(len(metrics), 1, figsize=(6, 2.4 * len(metrics)), sharex=True, squeeze=False)
    for axis, metric in zip(axes[:, 0], metrics, strict=True):
        points = [(row["step"], row[metric]) for row in rows if metric in row]
        axis.plot(*zip(*points, strict=True), marker="o")
        axis.set_ylabel(short_name(metric))
        axis.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def run(args: TrainArguments, config: Any) -> Path:
    """Train as the arguments say, print the results table and return the path of the curves' PNG."""
    from rich.console import Console
    from transformers.trainer_utils import get_last_checkpoint

    from srl_swe.report import report_at_end

    output_dir = Path(config.output_dir)
    if args.resume and (not output_dir.is_dir() or get_last_checkpoint(str(output_dir)) is None):
        raise TrainError(f"--resume: no checkpoint in {output_dir}")
    if args.recipe in RLVR_RECIPES:
        data = load_task_instances(args)
        check_batch_fits(len(data), f"task instances of --task {args.task}", config)
    else:
        with config.main_process_first(desc="building the step dataset"):
            data = load_steps(args, str(output_dir))
        check_batch_fits(len(data), "step examples", config)
    with config.main_process_first(desc="building the model"):  # once per machine, then read by the others
        model = initial_model(args)
    if args.recipe == "srl-rlvr":
        print(f"srl-rlvr: starting from the SRL model {model}", file=sys.stderr)
    callbacks = heldout_callbacks(args, config)
    if "tensorboard" in (config.report_to or []):  # transformers 5 would write them under ./runs
        os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(output_dir / "runs"))
    if args.recipe in RLVR_RECIPES:
        experts = load_experts(args) if config.expert_shaping > 0 else None
        if experts is not None and (missing := recipe_module(args.recipe).missing_experts(data, experts)):
            raise TrainError(missing)
        trainer = recipe_module(args.recipe).train(
            config, model, data, resume=args.resume, callbacks=callbacks, experts=experts
        )
    else:
        trainer = recipe_module(args.recipe).train(
            config, model, data, resume=args.resume, callbacks=callbacks
        )
    if not trainer.is_world_process_zero():  # with several processes, one reports
        return output_dir
    rows = metric_rows(trainer.state.log_history)
    console = Console()
    console.print(results_table(rows))
    trainer.save_state()  # OUTPUT_DIR/trainer_state.json: the whole log history, for the report page
    if not rows:
        report_at_end(output_dir)
        return output_dir
    curves = plot_curves(rows, output_dir / "curves.png")
    console.print(f"model: {output_dir}\ncurves: {curves}", highlight=False)
    report_at_end(output_dir)
    return curves


def check_launch(environ: dict[str, str] | os._Environ = os.environ) -> None:
    """Raise TrainError when ``accelerate launch --cpu --num_processes N`` (N > 1) started this process
    alone: accelerate 1.15 then sets the rendezvous address but starts one process without a world size
    (several CPU processes only through mpirun), and training would quietly run on one process."""
    if (
        environ.get("ACCELERATE_USE_CPU") == "True"
        and "MASTER_PORT" in environ
        and "WORLD_SIZE" not in environ
    ):
        raise TrainError(
            "accelerate launch --cpu --num_processes N starts only one process here; use accelerate launch "
            "--multi_gpu --num_processes N (it runs on the CPU when there is no GPU)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 with a one-line error on bad input)."""
    from agents.policies import PolicyStartError
    from harness.errors import HarnessError
    from srl_swe.framework_logs import quiet_frameworks, verbose_requested
    from srl_swe.models import ModelNotFoundError

    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_frameworks(verbose=verbose_requested(argv))
    try:
        check_launch()
        args, config = parse(argv)
    except (TrainError, ValueError, OSError) as error:  # unknown recipe/preset, bad YAML or config value
        print(f"error: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    try:
        run(args, config)
    except (TrainError, ModelNotFoundError, HarnessError, PolicyStartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
