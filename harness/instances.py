"""Task instances: one type for SWE-bench, SWE-Gym, SWE-smith and demo rows, and the loader of named sets.

Rows come from the Hugging Face hub (`datasets.load_dataset`) or from a local JSON / JSONL / Parquet file or
a folder of them. Normalising a row decodes JSON-string test lists, maps SWE-smith's fields onto SWE-bench's,
and fills what swebench 5 grades with (`image`, `eval_script`, `log_parser`, `eval_type`) where the row
lacks it. A SWE-smith row's `patch` is the diff that introduces the bug; the instance's gold `patch` is its
reverse (the bug diff is kept in `extra["bug_patch"]`) and its `base_commit` is the branch named after the
instance, which `harness.preparation` makes in each sandbox from the image's clean commit and the bug diff
(a `base_commit` in the row, the mirror's commit on GitHub, is not used: offline images do not have it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from harness import eval_scripts, image_names, swegym_specs, swesmith_profiles
from harness.diffs import reverse_diff
from harness.errors import (
    HubUnavailableError,
    InstanceRowError,
    InstanceSourceError,
    MissingInstancesError,
)
from harness.task_sets import DEMO, SWE_BENCH, SWE_GYM, SWE_SMITH, TaskSet, get_task_set

_COMMON_REQUIRED = ("instance_id", "repo", "problem_statement", "patch", "FAIL_TO_PASS", "PASS_TO_PASS")
_REQUIRED_FIELDS = {
    SWE_BENCH: (*_COMMON_REQUIRED, "base_commit", "test_patch"),
    SWE_GYM: (*_COMMON_REQUIRED, "base_commit", "test_patch"),
    DEMO: (*_COMMON_REQUIRED, "base_commit", "test_patch"),
    SWE_SMITH: _COMMON_REQUIRED,
}
_ROW_FILE_SUFFIXES = (".json", ".jsonl", ".parquet")
_REPEATS_NAMED = 3
logger = logging.getLogger(__name__)


@dataclass
class TaskInstance:
    """One task: the repository at a commit, the issue, the gold and test patches, and how it is graded."""

    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    patch: str
    test_patch: str
    FAIL_TO_PASS: list[str]
    PASS_TO_PASS: list[str]
    image: str
    eval_script: str
    log_parser: str
    eval_type: str
    version: str = ""
    environment_setup_commit: str = ""
    hints_text: str = ""
    created_at: str = ""
    task_set: str = ""
    extra: dict = field(default_factory=dict)
    image_source: str = field(default="", compare=False)
    """Where `image` came from (a row field, a set's naming rule, an image map): named when it is missing."""

    def to_row(self) -> dict[str, Any]:
        """Return the instance as a row with SWE-bench's field names (extra fields alongside, lists as lists).

        The row is what swebench 5's `make_test_spec` reads, and `from_row` reads it back unchanged.
        """
        row = dict(self.extra)
        for spec in fields(self):
            if spec.name not in ("extra", "task_set", "image_source"):
                value = getattr(self, spec.name)
                row[spec.name] = list(value) if isinstance(value, list) else value
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any], task_set: str, *, source: str = "") -> TaskInstance:
        """Return the instance a row of the named task set describes; `source` says where the row came from.

        Raises InstanceRowError (one line naming source, instance id and field) for a missing or bad field.
        """
        schema = get_task_set(task_set).schema
        where = _RowContext(row, source)
        for name in _REQUIRED_FIELDS[schema]:
            if row.get(name) is None:
                raise where.error(name, "missing required field")
        text = {name: where.text(name) for name in _TEXT_FIELDS}
        fail_to_pass = where.tests("FAIL_TO_PASS")
        pass_to_pass = where.tests("PASS_TO_PASS")
        extra = {key: value for key, value in row.items() if key not in _KNOWN_ROW_KEYS}
        if schema == SWE_SMITH:
            bug_patch = where.text("bug_patch") or text["patch"]
            if not bug_patch.strip():
                raise where.error("patch", "no bug diff (SWE-smith's patch puts the bug in place) in field")
            if "bug_patch" not in row:
                text["patch"] = reverse_diff(bug_patch)
            text["base_commit"] = text["instance_id"]
            extra["bug_patch"] = bug_patch
        if not text["instance_id"] or not text["repo"]:
            raise where.error("instance_id" if not text["instance_id"] else "repo", "empty required field")
        image_source = _image_field_source(row, where)
        if schema == SWE_SMITH and text["image"]:
            text["image"] = image_names.swesmith_image_for_host(text["image"])
        if not all(text[name] for name in _GRADING_FIELDS):
            derived = _derived_grading(schema, text, fail_to_pass, pass_to_pass)
            text.update({name: text[name] or derived[name] for name in _GRADING_FIELDS})
        return cls(
            **text,
            FAIL_TO_PASS=fail_to_pass,
            PASS_TO_PASS=pass_to_pass,
            task_set=task_set,
            extra=extra,
            image_source=image_source or f"the {task_set} naming rule",
        )


_TEXT_FIELDS = (
    "instance_id",
    "repo",
    "base_commit",
    "problem_statement",
    "patch",
    "test_patch",
    "image",
    "eval_script",
    "log_parser",
    "eval_type",
    "version",
    "environment_setup_commit",
    "hints_text",
    "created_at",
)
_GRADING_FIELDS = ("image", "eval_script", "log_parser", "eval_type")
# `image_name` is SWE-smith's column for `image`; `bug_patch` is kept in `extra`.
_KNOWN_ROW_KEYS = {*_TEXT_FIELDS, "FAIL_TO_PASS", "PASS_TO_PASS", "image_name", "task_set"}


class _RowContext:
    """Reads typed fields from one row, raising InstanceRowError that names the row."""

    def __init__(self, row: Mapping[str, Any], source: str) -> None:
        self.row = row
        self.source = source

    def error(self, name: str, problem: str) -> InstanceRowError:
        instance_id = self.row.get("instance_id")
        label = f"instance {instance_id}" if isinstance(instance_id, str) and instance_id else "row"
        where = f"{self.source}: " if self.source else ""
        return InstanceRowError(f"{where}{label}: {problem} {name!r}")

    def text(self, name: str) -> str:
        value = (
            self.row.get("image_name")
            if name == "image" and not self.row.get("image")
            else self.row.get(name)
        )
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            if name == "created_at":
                return str(value)
            raise self.error(name, f"expected text, got {type(value).__name__} in field")
        return str(value)

    def tests(self, name: str) -> list[str]:
        value = self.row.get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except json.JSONDecodeError:
                raise self.error(name, "invalid JSON list in field") from None
        if value is None:
            value = []
        if not isinstance(value, (list, tuple)) or not all(isinstance(test, str) for test in value):
            raise self.error(name, "expected a list of test names in field")
        return list(value)


def _image_field_source(row: Mapping[str, Any], where: _RowContext) -> str:
    """Return which row field named the image ("" when the image is derived from the set's naming rule)."""
    name = "image" if row.get("image") else "image_name" if row.get("image_name") else ""
    if not name:
        return ""
    return f"field {name!r} of {where.source}" if where.source else f"the row's field {name!r}"


def _derived_grading(
    schema: str, text: dict[str, str], fail_to_pass: list[str], pass_to_pass: list[str]
) -> dict[str, str]:
    """Return image / eval_script / log_parser / eval_type as each set's rules derive them for a row."""
    instance_id, base_commit, test_patch = text["instance_id"], text["base_commit"], text["test_patch"]
    if schema == SWE_BENCH:
        return {
            "image": image_names.swebench_image(instance_id),
            "eval_script": eval_scripts.swebench_eval_script(
                text["repo"], text["version"], base_commit, test_patch
            ),
            "log_parser": eval_scripts.swebench_log_parser(text["repo"]),
            "eval_type": eval_scripts.PASS_AND_FAIL,
        }
    if schema == SWE_GYM:
        spec = swegym_specs.spec_for(text["repo"], text["version"])
        return {
            "image": image_names.swegym_image(instance_id),
            "eval_script": eval_scripts.swegym_eval_script(
                base_commit, test_patch, fail_to_pass + pass_to_pass, spec
            ),
            "log_parser": spec.log_parser if spec else eval_scripts.PYTEST_LOG_PARSER,
            "eval_type": eval_scripts.PASS_AND_FAIL,
        }
    if schema == SWE_SMITH:
        return {
            "image": image_names.swesmith_image(instance_id),
            "eval_script": eval_scripts.swesmith_eval_script(instance_id, fail_to_pass, pass_to_pass),
            "log_parser": swesmith_profiles.profile_for(instance_id).log_parser,
            "eval_type": eval_scripts.PASS_AND_FAIL,
        }
    return {
        "image": image_names.demo_image(text["repo"], base_commit),
        "eval_script": eval_scripts.demo_eval_script(base_commit, test_patch),
        "log_parser": eval_scripts.PYTEST_LOG_PARSER,
        "eval_type": eval_scripts.PASS_AND_FAIL,
    }


def load_instances(
    task: str,
    path: str | Path | None = None,
    instance_ids: Sequence[str] | None = None,
    *,
    image_map: str | Path | Mapping[str, str] | None = None,
) -> list[TaskInstance]:
    """Return the task instances of the named set, from `path` when given, else the hub (or the package).

    `instance_ids` keeps only those ids (in the set's order) and fails naming any that are missing;
    `image_map` (a JSON / YAML file or a mapping of instance id -> image) overrides the instances' images;
    a key that is no instance of the set is warned about (logged), never silently ignored.
    """
    task_set = get_task_set(task)
    if path is not None:
        rows = _rows_from_path(Path(path))
    elif task_set.schema == DEMO:
        rows = _packaged_demo_rows()
    else:
        rows = _rows_from_hub(task_set)
    instances = _unique((source, TaskInstance.from_row(row, task, source=source)) for source, row in rows)
    if image_map is not None:
        apply_image_map(instances, image_map, task)
    if instance_ids is not None:
        instances = _select(instances, instance_ids, task)
    return instances


def apply_image_map(
    instances: list[TaskInstance], image_map: str | Path | Mapping[str, str], task: str = ""
) -> list[str]:
    """Set the mapped instances' images (and where the name came from); return the map's unknown ids.

    `image_map` is a JSON / YAML file or a mapping of instance id -> image. Ids that are no instance of
    `instances` are logged as a warning naming them (a typo must not silently fall back to the default).
    """
    if isinstance(image_map, Mapping):
        overrides, origin = dict(image_map), "the image map given"
    else:
        overrides, origin = image_names.load_image_map(image_map), f"image map {image_map}"
    present = {instance.instance_id for instance in instances}
    unknown = [instance_id for instance_id in overrides if instance_id not in present]
    if unknown:
        shown = ", ".join(unknown[:_REPEATS_NAMED]) + (
            f" and {len(unknown) - _REPEATS_NAMED} more" if len(unknown) > _REPEATS_NAMED else ""
        )
        where = f" of task set {task}" if task else ""
        logger.warning("%s: %d id(s) match no instance%s: %s", origin, len(unknown), where, shown)
    for instance in instances:
        if instance.instance_id in overrides:
            instance.image = overrides[instance.instance_id]
            instance.image_source = origin
    return unknown


def _unique(instances: Iterable[tuple[str, TaskInstance]]) -> list[TaskInstance]:
    """Return each instance once, in first-seen order: a row repeating an earlier one exactly is dropped (one
    warning names them all); two different rows with one instance id raise InstanceRowError naming both."""
    first: dict[str, tuple[str, TaskInstance]] = {}
    repeats: list[str] = []
    for source, instance in instances:
        if instance.instance_id not in first:
            first[instance.instance_id] = (source, instance)
            continue
        earlier_source, earlier = first[instance.instance_id]
        if instance != earlier:
            old, new = earlier.to_row(), instance.to_row()
            fields_differing = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
            raise InstanceRowError(
                f"instance {instance.instance_id} appears twice with different rows: {earlier_source} and "
                f"{source} (differing in {', '.join(fields_differing)})"
            )
        repeats.append(f"{source} repeats {earlier_source}")
    if repeats:
        more = f"; and {len(repeats) - _REPEATS_NAMED} more" if len(repeats) > _REPEATS_NAMED else ""
        logger.warning(
            "%d repeated instance row(s) kept once: %s%s",
            len(repeats),
            "; ".join(repeats[:_REPEATS_NAMED]),
            more,
        )
    return [instance for _, instance in first.values()]


def _select(instances: list[TaskInstance], instance_ids: Sequence[str], task: str) -> list[TaskInstance]:
    wanted = set(instance_ids)
    present = {instance.instance_id for instance in instances}
    missing = [instance_id for instance_id in dict.fromkeys(instance_ids) if instance_id not in present]
    if missing:
        raise MissingInstancesError(f"instance ids not in task set {task}: {', '.join(missing)}")
    return [instance for instance in instances if instance.instance_id in wanted]


def _rows_from_path(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if path.is_dir():
        files = sorted(
            candidate
            for candidate in path.rglob("*")
            if candidate.suffix in _ROW_FILE_SUFFIXES
            and not any(part.startswith(".") for part in candidate.parts)
        )
        if not files:
            raise InstanceSourceError(f"no .json, .jsonl or .parquet files in folder {path}")
        for file in files:
            yield from _rows_from_file(file)
    elif path.is_file():
        yield from _rows_from_file(path)
    else:
        raise InstanceSourceError(f"instances file not found: {path}")


def _rows_from_file(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if path.suffix not in _ROW_FILE_SUFFIXES:
        raise InstanceSourceError(f"unsupported instances file {path}: expected .json, .jsonl or .parquet")
    if path.suffix == ".parquet":
        rows = _parquet_rows(path)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InstanceSourceError(f"cannot read instances file {path}: {error}") from None
        if path.suffix == ".jsonl":
            yield from _jsonl_rows(path, text)
            return
        rows = _json_rows(path, text)
    for number, row in enumerate(rows, start=1):
        yield f"{path} row {number}", _as_row(row, f"{path} row {number}")


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source = f"{path} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InstanceSourceError(f"{source}: invalid JSON ({error.msg})") from None
        yield source, _as_row(row, source)


def _json_rows(path: Path, text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InstanceSourceError(f"{path}: invalid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, list):
        raise InstanceSourceError(f"{path}: expected a JSON list of instance rows, got {type(data).__name__}")
    return data


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet

    try:
        return pyarrow.parquet.read_table(path).to_pylist()
    except (OSError, ValueError) as error:
        raise InstanceSourceError(f"cannot read Parquet file {path}: {str(error).splitlines()[0]}") from None


def _as_row(row: Any, source: str) -> Mapping[str, Any]:
    if not isinstance(row, Mapping):
        raise InstanceSourceError(
            f"{source}: expected an object with instance fields, got {type(row).__name__}"
        )
    return row


def _packaged_demo_rows() -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        resource = resources.files("harness.demo") / "instances.jsonl"
        text = resource.read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        raise InstanceSourceError(
            "the demo set is not installed: harness/demo/instances.jsonl is missing"
        ) from None
    yield from _jsonl_rows(Path("harness/demo/instances.jsonl"), text)


def _rows_from_hub(task_set: TaskSet) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        import datasets

        dataset = datasets.load_dataset(task_set.hub_dataset, split=task_set.split)
    except Exception as error:  # offline, unknown dataset, missing `datasets`: all mean "use a local file"
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise HubUnavailableError(
            f"cannot load {task_set.hub_dataset} ({task_set.split}) from the Hugging Face hub ({reason}); "
            "pass --path with a local JSON, JSONL or Parquet file or folder"
        ) from None
    for number, row in enumerate(dataset, start=1):
        yield f"{task_set.hub_dataset} row {number}", row
