"""``python -m srl_swe.data build``: expert trajectories → the SRL step dataset on disk.

    python -m srl_swe.data build --trajectories PATH --out DIR [--split NAME|all] [--keep-unresolved]
        [--model NAME] [--ids FILE] [--validation N|FRACTION] [--seed S] [--context-steps K|all] [--strict]
        [--repo-root DIR | --keep-source-paths]

PATH is anything :func:`srl_swe.trajectories.read` takes. The rows read are selected as the paper's data was
(:mod:`srl_swe.trajectories.selection`: SWE-smith's ``tool`` split, resolved runs only, one trajectory per
run; optionally one ``--model`` and an ``--ids`` list). ``--validation`` holds out whole instances (a count of
trajectories or a fraction; by default the paper's 30 when the build has at least 300 trajectories, else
none; ``--validation 0``: none) in a seeded random order: their step examples are saved in
``DIR-validation``, the others in ``DIR``, and the summary says which rule applied. Paths: the repository
root each source names (SWE-Gym's
``/workspace/<repo>__<version>``, early SWE-agent's ``/<owner>__<repo>``) is rewritten to ``--repo-root``
(default ``/testbed``, where the environment has the repository) in thoughts, actions and observations;
``--keep-source-paths`` keeps them (:mod:`srl_swe.trajectories.paths`). The trajectory files of a folder
(or the shards of a dataset) are built in ``--num-proc`` worker processes; each dataset is written to a
temporary folder beside it and renamed into place, so neither ever holds half a dataset. A progress bar
runs while building and a summary table follows (rows each filter removed, trajectories read, skipped and
why, replies and tool calls dropped, the roots mapped, step examples, validation, action lengths, commands).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from srl_swe.steps import DEFAULT_CONFIG, STEP_SCHEMA, StepExampleConfig, step_table, table_dataset
from srl_swe.trajectories import ENVIRONMENT_ROOT, ReadLog, Skip, TrajectoryFormatError, iter_trajectories
from srl_swe.trajectories.read import is_hub_id, is_saved_dataset, trajectory_files
from srl_swe.trajectories.selection import (
    PAPER_SELECTION,
    REPEATED_RUN,
    Held,
    Run,
    Selection,
    SelectionError,
    Selector,
    choose_split,
    choose_validation,
    load_ids,
    source_splits,
)
from srl_swe.trajectories.types import DROPPED, RECORD, STEP

TOP_COMMANDS = 10
SKIP_LABELS = {RECORD: "records skipped", STEP: "steps skipped", DROPPED: "replies and tool calls dropped"}
VALIDATION_SUFFIX = "-validation"
DEFAULT_VALIDATION = 30
"""Trajectories held out by default: the paper's validation split (30 trajectories, about 650 steps)."""
DEFAULT_VALIDATION_MIN = 10 * DEFAULT_VALIDATION
"""Trajectories a build needs for the default hold-out, so that it takes at most a tenth of them."""
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkUnit:
    """A piece of the input one worker builds: a file or folder path, or shard ``shard`` of ``shards``."""

    path: str
    split: str | None = None
    shard: int = 0
    shards: int = 1


@dataclass
class UnitResult:
    """What a worker built from one unit: rows, the trajectories they came from, skips, filter counts."""

    table: pa.Table
    skipped: list[Skip]
    runs: list[Run]
    rows_seen: int = 0
    removed: Counter = field(default_factory=Counter)
    matched_ids: set[str] = field(default_factory=set)


def command_name(action: str) -> str:
    """Return the command an action runs, for counting: its first word (with the editor's sub-command)."""
    words = action.split(maxsplit=2)
    if not words:
        return ""
    if words[0] == "str_replace_editor" and len(words) > 1:
        return f"{words[0]} {words[1]}"
    return words[0]


def build_unit(
    unit: WorkUnit,
    config: StepExampleConfig,
    strict: bool,
    selection: Selection,
    repo_root: str | None = ENVIRONMENT_ROOT,
) -> UnitResult:
    """Return the step examples of one work unit (paths rewritten to ``repo_root``; None: kept), the
    trajectories they came from and the filter counts."""
    log = ReadLog()
    selector = Selector(selection)
    shard = (unit.shard, unit.shards) if unit.shards > 1 else None
    trajectories = list(
        iter_trajectories(
            unit.path,
            strict=strict,
            log=log,
            split=unit.split,
            shard=shard,
            selector=selector,
            repo_root=repo_root,
        )
    )
    return UnitResult(
        table=step_table(trajectories, config),
        skipped=log.skipped,
        runs=[
            Run(
                selector.run_keys.get(t.source),
                t.instance_id,
                max(0, len(t.steps) - 1),
                t.source_root if repo_root is not None and t.source_root not in (None, repo_root) else None,
            )
            for t in trajectories
        ],
        rows_seen=selector.rows,
        removed=selector.removed,
        matched_ids=selector.matched_ids,
    )


def work_units(path: str | Path, num_proc: int, split: str | None = None) -> list[WorkUnit]:
    """Return the units to build ``path`` in: one per file of a folder (of ``split``), ``num_proc`` shards of
    a dataset."""
    location = Path(path)
    if location.is_dir() and not is_saved_dataset(location):
        return [WorkUnit(str(file)) for file in trajectory_files(location, split)]
    if location.is_file():
        return [WorkUnit(str(location))]
    return [WorkUnit(str(path), split, shard, num_proc) for shard in range(num_proc)]


def read_split(path: str | Path, asked: str | None) -> str | None:
    """Return the split to read at ``path``: ``asked``, else the paper's default (None: every split).

    Raises SelectionError for a split the source lacks, FileNotFoundError for a path that is nothing.
    """
    location, hub = Path(path), is_hub_id(path)
    if hub or is_saved_dataset(location):
        splits = source_splits(path, hub=hub)
    elif location.is_dir():
        splits = source_splits(path, trajectory_files(location))
    elif location.is_file():
        splits = []
    else:
        raise FileNotFoundError(f"no trajectories at {path}: not a file, folder, saved dataset or hub id")
    return choose_split(path, asked, splits)


def validation_path(out: Path) -> Path:
    """Return where the validation steps of a build into ``out`` are saved: ``out`` + ``-validation``."""
    return out.with_name(out.name + VALIDATION_SUFFIX)


@dataclass
class BuildResult:
    """The outcome of a build: where the datasets are and everything the summary reports.

    ``rows`` and ``action_lengths``/``commands`` are the training steps'; ``trajectories`` counts all read
    (validation's included); ``removed`` the raw rows each of ``filters`` removed; ``mapped`` how many of
    those trajectories had each source root rewritten to ``repo_root`` (None: paths kept as the sources have
    them).
    """

    out: Path
    rows: int
    trajectories: int
    skipped: list[Skip]
    action_lengths: list[int]
    commands: Counter
    split: str | None = None
    rows_seen: int = 0
    filters: tuple[str, ...] = ()
    removed: Counter = field(default_factory=Counter)
    missing_ids: list[str] = field(default_factory=list)
    validation_out: Path | None = None
    validation: Held = field(default_factory=Held)
    validation_rule: str = ""
    """How the validation size was set: asked for, the default's 30, or none by default and why."""
    repo_root: str | None = ENVIRONMENT_ROOT
    mapped: Counter = field(default_factory=Counter)


def build(
    trajectories: str | Path,
    out: str | Path,
    *,
    config: StepExampleConfig = DEFAULT_CONFIG,
    selection: Selection = PAPER_SELECTION,
    validation: float | None = None,
    seed: int = 0,
    strict: bool = False,
    num_proc: int = 1,
    split: str | None = None,
    overwrite: bool = False,
    repo_root: str | None = ENVIRONMENT_ROOT,
    console: Console | None = None,
) -> BuildResult:
    """Build the step dataset of the trajectories at ``trajectories``, save it at ``out``; return the counts.

    ``split`` None reads the paper's split (``all``: every split); ``selection`` filters the raw rows;
    ``validation`` (a count of trajectories, or a fraction below 1; 0: none; None: the paper's 30 when the
    build has at least DEFAULT_VALIDATION_MIN trajectories, else none) holds out whole instances, chosen
    with ``seed``, into ``out-validation``. Paths are rewritten from each source's repository root to
    ``repo_root`` (None: kept). Raises FileExistsError when ``out`` (or ``out-validation``) exists and
    ``overwrite`` is False, SelectionError for a split, id list or validation size that cannot be used,
    TrajectoryFormatError on the first bad input when ``strict``.
    """
    out = Path(out)
    held_out_path = validation_path(out)
    for path in (out, held_out_path):
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists (pass --overwrite to replace it)")
    split = read_split(trajectories, split)
    units = work_units(trajectories, num_proc, split)
    results = _build_units(units, config, strict, selection, repo_root, num_proc, console)
    runs = [run for result in results for run in result.runs]
    first_reads = _first_reads(runs)
    removed = sum((result.removed for result in results), Counter())
    removed[REPEATED_RUN] += first_reads.count(False)
    kept = [run for run, first in zip(runs, first_reads, strict=True) if first]
    size, rule = validation_size(validation, sum(1 for run in kept if run.rows))
    held = choose_validation(kept, size, seed)
    table = pa.concat_tables([r.table for r in results]) if results else STEP_SCHEMA.empty_table()
    train_rows, validation_rows = _row_masks(runs, first_reads, held.instances)
    train = table.filter(pa.array(train_rows, pa.bool_()))
    held_out = table.filter(pa.array(validation_rows, pa.bool_())) if held.instances else None
    save_atomically({out: train, held_out_path: held_out}, num_shards=num_proc)
    actions = train.column("expert_action").to_pylist()
    matched = set().union(*(result.matched_ids for result in results))
    missing = sorted((selection.ids or frozenset()) - matched)
    if missing:
        logger.warning("%d listed id(s) matched no row read: %s", len(missing), ", ".join(missing[:5]))
    return BuildResult(
        out=out,
        rows=train.num_rows,
        trajectories=len(kept),
        skipped=[s for r in results for s in r.skipped],
        action_lengths=[len(a) for a in actions],
        commands=Counter(command_name(a) for a in actions),
        split=split,
        rows_seen=sum(result.rows_seen for result in results),
        filters=selection.filters(),
        removed=removed,
        missing_ids=missing,
        validation_out=held_out_path if held_out is not None else None,
        validation=held,
        validation_rule=rule,
        repo_root=repo_root,
        mapped=Counter(run.mapped_from for run in kept if run.mapped_from is not None),
    )


def validation_size(asked: float | None, trajectories: int) -> tuple[float, str]:
    """Return the validation size to hold out of ``trajectories`` (those giving step examples) and the
    summary's short words for it: ``asked`` as given, else DEFAULT_VALIDATION when there are at least
    DEFAULT_VALIDATION_MIN trajectories, else 0."""
    if asked is not None:
        return asked, f"asked: {asked:g}" if asked else "off (--validation 0)"
    if trajectories >= DEFAULT_VALIDATION_MIN:
        return DEFAULT_VALIDATION, f"default: {DEFAULT_VALIDATION}"
    return 0, f"none: < {DEFAULT_VALIDATION_MIN} read"


def _build_units(
    units: Sequence[WorkUnit],
    config: StepExampleConfig,
    strict: bool,
    selection: Selection,
    repo_root: str | None,
    num_proc: int,
    console: Console | None,
) -> list[UnitResult]:
    """Return the results of the units in their order, built in ``num_proc`` worker processes."""
    progress = Progress(
        TextColumn("building step examples"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=console is None,
    )
    with progress:
        task = progress.add_task("build", total=len(units))
        if num_proc <= 1 or len(units) == 1:
            results = []
            for unit in units:
                results.append(build_unit(unit, config, strict, selection, repo_root))
                progress.advance(task)
            return results
        with ProcessPoolExecutor(max_workers=num_proc) as pool:
            futures = [pool.submit(build_unit, unit, config, strict, selection, repo_root) for unit in units]
            for _ in as_completed(futures):
                progress.advance(task)
            return [future.result() for future in futures]


def _first_reads(runs: Sequence[Run]) -> list[bool]:
    """Return per trajectory False when an earlier unit read its run already (the same run in another shard,
    split or file), True otherwise."""
    seen: set[str] = set()
    first = []
    for run in runs:
        first.append(run.key is None or run.key not in seen)
        if run.key is not None:
            seen.add(run.key)
    return first


def _row_masks(
    runs: Sequence[Run], first_reads: Sequence[bool], held: set[str]
) -> tuple[list[bool], list[bool]]:
    """Return which step rows (laid out run after run) are training rows and which validation rows."""
    train: list[bool] = []
    validation: list[bool] = []
    for run, first in zip(runs, first_reads, strict=True):
        held_out = first and run.instance_id in held
        train += [first and not held_out] * run.rows
        validation += [held_out] * run.rows
    return train, validation


def save_atomically(tables: Mapping[Path, pa.Table | None], num_shards: int = 1) -> None:
    """Save each table as a ``datasets`` dataset at its path (None: remove what is there) through temporary
    folders renamed into place once all are written, so that no path ever holds half a dataset."""
    staged: dict[Path, Path] = {}
    try:
        for out, table in tables.items():
            out.parent.mkdir(parents=True, exist_ok=True)
            if table is None:
                continue
            staged[out] = out.parent / f".{out.name}.tmp-{os.getpid()}"
            shutil.rmtree(staged[out], ignore_errors=True)
            shards = max(1, min(num_shards, table.num_rows))
            table_dataset(table).save_to_disk(str(staged[out]), num_shards=shards)
        for out in tables:
            retired = out.parent / f".{out.name}.old-{os.getpid()}"
            if out.exists():
                out.rename(retired)
            if out in staged:
                staged[out].rename(out)
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        for staging in staged.values():
            shutil.rmtree(staging, ignore_errors=True)


def _percentile(sorted_values: Sequence[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] if sorted_values else 0


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0].split(" (", 1)[0]


def summary_table(result: BuildResult) -> Table:
    """Return the rich table that summarises a build."""
    held_out = f" (validation → {result.validation_out})" if result.validation_out is not None else ""
    table = Table(
        title=f"SRL step dataset → {result.out}{held_out}",
        show_header=True,
        caption=f"validation by default: the paper's {DEFAULT_VALIDATION} trajectories from "
        f"{DEFAULT_VALIDATION_MIN} read, else none; --validation N|FRACTION|0 sets it",
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("split", result.split or "all")
    table.add_row("rows read", str(result.rows_seen))
    table.add_row("rows removed by filters", str(sum(result.removed[name] for name in result.filters)))
    for name in result.filters:
        table.add_row(f"  {name}", str(result.removed[name]))
    if result.missing_ids:
        table.add_row("listed ids matching no row", str(len(result.missing_ids)))
    table.add_row("trajectories read", str(result.trajectories))
    for kind, label in SKIP_LABELS.items():
        skips = [s for s in result.skipped if s.kind == kind]
        table.add_row(label, str(len(skips)))
        for reason, count in Counter(_reason_kind(s.reason) for s in skips).most_common():
            table.add_row(f"  {reason}", str(count))
    if result.repo_root is None:
        table.add_row("paths", "kept as the sources have them")
    else:
        table.add_row(f"paths mapped to {result.repo_root} (trajectories)", str(result.mapped.total()))
        for root, count in result.mapped.most_common():
            table.add_row(f"  {root} → {result.repo_root}", str(count))
    table.add_row("step examples", str(result.rows))
    table.add_row("validation", result.validation_rule)
    if result.validation_out is not None:
        table.add_row("validation instances", str(len(result.validation.instances)))
        table.add_row("validation trajectories", str(result.validation.trajectories))
        table.add_row("validation step examples", str(result.validation.rows))
    lengths = sorted(result.action_lengths)
    if lengths:
        table.add_row(
            "action length p50 / p90 / p99 / max (chars)",
            " / ".join(str(v) for v in (*(_percentile(lengths, q) for q in (0.5, 0.9, 0.99)), lengths[-1])),
        )
        table.add_row("action length mean (chars)", f"{statistics.fmean(lengths):.0f}")
    for name, count in result.commands.most_common(TOP_COMMANDS):
        table.add_row(f"  command {name}", str(count))
    return table


def _context_steps(value: str) -> int | None:
    if value == "all":
        return None
    steps = int(value)
    if steps < 0:
        raise argparse.ArgumentTypeError("must be >= 0 or 'all'")
    return steps


def _repo_root(value: str) -> str:
    if not value.startswith("/") or value.rstrip("/") == "":
        raise argparse.ArgumentTypeError(f"{value}: give an absolute directory such as /testbed")
    return value.rstrip("/")


def _validation(value: str) -> float:
    try:
        size = float(value)
    except ValueError:
        size = -1.0
    if not (value.strip().isdigit() or 0 < size < 1):
        raise argparse.ArgumentTypeError(f"{value}: give a count (30) or a fraction between 0 and 1 (0.05)")
    return size


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Return the parsed command line of ``python -m srl_swe.data``."""
    parser = argparse.ArgumentParser(prog="python -m srl_swe.data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the SRL step dataset from expert trajectories")
    build_parser.add_argument("--trajectories", required=True, help="file, folder, saved dataset or hub id")
    build_parser.add_argument("--out", required=True, type=Path, help="folder to save the dataset in")
    build_parser.add_argument(
        "--context-steps", type=_context_steps, default=2, help="previous steps shown (default 2, or 'all')"
    )
    build_parser.add_argument(
        "--max-observation-tokens", type=int, default=2048, help="clip each observation to this many tokens"
    )
    build_parser.add_argument(
        "--split",
        help="split to read, of a dataset or of a folder's split-named files (default: SWE-smith's 'tool' "
        "when the splits are tool/xml/ticks, else every split; 'all': every split)",
    )
    build_parser.add_argument(
        "--keep-unresolved", action="store_true", help="keep runs whose 'resolved' is false (default: drop)"
    )
    build_parser.add_argument("--model", help="keep only runs of this model (a provider prefix is ignored)")
    build_parser.add_argument(
        "--ids", type=Path, help="file of run ids (traj_id) or instance ids, one a line: read only those"
    )
    build_parser.add_argument(
        "--validation",
        type=_validation,
        default=None,
        help="hold out whole instances for validation: a count of trajectories or a fraction (0.05), saved "
        f"in OUT-validation (default: the paper's {DEFAULT_VALIDATION} when the build has at least "
        f"{DEFAULT_VALIDATION_MIN} trajectories, else none; 0: none)",
    )
    build_parser.add_argument("--seed", type=int, default=0, help="seed of the validation choice (default 0)")
    build_parser.add_argument(
        "--num-proc", type=int, default=min(2, os.cpu_count() or 1), help="worker processes"
    )
    build_parser.add_argument("--strict", action="store_true", help="stop at the first bad input")
    paths = build_parser.add_mutually_exclusive_group()
    paths.add_argument(
        "--repo-root",
        type=_repo_root,
        default=ENVIRONMENT_ROOT,
        help=f"rewrite each source's repository root to this one (default: {ENVIRONMENT_ROOT}, the env's)",
    )
    paths.add_argument(
        "--keep-source-paths",
        dest="repo_root",
        action="store_const",
        const=None,
        help="keep paths as the sources have them (e.g. SWE-Gym's /workspace/<repo>__<version>)",
    )
    build_parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out (and its OUT-validation)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (1 with a one-line error on bad input)."""
    args = parse_args(argv)
    logging.basicConfig(format="warning: %(message)s", level=logging.WARNING)
    datasets.disable_progress_bars()
    console = Console(stderr=True)
    config = StepExampleConfig(
        context_steps=args.context_steps, max_observation_tokens=args.max_observation_tokens
    )
    try:
        selection = Selection(
            resolved_only=not args.keep_unresolved,
            model=args.model,
            ids=load_ids(args.ids) if args.ids is not None else None,
        )
        result = build(
            args.trajectories,
            args.out,
            config=config,
            selection=selection,
            validation=args.validation,
            seed=args.seed,
            strict=args.strict,
            num_proc=args.num_proc,
            split=args.split,
            overwrite=args.overwrite,
            repo_root=args.repo_root,
            console=console,
        )
    except (TrajectoryFormatError, SelectionError, FileNotFoundError, FileExistsError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        return 1
    Console().print(summary_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
