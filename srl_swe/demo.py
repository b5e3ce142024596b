"""``python -m srl_swe.demo``: the main job on the embedded default (demo tasks, tiny model), end to end.

Stages, each skipped when its outputs exist (run the command again to resume): ``gold`` once, then stages
2–6 once per seed (``--seeds N``: seeds ``seed``, ``seed + 1``, …, each run in ``OUT/seed-S``), then the
summary over the seeds:

1. ``gold``    — validate the demo set in containers (every gold patch resolves, an empty patch none);
2. ``steps``   — step examples from the demo's expert trajectories, ``validation`` instances held out;
3. ``base``    — the tiny model measured: held-out steps (greedy and sampled), oracle and e2e resolved rate;
4. ``sft``, ``srl`` — both recipes trained from the tiny model for ``train_steps`` optimizer steps on
   ``prompts_per_step`` step examples each, evaluated on the held-out steps every ``validation_every``;
   then ``srl-rlvr`` — the paper's curriculum: RLVR in the demo containers from the SRL model for
   ``rlvr_steps`` steps (``--recipe srl-rlvr --preset cpu-demo``);
5. ``sft``, ``srl``, ``srl-rlvr`` measured as the base model was;
6. ``comparison`` — one table (rows base, SFT, SRL, SRL→RLVR), ``OUT/seed-S/comparison.json`` and
   ``OUT/seed-S/comparison.png`` (held-out step reward against training step);

then the **summary**: each row's mean ± standard deviation over the seeds, and in how many seeds SRL beats
the base model on the held-out steps (greedy step reward), in ``OUT/comparison.json``.

Flags are the fields of :class:`DemoConfig` (TRL's parser: dashes or underscores, ``--config FILE.yaml``).
"""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROG = "python -m srl_swe.demo"
ROWS = ("base", "sft", "srl", "srl-rlvr")
COMPARISON = "comparison"


@dataclass
class DemoConfig:
    """Settings of the demo run (all ours: sized for about 15 minutes on two CPU cores)."""

    out: str = field(default="runs/demo", metadata={"help": "folder of every stage's outputs"})
    validation: int = field(default=3, metadata={"help": "demo instances held out for the step evaluation"})
    train_steps: int = field(default=24, metadata={"help": "optimizer steps of SFT and of SRL (same budget)"})
    prompts_per_step: int = field(
        default=4, metadata={"help": "step examples per optimizer step, SFT and SRL alike"}
    )
    num_generations: int = field(default=8, metadata={"help": "SRL rollouts per step example"})
    srl_learning_rate: float = field(
        default=3e-4,
        metadata={
            "help": "SRL's AdamW learning rate (3e-4: at 1e-3 the held-out reward swung from step to step "
            "and ended below the base model's; at 3e-4 it rises and holds)"
        },
    )
    sft_learning_rate: float = field(default=1e-3, metadata={"help": "SFT's AdamW learning rate"})
    rlvr_steps: int = field(
        default=2, metadata={"help": "optimizer steps of RLVR from the SRL model (the SRL→RLVR row)"}
    )
    validation_every: int = field(default=4, metadata={"help": "held-out evaluation every N training steps"})
    max_new_tokens: int = field(
        default=48, metadata={"help": "longest completion, tokens (training and eval)"}
    )
    samples: int = field(default=4, metadata={"help": "sampled completions per held-out step (T=1.0)"})
    e2e_max_steps: int = field(default=4, metadata={"help": "actions per e2e episode before it is graded"})
    seed: int = field(default=0, metadata={"help": "first seed of the split, training and sampling"})
    seeds: int = field(
        default=3,
        metadata={
            "help": "runs of stages 2-6, with seeds seed, seed+1, ... (each in OUT/seed-S); the summary "
            "shows their mean and spread and in how many SRL beats the base model"
        },
    )
    verbose: bool = field(default=False, metadata={"help": "show the frameworks' own logs"})

    def __post_init__(self) -> None:
        """Check the counts; raise ValueError naming the field."""
        for name in (
            "train_steps",
            "rlvr_steps",
            "prompts_per_step",
            "num_generations",
            "validation_every",
            "max_new_tokens",
            "seeds",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")


class DemoError(RuntimeError):
    """A stage that failed; one line naming it."""


def parse(argv: Sequence[str]) -> DemoConfig:
    """Return the demo's settings: defaults < ``--config FILE.yaml`` < flags."""
    from trl import TrlParser

    parser = TrlParser((DemoConfig,), prog=PROG, description=__doc__.splitlines()[0])
    (config,) = parser.parse_args_and_config(args=list(argv))
    return config


class Demo:
    """The stages of one demo run over ``config.out``."""

    def __init__(self, config: DemoConfig, out: Path | None = None, started: float | None = None) -> None:
        """``out``: the folder of this seed's stages (default: ``config.out``); the gold validation is
        always under ``config.out``. ``started``: when the whole demo started (default: now)."""
        from rich.console import Console

        self.config = config
        self.root = Path(config.out)
        self.out = out or self.root
        self.console = Console()
        self.started = time.monotonic() if started is None else started

    def stage(self, number: int, name: str, done: bool) -> bool:
        """Print the stage's header; return whether it must run (its outputs do not exist yet)."""
        elapsed = time.monotonic() - self.started
        state = "[green]done already, skipped[/]" if done else "running"
        seed = "" if number == 1 else f" · seed {self.config.seed}"
        self.console.rule(f"[bold]{number}/6 {name}[/]{seed} · {state} · {elapsed:.0f} s")
        return not done

    def gold(self) -> None:
        """Validate the demo set's gold patches; DemoError when one fails."""
        from srl_swe.eval_config import EvalConfig
        from srl_swe.eval_gold import run_gold

        report = self.root / "eval/gold-demo/gold/gold.gold-demo.json"
        run = self.stage(1, "gold validation", report.is_file())
        if run and run_gold(EvalConfig(mode="gold", task="demo", run_dir=str(self.root / "eval"))) != 0:
            report.unlink(missing_ok=True)
            raise DemoError("gold validation failed: see the table above")

    def steps(self) -> Path:
        """Build the step dataset with its held-out split; return the training steps' folder."""
        from srl_swe.data import build, summary_table, validation_path
        from srl_swe.train import DEMO_TRAJECTORIES

        out = self.out / "steps"
        if self.stage(2, "step examples, held out by instance", validation_path(out).is_dir()):
            result = build(
                DEMO_TRAJECTORIES,
                out,
                validation=self.config.validation,
                seed=self.config.seed,
                overwrite=True,
            )
            self.console.print(summary_table(result))
        return out

    def train(self, recipe: str, steps: Path) -> Path:
        """Train ``recipe`` (a ``python -m srl_swe.train`` process) from the tiny model, or for srl-rlvr from
        the SRL run; return its folder."""
        c = self.config
        out = self.out / recipe
        if not self.stage(4, f"train {recipe.upper()}", (out / "config.json").is_file()):
            return out
        on_steps = [
            *("--steps_data", steps, "--max_steps", c.train_steps, "--validation_every", c.validation_every)
        ]
        budget = {
            "srl": [
                *on_steps,
                *("--prompts_per_step", c.prompts_per_step, "--num_generations", c.num_generations),
                *("--max_completion_length", c.max_new_tokens, "--learning_rate", c.srl_learning_rate),
            ],
            "sft": [
                *on_steps,
                *(
                    "--examples_per_step",
                    c.prompts_per_step,
                    "--per_device_train_batch_size",
                    c.prompts_per_step,
                ),
                *("--learning_rate", c.sft_learning_rate, "--validation_max_new_tokens", c.max_new_tokens),
            ],
            "srl-rlvr": ["--init-from", self.out / "srl", "--max_steps", c.rlvr_steps],
        }[recipe]
        resume = ["--resume"] if any(out.glob("checkpoint-*")) else []
        command = [
            *(
                sys.executable,
                "-m",
                "srl_swe.train",
                "--recipe",
                recipe,
                "--task",
                "demo",
                "--preset",
                "cpu-demo",
            ),
            *("--output_dir", out, "--seed", c.seed, *budget, *resume),
            *(["--verbose"] if c.verbose else []),
        ]
        if subprocess.run([str(part) for part in command], check=False).returncode != 0:
            raise DemoError(f"training {recipe} failed (command: {' '.join(map(str, command))})")
        return out

    def measure(self, name: str, model: str | None, steps: Path) -> dict[str, Any]:
        """Measure ``model`` (None: the tiny model) on the held-out steps and by oracle and e2e resolved rate
        over the demo set, one vLLM engine shared; return its comparison row."""
        from agents.policies import close_policy
        from srl_swe.data import validation_path
        from srl_swe.eval_config import EvalConfig
        from srl_swe.eval_policy import build_policy, run_policy_mode
        from srl_swe.eval_steps import RESULT_FILE, run_steps_mode

        c = self.config
        root = self.out / "measure" / name
        common = {"task": "demo", "model": model, "run_dir": str(root), "max_new_tokens": c.max_new_tokens}
        configs = {
            "steps": EvalConfig(
                mode="steps", steps=str(validation_path(steps)), samples=c.samples, seed=c.seed, **common
            ),
            "oracle": EvalConfig(mode="oracle", **common),
            "e2e": EvalConfig(mode="e2e", max_steps=c.e2e_max_steps, batch_size=9, **common),
        }
        reports = {mode: root / mode / report_name(mode, model) for mode in configs}
        reports["steps"] = root / "steps" / RESULT_FILE
        if self.stage(5 if model else 3, f"measure {name}", all(p.is_file() for p in reports.values())):
            policy = build_policy(configs["steps"])
            try:
                for mode, config in configs.items():
                    config.run_id = mode
                    (run_steps_mode if mode == "steps" else run_policy_mode)(config, policy)
            finally:
                close_policy(policy)
        return comparison_row(name, *(read_json(reports[m]) for m in ("steps", "oracle", "e2e")))

    def compare(self, rows: list[dict[str, Any]]) -> None:
        """Write comparison.json and comparison.png and print the table."""
        from harness.evaluation import write_json_atomic

        self.stage(6, "comparison", False)
        write_json_atomic(self.out / f"{COMPARISON}.json", rows)
        plot_heldout(rows, {r: self.out / r for r in ROWS[1:]}, self.out / f"{COMPARISON}.png")
        self.console.print(comparison_table(rows))
        self.console.print(
            f"comparison: {self.out / COMPARISON}.json, {self.out / COMPARISON}.png; "
            f"{time.monotonic() - self.started:.0f} s",
            highlight=False,
        )

    def run(self) -> list[dict[str, Any]]:
        """Run (or resume) stages 2-6 of this seed; return its comparison rows."""
        steps = self.steps()
        rows = [self.measure("base", None, steps)]
        trained = {recipe: self.train(recipe, steps) for recipe in ROWS[1:]}
        rows += [self.measure(recipe, str(folder), steps) for recipe, folder in trained.items()]
        self.compare(rows)
        return rows


def run_seeds(config: DemoConfig) -> dict[str, Any]:
    """Validate the gold patches once, run (or resume) stages 2-6 for each seed, then write and print the
    summary over the seeds; return the summary document (``OUT/comparison.json``)."""
    from harness.evaluation import write_json_atomic

    first = Demo(config)
    first.gold()
    runs = {}
    for seed in range(config.seed, config.seed + config.seeds):
        out = first.root / f"seed-{seed}"
        runs[seed] = Demo(dataclasses.replace(config, seed=seed), out, first.started).run()
    document = {"seeds": list(runs), "summary": summarize(runs), "runs": {str(s): r for s, r in runs.items()}}
    write_json_atomic(first.root / f"{COMPARISON}.json", document)
    first.console.rule(
        f"[bold]summary over {len(runs)} seed(s)[/] · {time.monotonic() - first.started:.0f} s"
    )
    first.console.print(summary_table(document["summary"], len(runs)))
    first.console.print(wins_line(document["summary"]), soft_wrap=True, highlight=False)
    first.console.print(f"summary: {first.root / COMPARISON}.json", highlight=False)
    from srl_swe.report import report_at_end

    report_at_end(first.root)  # one page: the summary, then each seed's comparison and held-out steps
    return document


SUMMARY_METRICS = (
    "heldout_step_reward",
    "heldout_step_reward_sampled",
    "format_error_rate",
    "exact_match_rate",
    "similarity",
    "oracle_resolved",
    "e2e_resolved",
)


def summarize(runs: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """Return, per comparison row, each metric's mean, standard deviation (0 for one seed), min and max over
    the seeds' runs, and in how many seeds SRL's greedy held-out step reward is above the base model's."""
    rows = {}
    for name in ROWS:
        per_seed = [next(row for row in seed_rows if row["name"] == name) for seed_rows in runs.values()]
        rows[name] = {}
        for metric in SUMMARY_METRICS:
            values = [row[metric] for row in per_seed if row[metric] is not None]
            if values:
                rows[name][metric] = {
                    "mean": statistics.fmean(values),
                    "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                    "min": min(values),
                    "max": max(values),
                }

    def greedy(seed_rows: list[dict[str, Any]], name: str) -> float:
        return next(row["heldout_step_reward"] for row in seed_rows if row["name"] == name)

    wins = sum(greedy(seed_rows, "srl") > greedy(seed_rows, "base") for seed_rows in runs.values())
    return {"rows": rows, "srl_beats_base": wins, "seeds": len(runs)}


def report_name(mode: str, model: str | None) -> str:
    """Return the file name of the run report that eval mode ``mode`` writes for ``model``."""
    from srl_swe.eval_policy import model_name

    return f"{model_name(model)}.{mode}.json"


def read_json(path: Path) -> Any:
    """Return the JSON document at ``path``."""
    import json

    return json.loads(path.read_text())


def comparison_row(name: str, steps: dict, oracle: dict, e2e: dict) -> dict[str, Any]:
    """Return one comparison row from a model's step result and its oracle and e2e run reports."""
    greedy, sampled = steps["greedy"], steps.get("sampled", {})
    return {
        "name": name,
        "model": steps["model"],
        "heldout_step_reward": greedy["step_reward"],
        "heldout_step_reward_sampled": sampled.get("step_reward"),
        "format_error_rate": greedy["format_error_rate"],
        "exact_match_rate": greedy["exact_match_rate"],
        "similarity": greedy["similarity"],
        "oracle_resolved": oracle["resolved_instances"] / max(1, oracle["total_instances"]),
        "e2e_resolved": e2e["resolved_instances"] / max(1, e2e["total_instances"]),
    }


def comparison_table(rows: Sequence[dict[str, Any]]):
    """Return the rich table of the comparison rows."""
    from rich.table import Table

    columns = {  # short enough for an 80-column terminal; the caption says what they are
        "heldout_step_reward": "greedy",
        "heldout_step_reward_sampled": "T=1",
        "format_error_rate": "format err",
        "exact_match_rate": "exact",
        "similarity": "similar",
        "oracle_resolved": "oracle",
        "e2e_resolved": "e2e",
    }
    table = Table(
        title="base vs SFT vs SRL vs SRL→RLVR on the demo set",
        caption="held-out steps: step reward greedy and at T=1, format-error and exact-match rates, "
        "similarity of well-formed actions; resolved rate in oracle and e2e mode",
    )
    table.add_column("model", no_wrap=True)
    for label in columns.values():
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(row["name"], *("–" if row[k] is None else f"{row[k]:.3f}" for k in columns))
    return table


def summary_table(summary: dict[str, Any], seeds: int):
    """Return the rich table of the summary: each row's mean ± standard deviation over the seeds."""
    from rich.table import Table

    columns = {
        "heldout_step_reward": "greedy",
        "heldout_step_reward_sampled": "T=1",
        "format_error_rate": "format err",
        "similarity": "similar",
        "oracle_resolved": "oracle",
        "e2e_resolved": "e2e",
    }
    table = Table(
        title=f"the demo's comparison over {seeds} seed(s)",
        caption="mean ± standard deviation over the seeds (each seed's table is above; min, max and the "
        "exact-match rate are in comparison.json)",
    )
    table.add_column("model", no_wrap=True)
    for label in columns.values():
        table.add_column(label, justify="right")
    for name, metrics in summary["rows"].items():
        cells = [
            f"{metrics[k]['mean']:.3f}±{metrics[k]['std']:.2f}" if k in metrics else "–" for k in columns
        ]
        table.add_row(name, *cells)
    return table


def wins_line(summary: dict[str, Any]) -> str:
    """Return the line saying in how many seeds SRL beat the base model."""
    return (
        f"SRL beats the base model on the held-out steps (greedy step reward) in {summary['srl_beats_base']} "
        f"of {summary['seeds']} seed(s)"
    )


def plot_heldout(rows: Sequence[dict[str, Any]], runs: dict[str, Path], path: Path) -> Path:
    """Plot held-out step reward against training step (one line per trained run, the base model as a
    level); return the PNG's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from srl_swe.recipes.heldout import read_history

    figure, axis = plt.subplots(figsize=(6, 3.6))
    base = next(r for r in rows if r["name"] == "base")
    axis.axhline(base["heldout_step_reward"], color="grey", linestyle="--", label="base")
    for name, folder in runs.items():
        points = [(p["step"], p["heldout/step_reward"]) for p in read_history(folder)]
        if points:
            axis.plot(*zip(*points, strict=True), marker="o", label=name.upper())
    axis.set_xlabel("training step")
    axis.set_ylabel("held-out step reward (greedy)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return the exit status (2 with one line on bad input or a failed stage)."""
    from srl_swe.framework_logs import quiet_frameworks, verbose_requested

    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_frameworks(verbose=verbose_requested(argv))

    from agents.policies import PolicyStartError
    from harness.errors import HarnessError
    from harness.sandbox import SandboxError

    try:
        run_seeds(parse(argv))
    except (DemoError, HarnessError, SandboxError, PolicyStartError, ValueError, OSError) as error:
        print(f"error: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished stages are kept; run the same command again to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
