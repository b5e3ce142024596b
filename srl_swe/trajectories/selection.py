"""Which raw rows of a trajectory source become trajectories, and which instances are held out for validation.

Public expert data holds more than the paper trained on (Deng et al. 2025: resolved SWE-smith trajectories in
SWE-agent's tool-call style, 30 of them held out). ``SWE-bench/SWE-smith-trajectories`` holds every run three
times, in the splits ``tool``, ``xml`` and ``ticks`` (one SWE-agent run rendered in three styles, same
``traj_id``), with a ``resolved`` column and more unresolved runs than resolved ones;
``SWE-Gym/OpenHands-Sampled-Trajectories`` holds mostly unresolved runs too. What is read by default:

* **split**: ``tool`` when a source's splits are SWE-smith's, every split otherwise (``all`` asks for every
  split). A source's splits are those of a saved ``DatasetDict``, of a hub dataset, or, for a folder, the
  names of its row files (``tool.jsonl``, or the hub's ``tool-00000-of-00003.parquet``);
* **resolved runs only**: a row whose ``resolved`` field is false is removed (a row without the field, such as
  a SWE-agent ``.traj`` or SWE-Gym's all-successful SFT rows, is kept);
* **one trajectory per run**: a row whose run was read already is removed. The run is the row's ``traj_id``
  (SWE-smith), ``trajectory_id``, or ``instance_id@run_id`` (SWE-Gym); rows naming no run are all kept;
* optionally **one model** (the ``model`` column, or a SWE-agent ``.traj``'s ``replay_config``; a provider
  prefix such as ``anthropic/`` is ignored) and an **id list** that pins an exact subset (a row is kept when
  its run or its ``instance_id`` is listed).

The filters act on the raw row, before a trajectory is parsed from it, and each removal is counted under the
first filter that removes the row (:class:`Selector`).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALL_SPLITS = "all"
SWE_SMITH_SPLITS = ("tool", "xml", "ticks")
PAPER_SPLIT = "tool"
# Filter names, in the order the filters apply; the build summary counts the rows each removed.
NOT_LISTED, OTHER_MODEL, UNRESOLVED = "id not listed", "other model", "unresolved"
REPEATED_RUN = "run read already"
_SPLIT_FILE = re.compile(r"(?P<split>.+?)(?:-\d+-of-\d+)?\.(?:parquet|jsonl|json)")
_SAVED_SPLITS = "dataset_dict.json"


class SelectionError(ValueError):
    """A split, id list or validation size that cannot be used; the message names it in one line."""


@dataclass(frozen=True)
class Selection:
    """The row filters of a read; the defaults give the paper's data (see the module docstring).

    ``resolved_only``: remove rows whose ``resolved`` is false (paper: resolved runs only).
    ``model``: keep only rows of this model (None: every model).
    ``ids``: keep only rows whose run or instance id is listed (None: every row).
    """

    resolved_only: bool = True
    model: str | None = None
    ids: frozenset[str] | None = None

    def filters(self) -> tuple[str, ...]:
        """Return the names of the filters this selection applies, in the order they apply."""
        active = (
            (NOT_LISTED, self.ids is not None),
            (OTHER_MODEL, self.model is not None),
            (UNRESOLVED, self.resolved_only),
            (REPEATED_RUN, True),
        )
        return tuple(name for name, on in active if on)


PAPER_SELECTION = Selection()


class Selector:
    """Applies a :class:`Selection` to the raw rows of one read, one row at a time.

    ``rows`` counts the rows seen, ``removed`` the rows each filter removed, ``matched_ids`` the listed ids
    some row matched, and ``run_keys`` maps the source of each admitted row that names its run to the run.
    """

    def __init__(self, selection: Selection = PAPER_SELECTION) -> None:
        self.selection = selection
        self.rows = 0
        self.removed: Counter[str] = Counter()
        self.matched_ids: set[str] = set()
        self.run_keys: dict[str, str] = {}
        self._runs_read: set[str] = set()

    def admit(self, row: Any, source: str, fallback_id: str = "") -> bool:
        """Return True when the raw row at ``source`` is to be read; count it under its filter otherwise.

        ``fallback_id`` is the instance id the row's file is named after, for rows that name none. A row that
        is not an object is admitted: reading it reports what is wrong with it.
        """
        self.rows += 1
        if not isinstance(row, Mapping):
            return True
        key = run_key(row)
        reason = self._reason(row, key, str(row.get("instance_id") or fallback_id))
        if reason is not None:
            self.removed[reason] += 1
            return False
        if key is not None:
            self._runs_read.add(key)
            self.run_keys[source] = key
        return True

    def _reason(self, row: Mapping[str, Any], key: str | None, instance_id: str) -> str | None:
        selection = self.selection
        if selection.ids is not None:
            listed = {name for name in (key, instance_id) if name in selection.ids}
            if not listed:
                return NOT_LISTED
            self.matched_ids |= listed
        if selection.model is not None and not same_model(model_of(row), selection.model):
            return OTHER_MODEL
        if selection.resolved_only and is_resolved(row) is False:
            return UNRESOLVED
        if key is not None and key in self._runs_read:
            return REPEATED_RUN
        return None


def run_key(row: Mapping[str, Any]) -> str | None:
    """Return the run a raw row records (``traj_id``, ``trajectory_id``, ``instance_id@run_id``), or None."""
    for name in ("traj_id", "trajectory_id"):
        value = row.get(name)
        if isinstance(value, str) and value:
            return value
    instance_id, run_id = row.get("instance_id"), row.get("run_id")
    return f"{instance_id}@{run_id}" if instance_id and run_id else None


def is_resolved(row: Mapping[str, Any]) -> bool | None:
    """Return the row's ``resolved`` field as a bool (``true``/``1`` strings too), None when it has none."""
    value = row.get("resolved")
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
    return None


def model_of(row: Mapping[str, Any]) -> str | None:
    """Return the model that made a raw row: its ``model`` column, else a SWE-agent ``replay_config``'s."""
    model = row.get("model")
    if isinstance(model, str) and model:
        return model
    replay = row.get("replay_config")
    if isinstance(replay, str):
        try:
            replay = json.loads(replay)
        except json.JSONDecodeError:
            return None
    agent = replay.get("agent") if isinstance(replay, Mapping) else None
    config = agent.get("model") if isinstance(agent, Mapping) else None
    name = config.get("name") if isinstance(config, Mapping) else None
    return name if isinstance(name, str) and name else None


def same_model(found: str | None, wanted: str) -> bool:
    """Return True when model ``found`` is ``wanted``, ignoring a provider prefix (``anthropic/…``)."""
    return found is not None and (found == wanted or found.rsplit("/", 1)[-1] == wanted.rsplit("/", 1)[-1])


def load_ids(path: str | Path) -> frozenset[str]:
    """Return the ids listed in a text file, one a line (blank lines and ``#`` comments are ignored)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SelectionError(f"--ids {path}: cannot read the id list ({error})") from None
    ids = frozenset(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if not ids:
        raise SelectionError(f"--ids {path}: the id list holds no ids")
    return ids


def split_of_file(name: str) -> str | None:
    """Return the split a row file's name gives (``tool.jsonl``, ``tool-00000-of-00003.parquet``), or None."""
    match = _SPLIT_FILE.fullmatch(name)
    return match.group("split") if match else None


def files_of_split(files: Iterable[Path], split: str) -> list[Path]:
    """Return the files of ``files`` that hold split ``split`` by their names."""
    return [file for file in files if split_of_file(file.name) == split]


def source_splits(path: str | Path, files: Sequence[Path] = (), *, hub: bool = False) -> list[str]:
    """Return the splits of a trajectory source: a saved DatasetDict's, a hub dataset's (``hub``), or those
    the names of a folder's row ``files`` give; empty for a single file or a saved dataset without splits."""
    location = Path(path)
    if hub:
        import datasets

        try:
            return list(datasets.get_dataset_split_names(str(path)))
        except Exception as error:  # offline, unknown, gated: all one line for the user
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise SelectionError(f"cannot list the splits of hub dataset {path}: {first[:200]}") from None
    if (location / _SAVED_SPLITS).is_file():
        return list(json.loads((location / _SAVED_SPLITS).read_text(encoding="utf-8"))["splits"])
    return sorted({split for file in files if (split := split_of_file(file.name)) is not None})


def choose_split(path: str | Path, asked: str | None, splits: Sequence[str]) -> str | None:
    """Return the split to read from the source at ``path`` with ``splits``: ``asked`` (checked), else the
    paper's (``tool`` for SWE-smith's splits); None means every split (``all`` asked, or no default)."""
    if asked == ALL_SPLITS:
        return None
    if asked is None:
        return PAPER_SPLIT if set(SWE_SMITH_SPLITS) <= set(splits) else None
    if asked not in splits:
        known = f"its splits: {', '.join(splits)}" if splits else "it has no splits"
        raise SelectionError(f"--split {asked}: no such split in {path} ({known})")
    return asked


@dataclass(frozen=True)
class Run:
    """One trajectory read: its run (None when its row names none), its instance, its step examples, and the
    source root its paths were rewritten from (None: none rewritten)."""

    key: str | None
    instance_id: str
    rows: int
    mapped_from: str | None = None


@dataclass
class Held:
    """The validation choice: the instances held out and how many trajectories and step examples they give."""

    instances: set[str] = field(default_factory=set)
    trajectories: int = 0
    rows: int = 0


def choose_validation(runs: Sequence[Run], size: float, seed: int = 0) -> Held:
    """Return the instances held out for validation: whole instances, in a seeded random order, taken while
    they fit, until ``size`` trajectories (a count, or a fraction of the trajectories when below 1).

    Only trajectories that give step examples count. Raises SelectionError when the held-out instances would
    leave no training trajectory.
    """
    by_instance: Counter[str] = Counter(run.instance_id for run in runs if run.rows)
    total = sum(by_instance.values())
    target = round(size * total) if size < 1 else int(size)
    held = Held()
    if target == 0:
        return held
    if target >= total:
        raise SelectionError(
            f"--validation {size:g}: holding out {target} of the {total} trajectories read "
            "leaves none to train on"
        )
    order = sorted(by_instance)
    random.Random(seed).shuffle(order)
    for instance in order:
        if held.trajectories + by_instance[instance] <= target:
            held.instances.add(instance)
            held.trajectories += by_instance[instance]
        if held.trajectories == target:
            break
    held.rows = sum(run.rows for run in runs if run.instance_id in held.instances)
    return held
