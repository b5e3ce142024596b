"""Task images: the offline base and demo images built here, pulling the others, checking and pruning them.

No registry is needed for the demo: the base image is a `mmdebstrap` root file system imported with
`docker import` (mmdebstrap uses the machine's own apt sources), and each demo repository becomes an image
with the repo at /testbed, HEAD at its base commit. Real SWE-bench / SWE-Gym / SWE-smith images are pulled
when a registry answers (after a free-disk check), or brought by the user (`--image-map FILE`).

CLI:
  python -m harness.images ensure-base | ensure-demo [--layout swebench|swesmith] | list
  python -m harness.images check --task T [--path P] [--instance-ids ID ...] [--image-map F] [--no-pull]
  python -m harness.images prune [--yes] [--match GLOB]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HarnessError
from harness.image_names import DEMO_NAMESPACE
from harness.sandbox.errors import ImageMissingError

if TYPE_CHECKING:
    import docker
    from rich.table import Table

    from harness.grading import GradingConfig
    from harness.instances import TaskInstance
    from harness.sandbox.base import CommandResult, Sandbox

BASE_IMAGE = "srl-swe/base:bookworm"
BASE_SUITE = "bookworm"
# What every task image needs: an interpreter for the repo and for our in-container tools, git for resets
# and diffs, pytest for the demo suites, patch as the last fallback when applying patches, procps for ps/kill.
BASE_PACKAGES = (
    "python3",
    "python3-pip",
    "python3-venv",
    "python3-pytest",
    "git",
    "patch",
    "procps",
    "ca-certificates",
)
IMAGE_LABEL = "srl_swe.image"
"""Label on every image built here; its value is the kind: base, demo, swebench-layout, swesmith-layout."""
LAYOUTS = ("plain", "swebench", "swesmith")
LAYOUT_NAMESPACE = "srl-swe-layout"
PULL_MIN_FREE_BYTES = 10 * 2**30
"""Free disk the engine's data root must have before a pull starts (SWE-bench images are 1-6 GB each)."""
_NAMED = 3
_UNREACHABLE = ("dial tcp", "no such host", "connection refused", "i/o timeout", "timeout", "network is")

# SWE-bench's layout on an image without conda: `source /opt/miniconda3/bin/activate && conda activate
# testbed` puts /opt/miniconda3/envs/testbed/bin first on PATH, as conda would; the env holds the system
# Python and its pytest.
CONDA_SHIM = """\
# srl_swe's stand-in for conda's activate script (SWE-bench's image layout without conda itself):
# `source /opt/miniconda3/bin/activate` defines `conda`; `conda activate NAME` puts envs/NAME/bin on PATH
# and, as conda does, sources the env's etc/conda/activate.d/*.sh.
conda() {
    case "$1" in
        activate)
            _prefix=/opt/miniconda3
            [ "${2:-base}" = base ] || _prefix="/opt/miniconda3/envs/$2"
            if [ ! -d "$_prefix/bin" ]; then
                echo "EnvironmentNameNotFound: Could not find conda environment: $2" >&2
                return 1
            fi
            export PATH="$_prefix/bin:$PATH" CONDA_PREFIX="$_prefix" CONDA_DEFAULT_ENV="${2:-base}"
            for _script in "$_prefix"/etc/conda/activate.d/*.sh; do
                if [ -f "$_script" ]; then . "$_script"; fi
            done
            ;;
        deactivate) unset CONDA_PREFIX CONDA_DEFAULT_ENV ;;
        *) echo "conda (srl_swe shim): only activate and deactivate" >&2; return 1 ;;
    esac
}
export CONDA_SHLVL=1
"""


def _client() -> docker.DockerClient:
    from harness.sandbox.engine import connect_engine

    return connect_engine()


def image_exists(name: str) -> bool:
    """Return True when the engine has an image called `name`."""
    return _has_image(_client(), name)


def _has_image(client: docker.DockerClient, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def build_base_image(name: str = BASE_IMAGE, suite: str = BASE_SUITE) -> str:
    """Build the Debian base image with mmdebstrap and `docker import`; return its name."""
    if shutil.which("mmdebstrap") is None:
        raise RuntimeError("mmdebstrap is not installed: run scripts/setup.sh or apt-get install mmdebstrap")
    with tempfile.TemporaryDirectory(prefix="srl-swe-base-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        include = f"--include={','.join(BASE_PACKAGES)}"
        subprocess.run(
            ["mmdebstrap", "--variant=minbase", "--quiet", include, suite, str(rootfs)], check=True
        )
        changes = ["ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]', f"LABEL {IMAGE_LABEL}=base"]
        with rootfs.open("rb") as data:
            _client().images.client.api.import_image_from_data(data.read(), repository=name, changes=changes)
    return name


def ensure_base_image(name: str = BASE_IMAGE) -> str:
    """Build the base image unless it exists; return its name."""
    if not image_exists(name):
        print(f"building the offline base image {name} (mmdebstrap, about 30 s)", file=sys.stderr)
        build_base_image(name)
    return name


def _dockerfile(base: str, commit: str, layout: str) -> str:
    lines = [f"FROM {base}", f"LABEL {IMAGE_LABEL}={'demo' if layout == 'plain' else f'{layout}-layout'}"]
    if layout != "plain":  # the testbed env: a venv on the system's packages, the repo installed in it
        env = "/opt/miniconda3/envs/testbed"
        lines += [
            "COPY activate /opt/miniconda3/bin/activate",
            f"RUN python3 -m venv --system-site-packages --without-pip {env} && printf '%s\\n' "
            f"'#!{env}/bin/python' 'import sys' 'from pytest import console_main' 'sys.exit(console_main())' "
            f"> {env}/bin/pytest && chmod +x {env}/bin/pytest && echo /testbed > "
            f"$(echo {env}/lib/python3*/site-packages)/testbed.pth",
        ]
    lines += [
        "COPY testbed /testbed",
        "WORKDIR /testbed",
        "RUN git config --global --add safe.directory /testbed",
        f"RUN git checkout -q {commit} && git status --short",
        "",
    ]
    return "\n".join(lines)


def build_demo_image(
    repo: str,
    base_commit: str,
    name: str,
    base: str = BASE_IMAGE,
    layout: str = "plain",
    commit_on_top: Callable[[Path], str] | None = None,
) -> str:
    """Build the image for one demo repository at `base_commit` and return its name.

    `layout="swebench"` builds it in SWE-bench's layout: the repo at /testbed and a conda-style
    `/opt/miniconda3/bin/activate` whose `conda activate testbed` works (a shim on the system Python), so
    SWE-bench-style eval scripts run on it unchanged; `layout="swesmith"` is the same layout, labelled as
    SWE-smith's. `commit_on_top(repo_dir)`, when given, makes a commit on `base_commit` in the repository
    before it is copied in and returns it: the image then holds that commit.
    """
    from harness.demo import build_repo

    if layout not in LAYOUTS:
        raise ValueError(f"unknown image layout {layout!r}; known: {', '.join(LAYOUTS)}")
    ensure_base_image(base)
    with tempfile.TemporaryDirectory(prefix="srl-swe-demo-") as tmp:
        context = Path(tmp)
        build_repo(repo, context / "testbed")
        commit = commit_on_top(context / "testbed") if commit_on_top else base_commit
        (context / "activate").write_text(CONDA_SHIM)
        (context / "Dockerfile").write_text(_dockerfile(base, commit, layout))
        _client().images.build(path=str(context), tag=name, rm=True, forcerm=True, network_mode="none")
    return name


def swebench_layout_image(instance: TaskInstance) -> str:
    """Return the name of a demo instance's SWE-bench-layout image: `srl-swe-layout/<repo>:<commit12>`."""
    return f"{LAYOUT_NAMESPACE}/{instance.repo.rsplit('/', 1)[-1].lower()}:{instance.base_commit[:12]}"


def ensure_swebench_layout_images(instances: Iterable[TaskInstance]) -> dict[str, str]:
    """Build (unless present) the SWE-bench-layout image of each demo instance; return the image map
    instance id -> image, ready for `--image-map`."""
    client = _client()
    image_map = {}
    for instance in instances:
        name = swebench_layout_image(instance)
        if not _has_image(client, name):
            print(f"building {name} (SWE-bench layout)", file=sys.stderr)
            build_demo_image(instance.repo, instance.base_commit, name, layout="swebench")
        image_map[instance.instance_id] = name
    return image_map


# ---------------------------------------------------------------- making sure the images are there


def ensure_images(
    instances: Iterable[TaskInstance],
    *,
    pull: bool = True,
    progress: bool = True,
    min_free_bytes: int = PULL_MIN_FREE_BYTES,
) -> list[str]:
    """Build the missing demo images, pull the other missing ones when `pull` and a registry answers.

    Returns the images' names. Raises ImageMissingError in one line naming every image still missing, the
    instance it is for and where its name came from (row, naming rule or image map), and how to get it.
    """
    wanted: dict[str, TaskInstance] = {}
    for instance in instances:
        wanted.setdefault(instance.image, instance)
    client = _client()
    missing = []
    for name, instance in sorted(wanted.items()):
        if _has_image(client, name):
            continue
        if name.startswith(f"{DEMO_NAMESPACE}/"):
            print(f"building demo image {name}", file=sys.stderr)
            build_demo_image(instance.repo, instance.base_commit, name)
        else:
            missing.append(instance)
    if missing and not pull:
        raise ImageMissingError(
            f"{_named(missing)} not on the engine and --no-pull forbids pulling: pull or build "
            f"{'it' if len(missing) == 1 else 'them'}, or pass --image-map FILE mapping instance ids to "
            "images you have"
        )
    if missing:
        _check_free_disk(client, len(missing), min_free_bytes)
        _pull_all(client, missing, progress)
    return sorted(wanted)


def ensure_each_image(
    instances: Iterable[TaskInstance], *, pull: bool = True, progress: bool = True
) -> dict[str, str]:
    """Make each instance's image available as :func:`ensure_images` does, one image at a time, so that one
    missing image stops only its own instances.

    Returns the instances whose image is still missing, by instance id, each with its one-line cause (the
    image, where its name came from, why it could not be had); the other instances' images are there.
    """
    by_image: dict[str, list[TaskInstance]] = {}
    for instance in instances:
        by_image.setdefault(instance.image, []).append(instance)
    causes = {}
    for group in by_image.values():
        try:
            ensure_images(group[:1], pull=pull, progress=progress)
        except ImageMissingError as error:
            causes |= {instance.instance_id: str(error) for instance in group}
    return causes


def _named(instances: Sequence[TaskInstance]) -> str:
    """Return 'image X for instance Y (from Z)' for the first few instances, and how many more."""
    shown = "; ".join(
        f"image {i.image} for instance {i.instance_id} (from {i.image_source or 'the row'})"
        for i in instances[:_NAMED]
    )
    more = f"; and {len(instances) - _NAMED} more" if len(instances) > _NAMED else ""
    return f"{shown}{more} {'is' if len(instances) == 1 else 'are'}"


def _check_free_disk(client: docker.DockerClient, count: int, min_free_bytes: int) -> None:
    """Raise ImageMissingError when the engine's local data root has less than `min_free_bytes` free."""
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        return  # a remote engine's disk cannot be seen from here
    try:
        root = client.info().get("DockerRootDir") or ""
        free = shutil.disk_usage(root).free if root and Path(root).exists() else None
    except Exception:  # the engine did not say, or the folder is not ours to read: the pull will tell
        return
    if free is not None and free < min_free_bytes:
        raise ImageMissingError(
            f"only {free / 2**30:.1f} GiB free under {root}; pulling {count} image(s) needs at least "
            f"{min_free_bytes / 2**30:.0f} GiB: free disk (python -m harness.images prune) or pass --no-pull"
        )


class _PullFailed(Exception):
    def __init__(self, message: str, unreachable: bool) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def _pull_all(client: docker.DockerClient, instances: list[TaskInstance], progress: bool) -> None:
    """Pull each instance's image with a progress bar; raise ImageMissingError naming those that failed."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    failed: list[tuple[TaskInstance, _PullFailed]] = []
    columns = (
        TextColumn("[bold]pull {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    from rich.console import Console

    console = Console(stderr=True)
    with Progress(
        *columns, console=console, disable=not (progress and console.is_terminal), transient=True
    ) as bar:
        for index, instance in enumerate(instances):
            task = bar.add_task(instance.image, total=None)
            try:
                pull_image(
                    client,
                    instance.image,
                    lambda done, total, t=task: bar.update(t, completed=done, total=total),
                )
            except _PullFailed as error:
                failed.append((instance, error))
                if error.unreachable:  # no registry answers: the others would fail the same way
                    failed += [(other, error) for other in instances[index + 1 :]]
                    break
            else:
                _record_pulled(instance.image)
    if failed:
        reason = failed[0][1]
        answer = "no registry answered" if reason.unreachable else "the registry refused"
        raise ImageMissingError(
            f"{_named([i for i, _ in failed])} not on the engine and {answer} ({reason}): pull or build "
            f"{'it' if len(failed) == 1 else 'them'}, or pass --image-map FILE mapping instance ids to "
            "images you have"
        )


def pull_image(client: docker.DockerClient, name: str, report: Callable[[int, int | None], None]) -> None:
    """Pull `name` from its registry, calling `report(bytes done, bytes total)` as layers arrive."""
    import docker.errors
    from docker.utils import parse_repository_tag

    repository, tag = parse_repository_tag(name)
    totals: dict[str, int] = {}
    done: dict[str, int] = {}
    try:
        for event in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            if "error" in event:
                raise _PullFailed(_first_line(event["error"]), _is_unreachable(event["error"]))
            detail = event.get("progressDetail") or {}
            layer = event.get("id", "")
            if detail.get("total"):
                totals[layer], done[layer] = detail["total"], detail.get("current", 0)
            elif event.get("status") in ("Download complete", "Pull complete", "Already exists"):
                done[layer] = totals.get(layer, 0)
            report(sum(done.values()), sum(totals.values()) or None)
    except docker.errors.APIError as error:
        text = str(error.explanation or error)
        raise _PullFailed(_first_line(text), _is_unreachable(text)) from None


def _is_unreachable(text: str) -> bool:
    return any(sign in text.lower() for sign in _UNREACHABLE)


def _first_line(text: str) -> str:
    return (str(text).strip().splitlines() or [""])[0][:300]


def _pulled_record() -> Path:
    root = os.environ.get("SRL_SWE_CACHE") or Path.home() / ".cache" / "srl_swe"
    return Path(root) / "pulled_images.txt"


def _record_pulled(image: str) -> None:
    """Remember an image this project pulled, so that `prune` may remove it."""
    path = _pulled_record()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(image + "\n")


# ---------------------------------------------------------------- the image contract


CHECKS = ("/testbed", "HEAD=base", "clean", "conda", "tests run")
"""The contract's checks: repo at /testbed, HEAD = base commit, clean tree, `conda activate testbed`
works, the test command starts and the log parser reads its results."""
_NOT_STARTED_EXIT_CODES = {126: "not executable", 127: "command not found", 4: "pytest usage error"}


@dataclass
class ContractResult:
    """One check of an image against SWE-bench's contract: `ok` is True, False, or None (not applicable)."""

    check: str
    ok: bool | None
    detail: str = ""


def check_image(
    instance: TaskInstance, timeout_s: float = 120.0, grading: GradingConfig | None = None
) -> list[ContractResult]:
    """Return the instance's image checked against what SWE-bench's eval scripts assume, one result per
    check in CHECKS: the repo at /testbed, HEAD at the base commit (for a SWE-smith instance: its bug diff
    applies to the image's clean commit, its branch is made and the bug commit checked out), no changed file,
    `source /opt/miniconda3/bin/activate && conda activate testbed` works (when the eval script uses it), and
    the eval script's test command starts (within `timeout_s`) and prints results the instance's log parser
    reads."""
    from swebench.harness.utils import make_test_spec

    from harness.eval_scripts import CONDA_TESTBED, END_TEST_OUTPUT, START_TEST_OUTPUT
    from harness.grading import EVAL_SCRIPT_PATH, GradingConfig, parse_test_log
    from harness.sandbox import DockerSandbox

    spec = make_test_spec(instance.to_row())
    results = []
    config = (grading or GradingConfig()).sandbox_config(instance.image, timeout_s)
    with DockerSandbox(config) as sandbox:
        repo = sandbox.run("git -C /testbed rev-parse --show-toplevel", workdir="/")
        is_repo = repo.exit_code == 0 and repo.output.strip() == "/testbed"
        results.append(ContractResult(CHECKS[0], is_repo, "" if is_repo else _tail(repo.output)))
        prepared, mismatch = _prepared(sandbox, instance) if is_repo else (None, None)
        head = sandbox.run("git -C /testbed rev-parse HEAD", workdir="/").output.strip()
        base = (
            prepared
            or sandbox.run(
                f"git -C /testbed rev-parse --verify -q {shlex.quote(instance.base_commit + '^{commit}')}",
                workdir="/",
            ).output.strip()
        )
        same = is_repo and head == base and bool(head) and not mismatch
        detail = mismatch or f"HEAD {head[:12] or '?'}, base commit {instance.base_commit[:12]}"
        results.append(ContractResult(CHECKS[1], same, "" if same else detail))
        status = sandbox.run("git -C /testbed status --porcelain --untracked-files=no", workdir="/")
        clean = is_repo and status.exit_code == 0 and not status.output.strip()
        changed = status.output.strip().splitlines()
        results.append(
            ContractResult(
                CHECKS[2],
                clean,
                "" if clean else f"changed: {', '.join(changed[:3]) or _tail(status.output)}",
            )
        )
        activate = " && ".join(CONDA_TESTBED)
        if CONDA_TESTBED[0] in spec.eval_script:
            conda = sandbox.run(f'{activate} && echo "$CONDA_DEFAULT_ENV"', workdir="/")
            ok = conda.exit_code == 0 and conda.output.strip().endswith("testbed")
            results.append(ContractResult(CHECKS[3], ok, "" if ok else _tail(conda.output)))
        else:
            results.append(ContractResult(CHECKS[3], None, "not used by this instance's eval script"))
        sandbox.write_file(EVAL_SCRIPT_PATH, spec.eval_script, mode=0o755)
        run = sandbox.run(f"bash {EVAL_SCRIPT_PATH}", timeout_s=timeout_s)
    results.append(_test_command_result(instance, run, START_TEST_OUTPUT, END_TEST_OUTPUT, parse_test_log))
    return results


def _prepared(sandbox: Sandbox, instance: TaskInstance) -> tuple[str | None, str | None]:
    """Put the instance's task state in place as grading does (SWE-smith: its branch from the bug diff, the
    bug commit checked out); return (the commit checked out or None, why that failed or None)."""
    from harness.preparation import prepare_sandbox

    try:
        return prepare_sandbox(sandbox, instance, for_grading=True), None
    except HarnessError as error:
        return None, str(error)


def _test_command_result(
    instance: TaskInstance,
    run: CommandResult,
    start: str,
    end: str,
    parse: Callable[[TaskInstance, str], dict[str, str]],
) -> ContractResult:
    from swebench.harness.grading import parse_test_exit_code

    from harness.grading import first_error_line

    if start not in run.output:
        return ContractResult(
            CHECKS[4],
            False,
            f"tests did not run: {first_error_line(run.output)} (the eval script stopped before its tests)",
        )
    if run.timed_out:
        return ContractResult(CHECKS[4], True, "started; stopped at the time limit")
    exit_code = parse_test_exit_code(run.output)
    if exit_code in _NOT_STARTED_EXIT_CODES:
        after = run.output.split(start, 1)[1].split(end, 1)[0]
        return ContractResult(
            CHECKS[4],
            False,
            f"tests did not run: {first_error_line(after)} (exit {exit_code}, "
            f"{_NOT_STARTED_EXIT_CODES[exit_code]})",
        )
    tests = parse(instance, run.output) if end in run.output else {}
    if not tests:
        after = run.output.split(start, 1)[1].split(end, 1)[0]
        return ContractResult(
            CHECKS[4],
            False,
            f"tests did not run: {first_error_line(after)} (exit {exit_code}; {instance.log_parser} read "
            "no test results)",
        )
    counts = Counter(tests.values())
    summary = ", ".join(f"{count} {status.lower()}" for status, count in sorted(counts.items()))
    if set(counts) == {"ERROR"}:  # nothing ran: collection failed (a missing package, no importable repo)
        after = run.output.split(start, 1)[1].split(end, 1)[0]
        errored = ", ".join(list(tests)[:3])
        return ContractResult(
            CHECKS[4], False, f"tests did not run: {first_error_line(after)} (exit {exit_code}; {errored})"
        )
    return ContractResult(CHECKS[4], True, f"exit {exit_code}: {summary}")


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "(no output)"


def contract_table(rows: list[tuple[TaskInstance, list[ContractResult]]]) -> Table:
    """Return a rich Table: one row per instance, one column per contract check (✓, ✗, - not applicable)."""
    from rich.table import Table

    table = Table(
        title="image contract of SWE-bench's eval scripts",
        caption="/testbed: the repo is there; HEAD=base: at the base commit; clean: no changed tracked file; "
        "conda: `conda activate testbed` works; tests run: the test command starts and its results parse",
    )
    table.add_column("instance", no_wrap=True)
    for check in CHECKS:
        table.add_column(check, justify="center", no_wrap=True)
    for instance, results in rows:
        marks = ["-" if r.ok is None else "[green]✓[/]" if r.ok else "[bold red]✗[/]" for r in results]
        table.add_row(instance.instance_id, *marks)
    return table


# ---------------------------------------------------------------- pruning


@dataclass
class PruneItem:
    """One thing `prune` would remove: a stopped sandbox container or a task image."""

    kind: str
    name: str
    ident: str
    size: int
    note: str = ""


def prune_candidates(client: docker.DockerClient, match: str = "*") -> list[PruneItem]:
    """Return the stopped sandbox containers and the task images (built or pulled here) whose image name
    matches the glob `match`; the base image is never one."""
    from harness.sandbox import labels

    items = []
    for summary in client.api.containers(all=True, filters=labels.SANDBOX_FILTER):
        if summary.get("State") == "running" or not fnmatch.fnmatch(summary.get("Image", ""), match):
            continue
        name = (summary.get("Names") or [summary["Id"][:12]])[0].lstrip("/")
        items.append(
            PruneItem("container", name, summary["Id"], summary.get("SizeRw") or 0, summary.get("State", ""))
        )
    pulled = set(_pulled_record().read_text().split()) if _pulled_record().is_file() else set()
    for image in client.images.list():
        kind = (image.labels or {}).get(IMAGE_LABEL)
        tags = image.tags or []
        ours = (kind and kind != "base") or any(tag in pulled for tag in tags)
        if not ours or not any(fnmatch.fnmatch(tag, match) for tag in tags):
            continue
        items.append(
            PruneItem("image", ", ".join(tags), image.id, image.attrs.get("Size", 0), kind or "pulled")
        )
    return items


def prune(client: docker.DockerClient, items: list[PruneItem]) -> list[tuple[PruneItem, str]]:
    """Remove the items (containers first, then images, never forced); return each with what happened."""
    import docker.errors

    outcome = []
    for item in sorted(items, key=lambda item: item.kind != "container"):
        try:
            if item.kind == "container":
                client.api.remove_container(item.ident, v=True)
            else:
                client.api.remove_image(item.ident)
            outcome.append((item, "removed"))
        except docker.errors.APIError as error:
            outcome.append((item, f"kept: {_first_line(error.explanation or str(error))}"))
    return outcome


def _prune_table(rows: list[tuple[PruneItem, str]], title: str) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for column in ("kind", "name", "size", "what"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for item, what in rows:
        table.add_row(item.kind, item.name, f"{item.size / 2**20:,.0f} MiB", what or item.note)
    return table


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Run the images CLI; return the exit code (0 ok, 1 a contract check failed, 2 bad input)."""
    parser = argparse.ArgumentParser(prog="python -m harness.images", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ensure-base", help="build the offline base image unless it exists")
    demo = commands.add_parser("ensure-demo", help="build the demo set's images that are missing")
    demo.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="plain",
        help="plain (default); swebench: conda-style activate and /testbed, prints the image map as YAML; "
        "swesmith: the same layout at each task's clean commit, prints the tasks as SWE-smith rows (JSONL)",
    )
    commands.add_parser("list", help="list the images built here")
    check = commands.add_parser("check", help="check task images against SWE-bench's image contract")
    check.add_argument("--task", default="demo", help="task set (default: demo)")
    check.add_argument("--path", help="local JSON/JSONL/Parquet file or folder of instances")
    check.add_argument("--instance-ids", nargs="+", metavar="ID", help="only these instances")
    check.add_argument("--image-map", help="JSON/YAML file: instance id -> image")
    check.add_argument("--no-pull", action="store_true", help="never pull a missing image")
    check.add_argument("--timeout", type=float, default=120.0, help="seconds the test command may run (120)")
    prune_parser = commands.add_parser("prune", help="remove task images and stopped sandbox containers")
    prune_parser.add_argument("--yes", action="store_true", help="remove them (default: a dry run)")
    prune_parser.add_argument("--match", default="*", metavar="GLOB", help="only images matching (default *)")
    args = parser.parse_args(argv)
    try:
        if args.command == "ensure-base":
            print(ensure_base_image())
        elif args.command == "ensure-demo":
            from harness import load_instances

            if args.layout == "plain":
                print("\n".join(ensure_images(load_instances("demo"))))
            elif args.layout == "swesmith":
                from harness.demo.swesmith_layout import ensure_swesmith_layout

                for instance in load_instances("demo"):
                    print(json.dumps(ensure_swesmith_layout(instance)))
            else:
                for instance_id, image in ensure_swebench_layout_images(load_instances("demo")).items():
                    print(f"{instance_id}: {image}")
        elif args.command == "list":
            for image in _client().images.list(filters={"label": IMAGE_LABEL}):
                print(", ".join(image.tags) or image.short_id)
        elif args.command == "check":
            return _check_command(args)
        else:
            return _prune_command(args)
    except (HarnessError, subprocess.CalledProcessError, RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)  # one line, no traceback
        return 2
    return 0


def _check_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress

    from harness import load_instances

    instances = load_instances(args.task, args.path, args.instance_ids, image_map=args.image_map)
    ensure_images(instances, pull=not args.no_pull)
    rows = []
    with Progress(transient=True) as bar:
        task = bar.add_task("checking images", total=len(instances))
        for instance in instances:
            rows.append((instance, check_image(instance, timeout_s=args.timeout)))
            bar.advance(task)
    console = Console()
    console.print(contract_table(rows))
    failed = [(i, r) for i, results in rows for r in results if r.ok is False]
    for instance, result in failed:
        console.print(
            "[red]"
            + escape(f"{instance.instance_id} ({instance.image}): {result.check}: {result.detail}")
            + "[/]",
            soft_wrap=True,
            markup=True,
            highlight=False,
        )
    return 1 if failed else 0


def _prune_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    client = _client()
    items = prune_candidates(client, args.match)
    console = Console()
    total = sum(item.size for item in items)
    if not args.yes:
        console.print(_prune_table([(item, "") for item in items], "would remove (dry run)"))
        console.print(f"dry run: {len(items)} item(s), {total / 2**30:.2f} GiB; pass --yes to remove them")
        return 0
    outcome = prune(client, items)
    console.print(_prune_table(outcome, "prune"))
    freed = sum(item.size for item, what in outcome if what == "removed")
    console.print(
        f"removed {sum(what == 'removed' for _, what in outcome)} of {len(items)}, {freed / 2**30:.2f} GiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
