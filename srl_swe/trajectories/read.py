"""Read trajectories from a file, folder, saved HF dataset or hub dataset id; format detected per record.

Files: ``.traj`` / ``.traj.json`` / ``.json`` (one record, or a list of records), ``.jsonl`` (one record a
line), ``.parquet`` (one record a row). A folder is searched recursively for those, unless it is a dataset
saved with ``datasets.save_to_disk``. A path that does not exist but looks like ``owner/name`` is loaded
with ``datasets.load_dataset``.

Bad input never stops a read: a malformed file or record, an unknown format, a step without an action is
skipped with a warning naming file and position, and recorded in the :class:`ReadLog` when one is given.
With ``strict=True`` the first of them raises :class:`TrajectoryFormatError` instead. Replies and tool
calls left out by design (rejected by the agent's scaffold, no environment command) are counted as
``dropped`` skips and never raise.

Paths: every trajectory's repository root is rewritten to ``repo_root`` (the environment's ``/testbed`` by
default; None keeps the source's) in thoughts, actions and observations; the source's root stays in
``Trajectory.source_root`` (see :mod:`srl_swe.trajectories.paths`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from srl_swe.trajectories.paths import ENVIRONMENT_ROOT, with_repo_root
from srl_swe.trajectories.records import is_trajectory_list, trajectory_from_record
from srl_swe.trajectories.selection import Selector, files_of_split
from srl_swe.trajectories.types import DROPPED, STEP, ReadLog, Skip, Trajectory, TrajectoryFormatError

logger = logging.getLogger(__name__)

TRAJECTORY_SUFFIXES = (".traj.json", ".traj", ".jsonl", ".json", ".parquet")
_SAVED_DATASET_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


class _StrictStop(TrajectoryFormatError):
    """Raised by a strict read at the first bad input; already names the file and position."""


class _Reader:
    def __init__(
        self,
        strict: bool,
        log: ReadLog | None,
        selector: Selector | None = None,
        repo_root: str | None = ENVIRONMENT_ROOT,
    ) -> None:
        self.strict = strict
        self.log = log if log is not None else ReadLog()
        self.selector = selector
        self.repo_root = repo_root

    def skip(self, where: str, reason: str, kind: str = "record") -> None:
        if self.strict and kind != DROPPED:
            raise _StrictStop(f"{where}: {reason}")
        logger.log(logging.DEBUG if kind == DROPPED else logging.WARNING, "skipped %s: %s", where, reason)
        self.log.skipped.append(Skip(where, reason, kind))

    def record(self, record: Any, source: str, fallback_id: str) -> Trajectory | None:
        if self.selector is not None and not self.selector.admit(record, source, fallback_id):
            return None
        try:
            trajectory = trajectory_from_record(
                record,
                source,
                fallback_id,
                lambda position, reason, kind=STEP: self.skip(f"{source} {position}", reason, kind),
            )
        except _StrictStop:
            raise
        except TrajectoryFormatError as error:
            self.skip(source, str(error))
            return None
        if not trajectory.steps:
            self.skip(source, "no expert steps")
            return None
        return with_repo_root(trajectory, self.repo_root)

    def records(self, records: Iterable[Any], prefix: str, fallback_id: str) -> Iterator[Trajectory]:
        for position, record in enumerate(records):
            trajectory = self.record(record, f"{prefix}#{position}", fallback_id)
            if trajectory is not None:
                yield trajectory

    def file(self, path: Path) -> Iterator[Trajectory]:
        fallback_id = instance_id_from_name(path.name)
        try:
            if path.name.endswith(".jsonl"):
                yield from self._jsonl(path, fallback_id)
                return
            if path.suffix == ".parquet":
                yield from self.dataset(_load_parquet(path), str(path))
                return
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            self.skip(str(path), f"unreadable: {error}")
            return
        if isinstance(data, list) and not is_trajectory_list(data):
            yield from self.records(data, str(path), fallback_id)
        else:
            trajectory = self.record(data, str(path), fallback_id)
            if trajectory is not None:
                yield trajectory

    def _jsonl(self, path: Path, fallback_id: str) -> Iterator[Trajectory]:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{path}#{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    self.skip(where, f"invalid JSON: {error}")
                    continue
                trajectory = self.record(record, where, fallback_id)
                if trajectory is not None:
                    yield trajectory

    def dataset(self, dataset: Any, name: str, shard: tuple[int, int] | None = None) -> Iterator[Trajectory]:
        splits = dataset.items() if hasattr(dataset, "keys") else [("", dataset)]
        for split, rows in splits:
            prefix = f"{name}:{split}" if split else name
            if shard is not None:
                index, count = shard
                rows = rows.shard(count, index, contiguous=True)
                prefix += f"[shard {index}/{count}]"
            yield from self.records(rows, prefix, "")


def _load_parquet(path: Path) -> Any:
    from datasets import Dataset

    return Dataset.from_parquet(str(path))


def instance_id_from_name(file_name: str) -> str:
    """Return the instance id a trajectory file is named after (its name less the trajectory suffix)."""
    for suffix in TRAJECTORY_SUFFIXES:
        if file_name.endswith(suffix):
            return file_name[: -len(suffix)]
    return file_name


def is_saved_dataset(path: Path) -> bool:
    """Return True when ``path`` is a folder written by ``datasets.save_to_disk``."""
    return path.is_dir() and any((path / marker).is_file() for marker in _SAVED_DATASET_MARKERS)


def trajectory_files(folder: Path, split: str | None = None) -> list[Path]:
    """Return the trajectory files under ``folder`` (recursively, sorted), by their suffixes; with ``split``,
    those of that split by their names (``tool.jsonl``, ``tool-00000-of-00003.parquet``)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(TRAJECTORY_SUFFIXES))
    return files if split is None else files_of_split(files, split)


def is_hub_id(path: str | Path) -> bool:
    """Return True when ``path`` is no local file or folder but looks like a hub dataset id (owner/name)."""
    return not Path(path).exists() and str(path).count("/") == 1 and not str(path).startswith((".", "/"))


def iter_trajectories(
    path: str | Path,
    *,
    strict: bool = False,
    log: ReadLog | None = None,
    split: str | None = None,
    shard: tuple[int, int] | None = None,
    selector: Selector | None = None,
    repo_root: str | None = ENVIRONMENT_ROOT,
) -> Iterator[Trajectory]:
    """Yield the trajectories at ``path`` one at a time (see the module docstring for what ``path`` may be).

    ``split`` picks one split of a dataset with several (e.g. SWE-smith's ``tool``; of a folder: its files of
    that split); all splits otherwise. ``shard=(index, count)`` reads only that contiguous shard of each split
    of a dataset (files: ignored). ``selector`` filters the raw rows before they are parsed
    (:mod:`srl_swe.trajectories.selection`); every row is read without one. ``repo_root``: the repository
    root paths are rewritten to (None: kept as the source has them).
    """
    reader = _Reader(strict, log, selector, repo_root)
    location = Path(path)
    if is_saved_dataset(location):
        from datasets import load_from_disk

        dataset = load_from_disk(str(location))
        yield from reader.dataset(dataset[split] if split else dataset, str(location), shard)
    elif location.is_dir():
        for file in trajectory_files(location, split):
            yield from reader.file(file)
    elif location.is_file():
        yield from reader.file(location)
    elif is_hub_id(path):
        from datasets import load_dataset

        yield from reader.dataset(load_dataset(str(path), split=split), str(path), shard)
    else:
        raise FileNotFoundError(f"no trajectories at {path}: not a file, folder, saved dataset or hub id")


def read(
    path: str | Path,
    *,
    strict: bool = False,
    log: ReadLog | None = None,
    split: str | None = None,
    repo_root: str | None = ENVIRONMENT_ROOT,
) -> list[Trajectory]:
    """Return every trajectory at ``path`` (a file, folder, saved HF dataset or hub id) in reading order,
    its repository root rewritten to ``repo_root`` (None: as the source has it)."""
    return list(iter_trajectories(path, strict=strict, log=log, split=split, repo_root=repo_root))
