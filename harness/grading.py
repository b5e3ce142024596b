"""Grading a candidate patch the way SWE-bench does, in a fresh sandbox on the real engine.

The candidate patch is copied in and applied with swebench's chain of fallbacks (`git apply`, `--3way`,
`--reject`, then `patch --fuzz=5`, restoring a clean tree between tries); the instance's eval script (which
applies the test patch itself) runs under a timeout; the log is parsed with swebench's parser for the
instance (SWE-Gym's own parsers registered beside them) and `resolved` is decided by swebench's
FAIL_TO_PASS / PASS_TO_PASS rules (`get_eval_report`).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import swegym_specs
from harness.errors import InvalidPatchError
from harness.eval_scripts import TESTBED
from harness.instances import TaskInstance
from harness.preparation import prepare_sandbox
from harness.sandbox import DockerSandbox, Sandbox, SandboxConfig, SandboxError
from harness.test_infra import find_test_infra_changes

PATCH_PATH = "/tmp/srl_swe_candidate.diff"
EVAL_SCRIPT_PATH = "/tmp/srl_swe_eval.sh"
# swebench's order of attempts (swebench.harness.run_evaluation.GIT_APPLY_CMDS), restated so that the
# sandbox runs them; each later one is tried on a clean tree.
APPLY_COMMANDS = (
    "git apply --verbose",
    "git apply --verbose --3way",
    "git apply --verbose --reject",
    "patch --batch --forward --fuzz=5 -p1 -i",
)
CLEAN_TREE = "git checkout -- . && git clean -fdq"
EVAL_OUTPUT_BYTES = 20_000_000  # a test log is read whole by the parser: keep it all

SandboxFactory = Callable[[SandboxConfig], Sandbox]
_MACHINE_PATH = re.compile(
    r"^(/|[A-Za-z]:[\\/])|/(home|Users|tmp|private|root|opt|workspace)/|site-packages/"
)


@dataclass
class GradingConfig:
    """The grading sandbox's settings. The defaults are SWE-bench's when it grades
    (`swebench.harness.run_evaluation` creates the container with none of these limits): the network on,
    no memory or pids limit. Episodes in `SWEEnv` keep their own, closed, sandbox settings."""

    network_mode: str = "bridge"
    """Docker network of the grading container; "bridge" (SWE-bench's) lets tests download what they need,
    "none" leaves only loopback."""
    memory: str | None = None
    """Memory limit in docker's notation ("4g"); None: no limit, as SWE-bench."""
    pids_limit: int | None = None
    """Most processes in the grading container; None: no limit, as SWE-bench."""

    def __post_init__(self) -> None:
        if not isinstance(self.network_mode, str) or not self.network_mode:
            raise ValueError(f"grading network_mode must be a docker network name, not {self.network_mode!r}")
        if self.memory is not None and not re.fullmatch(r"\d+(\.\d+)?[bkmgBKMG]?", str(self.memory)):
            raise ValueError(f"grading memory must look like 4g or 512m, not {self.memory!r}")
        if self.pids_limit is not None and (isinstance(self.pids_limit, bool) or int(self.pids_limit) < 1):
            raise ValueError(f"grading pids_limit must be a positive number, not {self.pids_limit!r}")

    def sandbox_config(self, image: str, timeout_s: float) -> SandboxConfig:
        """Return the sandbox settings that grade an instance of `image` under these settings."""
        return SandboxConfig(
            image=image,
            timeout_s=timeout_s,
            max_output_bytes=EVAL_OUTPUT_BYTES,
            network_mode=self.network_mode,
            memory=self.memory,
            pids_limit=self.pids_limit,
        )


@dataclass
class GradeResult:
    """What grading one patch found; `report` is swebench's per-instance report (tests_status included)."""

    instance_id: str
    resolved: bool
    patch_applied: bool
    report: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    log_path: str | None = None
    error: str | None = None
    diagnosis: dict[str, Any] = field(default_factory=dict)
    test_infra_changes: list[dict[str, str]] = field(default_factory=list)
    """The graded patch's changes to test infrastructure (path, reason), whatever the verdict
    (harness.test_infra)."""
    test_infra_policy: str = "allow"
    """How those changes were treated: "allow" (as SWE-bench), "strip" or "reject"
    (harness.test_infra.graded_under_policy)."""
    stripped: list[dict[str, str]] = field(default_factory=list)
    """Under "strip": the changes removed from the patch before grading (path, reason)."""
    rejected: str | None = None
    """Under "reject": why a patch that changes test infrastructure is not resolved (`report` keeps
    SWE-bench's verdict)."""

    def to_json(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict."""
        return {
            "instance_id": self.instance_id,
            "resolved": self.resolved,
            "patch_applied": self.patch_applied,
            "report": self.report,
            "timings": self.timings,
            "log_path": self.log_path,
            "error": self.error,
            "diagnosis": self.diagnosis,
            "test_infra_changes": self.test_infra_changes,
            "test_infra_policy": self.test_infra_policy,
            "stripped": self.stripped,
            "rejected": self.rejected,
        }


def grade(
    instance: TaskInstance,
    patch: str | None,
    *,
    log_dir: Path | None = None,
    timeout_s: float = 1800.0,
    model_name: str = "srl_swe",
    sandbox_factory: SandboxFactory | None = None,
    config: GradingConfig | None = None,
) -> GradeResult:
    """Grade `patch` against `instance` in a fresh sandbox; return the result.

    `patch` is a unified diff ("" for no change; None is refused, as any non-string: InvalidPatchError).
    `log_dir` is this instance's folder: the patch and the run's log are kept there (without it, nothing is
    kept and `log_path` is None). `config`: network and limits of the grading sandbox (SWE-bench's default).
    An unresolved result's `diagnosis` holds its `verdict` ("did not apply: <git's first complaint>",
    "tests did not run: <first error line>", "tests timed out ...", "tests failed: <the expected tests>")
    and, for an applied patch, the expected tests that failed, errored or never appeared.
    `test_infra_changes` names the patch's changes to test infrastructure (the verdict stays SWE-bench's:
    `harness.test_infra.graded_under_policy` acts on them).
    """
    if not isinstance(patch, str):
        raise InvalidPatchError(
            f"instance {instance.instance_id}: the patch must be a string (a unified diff, '' for no "
            "change), "
            f"not {type(patch).__name__}"
        )
    from swebench.harness.constants import (
        APPLY_PATCH_FAIL,
        APPLY_PATCH_PASS,
        END_TEST_OUTPUT,
        START_TEST_OUTPUT,
        TESTS_TIMEOUT,
    )
    from swebench.harness.grading import get_eval_report
    from swebench.harness.utils import make_test_spec

    swegym_specs.register_log_parsers()
    spec = make_test_spec(instance.to_row())
    prediction = {"instance_id": instance.instance_id, "model_name_or_path": model_name, "model_patch": patch}
    timings: dict[str, float] = {}
    log: list[str] = []
    factory = sandbox_factory or DockerSandbox
    sandbox_config = (config or GradingConfig()).sandbox_config(instance.image, timeout_s)

    test_output, timed_out = "", False
    started = time.perf_counter()
    with factory(sandbox_config) as sandbox:
        timings["container_start"] = time.perf_counter() - started
        prepare_sandbox(sandbox, instance, for_grading=True)  # SWE-smith: the bug commit; others: nothing
        infra = find_test_infra_changes(instance, patch, lambda path: _base_text(sandbox, path))
        started = time.perf_counter()
        applied, apply_log = apply_patch(sandbox, patch)
        timings["patch_apply"] = time.perf_counter() - started
        log.append(f"{APPLY_PATCH_PASS if applied else APPLY_PATCH_FAIL}:\n{apply_log}")
        if applied:
            sandbox.write_file(EVAL_SCRIPT_PATH, spec.eval_script, mode=0o755)
            started = time.perf_counter()
            result = sandbox.run(f"bash {EVAL_SCRIPT_PATH}", timeout_s=timeout_s)
            timings["tests"] = time.perf_counter() - started
            log.append(result.output)
            test_output, timed_out = result.output, result.timed_out
            if result.timed_out:
                log.append(f"{TESTS_TIMEOUT} after {timeout_s:.0f} s")
            elif START_TEST_OUTPUT not in result.output or END_TEST_OUTPUT not in result.output:
                log.append(f"(eval script exited {result.exit_code} without its test-output markers)")

    # swebench parses a log file; without a log_dir it is written to a temporary folder removed afterwards.
    with tempfile.TemporaryDirectory(prefix="srl-swe-grade-") as scratch:
        log_path = _write_log(Path(log_dir or scratch), "\n".join(log), patch)
        reports = get_eval_report(spec, prediction, str(log_path), include_tests_status=True)
        report = reports[instance.instance_id]
        if report["resolved"]:
            diagnosis = {}
        elif not applied:
            diagnosis = {"verdict": f"did not apply: {git_complaint(apply_log)}"}
        else:
            diagnosis = diagnose(spec, str(log_path), report)
            diagnosis["verdict"] = tests_verdict(report, diagnosis, test_output, timed_out, timeout_s)
    return GradeResult(
        instance_id=instance.instance_id,
        resolved=bool(report["resolved"]),
        patch_applied=applied,
        report=report,
        timings=timings,
        log_path=str(log_path) if log_dir else None,
        error=None if applied else diagnosis["verdict"],
        diagnosis=diagnosis,
        test_infra_changes=[change.to_json() for change in infra],
    )


def _base_text(sandbox: Sandbox, path: str) -> str | None:
    """Return a repository file's text in the grading sandbox before the patch is applied, or None."""
    try:
        return sandbox.read_file(f"{TESTBED}/{path}").decode("utf-8", "replace")
    except (FileNotFoundError, IsADirectoryError, SandboxError):
        return None


def diagnose(spec: Any, log_path: str, report: dict[str, Any]) -> dict[str, Any]:
    """Return why an applied patch did not resolve: the expected tests that `failed`, `errored`, were
    `skipped` (FAIL_TO_PASS) or are `missing` from the log, `tests_ran` (False when the log holds no result
    but errors: nothing was collected), and a `hint` when missing ids look like another machine's (absolute
    paths) or when the log held no test results at all."""
    from swebench.harness.grading import _resolve_case, get_logs_eval

    swegym_specs.register_log_parsers()
    status_map, _ = get_logs_eval(spec, log_path)
    ran = any(status != "ERROR" for status in status_map.values())
    buckets: dict[str, list[str]] = {"failed": [], "errored": [], "skipped": [], "missing": []}
    named = {"FAILED": "failed", "ERROR": "errored", "SKIPPED": "skipped"}
    for group in ("FAIL_TO_PASS", "PASS_TO_PASS"):
        for test in report.get("tests_status", {}).get(group, {}).get("failure", []):
            key = _resolve_case(test, status_map)
            buckets["missing" if key is None else named.get(status_map[key], "failed")].append(test)
    hint = None
    machine_specific = [test for test in buckets["missing"] if _MACHINE_PATH.search(test.split("::", 1)[0])]
    if not status_map:
        hint = "the log holds no test results: the test command did not run or its output was not parsed"
    elif machine_specific:
        hint = (
            f"{len(machine_specific)} missing test id(s) look machine-specific (absolute paths, e.g. "
            f"{machine_specific[0]}): the row's test names were recorded on another machine and never match"
        )
    elif buckets["missing"]:
        hint = "expected tests never appeared in the log: the row's test names may not match this test run"
    return {**buckets, "tests_in_log": len(status_map), "tests_ran": ran, "hint": hint}


_ERROR_LINES = (
    re.compile(
        r"command not found|No module named|No such file or directory|not executable|Permission "
        r"denied"
    ),
    re.compile(r"\b[A-Za-z_.]*(Error|Exception|Interrupt)\b(:|$)"),
    re.compile(r"ERROR collecting|\berror\b", re.IGNORECASE),
)
_DECORATION = re.compile(r"^[E>]?\s+|^[_=!\s]+|[_=!\s]+$")
_SOURCE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_FAILED_SHOWN = 3


def first_error_line(output: str) -> str:
    """Return the line of a test run's output that says why it did not run: a missing command or file
    first, else the first exception line (SyntaxError, ImportError, ...; a SyntaxError with the file and
    line the traceback names just above), else the first line naming an
    error (pytest's "ERROR collecting ..."), else the last line; pytest's decoration stripped."""
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("+ ")]
    for pattern in _ERROR_LINES:
        for number, line in enumerate(lines):
            if pattern.search(line):
                found = _DECORATION.sub("", line.strip()) or line.strip()
                where = [_SOURCE.search(earlier) for earlier in lines[max(0, number - 5) : number]]
                places = [f"{m['path']}:{m['line']}" for m in where if m]
                return f"{found} ({places[-1]})" if found.startswith("SyntaxError") and places else found
    return lines[-1].strip()[:300] if lines else "(no output)"


def git_complaint(apply_log: str) -> str:
    """Return git's first complaint in a failed apply log (the first `error:` line of `git apply`)."""
    lines = [line.strip() for line in apply_log.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("error:", "fatal:")):
            return line
    shown = [line for line in lines if not line.startswith(("$ ", "Checking patch"))]
    return shown[0] if shown else "(no output)"


def tests_verdict(
    report: dict[str, Any], diagnosis: dict[str, Any], output: str, timed_out: bool, timeout_s: float
) -> str:
    """Return the verdict of an applied, unresolved patch: "tests timed out after N s", "tests did not
    run: <first error line>", or "tests failed: FAIL_TO_PASS a, b; PASS_TO_PASS c" naming the expected
    tests that did not pass."""
    if timed_out:
        return f"tests timed out after {timeout_s:.0f} s"
    if not diagnosis.get("tests_ran", True):
        from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT

        inside = output.split(START_TEST_OUTPUT, 1)[-1].split(END_TEST_OUTPUT, 1)[0]
        return f"tests did not run: {first_error_line(inside if inside.strip() else output)}"
    parts = []
    for group in ("FAIL_TO_PASS", "PASS_TO_PASS"):
        failed = report.get("tests_status", {}).get(group, {}).get("failure", [])
        if failed:
            more = f", ... ({len(failed)} in all)" if len(failed) > _FAILED_SHOWN else ""
            parts.append(f"{group} {', '.join(failed[:_FAILED_SHOWN])}{more}")
    return "tests failed: " + ("; ".join(parts) or "no expected test failed, yet not resolved")


def apply_patch(sandbox: Sandbox, patch: str) -> tuple[bool, str]:
    """Apply `patch` with swebench's fallbacks; an empty patch is no change. Return (applied, log)."""
    if not patch.strip():
        return True, "(empty patch: nothing to apply)"
    sandbox.write_file(PATCH_PATH, patch if patch.endswith("\n") else patch + "\n")
    attempts = []
    for index, command in enumerate(APPLY_COMMANDS):
        if index:
            sandbox.run(CLEAN_TREE)
        result = sandbox.run(f"{command} {PATCH_PATH}")
        attempts.append(f"$ {command}\n{result.output}")
        if result.exit_code == 0:
            return True, attempts[-1]
    already = sandbox.run(f"git apply --check --reverse {PATCH_PATH}")
    if already.exit_code == 0:
        return True, "patch already applied (git apply --check --reverse)"
    return False, "\n".join(attempts)


def _write_log(folder: Path, text: str, patch: str) -> Path:
    """Write the run's log and the patch into `folder`; return the log's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patch.diff").write_text(patch)
    log_path = folder / "run_instance.log"
    log_path.write_text(text)
    return log_path


def parse_test_log(instance: TaskInstance, log: str) -> dict[str, str]:
    """Return test name -> status that the instance's swebench log parser reads between the test markers."""
    from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT
    from swebench.harness.grading import PARSER_REGISTRY
    from swebench.harness.utils import make_test_spec

    swegym_specs.register_log_parsers()
    spec = make_test_spec(instance.to_row())
    sliced = log.split(START_TEST_OUTPUT, 1)[-1].split(END_TEST_OUTPUT, 1)[0]
    return PARSER_REGISTRY[spec.log_parser](sliced, spec)
