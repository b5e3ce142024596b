"""`SWEEnv`: a SWE-bench-style task as a Gymnasium environment on a harness sandbox.

reset() -> the problem statement; the repository at `base_commit`, our tools on PATH, no test patch.
step(action) -> the action's output from a persistent bash (see envs.shell); `submit` ends the episode and
grades the patch in a fresh sandbox with the harness: reward 1.0 when resolved, else 0.0 (the RLVR outcome);
a patch that changes test infrastructure is not resolved by default (`SWEEnvConfig.test_infra_changes`).
Every other step has reward 0.0. Step limits and the SRL signal are wrappers (envs.wrappers).

A warm reset (the default once a container runs) keeps the container and gives the next episode the world a
fresh container would: it kills every process the last episode left (marked or not), empties SysV IPC,
restores the repository's work tree (`git read-tree --reset -u <base>`, `git clean -fdx` sparing the
untracked and ignored files the image shipped with, e.g. built extensions or egg-info), forgets the
editor's undo history, and undoes everything else the episode wrote anywhere in the container (envs.world):
/root, /tmp, shell start files, site-packages, global git configuration, /dev/shm, /etc/hosts, the
repository's .git and the shipped untracked files included. It lists what changed since the baseline taken
at the fresh start, removes what the baseline lacks, reads back from the image what changed or went missing,
and checks the result against the baseline; then it starts a new shell (variables and start files are the
fresh ones). `reset(options={"fresh": True})` starts a new container; so does a warm reset that cannot give
the world back cheaply and exactly (a file no image holds, more than `envs.world.MAX_RESTORES` paths to read
back, a restarted container, a broken repository, a sandbox other than DockerSandbox), `info["fresh_reason"]`
saying why.

step() never raises for what an action does: actions that cannot be run are refused with an observation;
a shell that exits or hangs and a container that stops or fills with processes are recovered within the
step's timeout + about 2 s (see envs.shell), the observation saying so; a sandbox that cannot be recovered
is an observation too (reset() then starts a fresh one). A container that wrote more than its
`SandboxConfig.disk_limit` (checked after a step, at most once a second) ends the episode (truncated) and is
removed at once.
"""

from __future__ import annotations

import posixpath
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import docker.errors
import docker.utils
import gymnasium as gym
from gymnasium.error import ResetNeeded

from envs.shell import NO_OP, Background, ExecShell, PersistentShell, Shell, shell_prelude
from envs.spaces import ShellText
from envs.tools import (
    INSTALL_DIR,
    PATCH_FILE,
    STATE_DIR,
    SUBMIT_MARKER,
    TOOL_MODE,
    parse_submission,
    tool_env,
    tool_files,
)
from envs.world import (
    INLINE_ARCHIVE_BYTES,
    Baseline,
    Plan,
    baseline_command,
    check,
    finish_command,
    parse_baseline,
    parse_scan,
    plan,
    restore_archive,
    scan_command,
    time_command,
)
from harness import TaskInstance, load_instances
from harness.grading import GradeResult, GradingConfig, grade
from harness.image_names import load_image_map
from harness.images import ensure_images
from harness.preparation import prepare_sandbox
from harness.sandbox import DockerSandbox, Sandbox, SandboxConfig, SandboxError
from harness.sandbox.docker import ADMIN_SHELL, ROOT_USER
from harness.test_infra import TEST_INFRA_POLICIES, TestInfraPolicy, graded_under_policy

INVALID_ACTION_EXIT_CODE = 2
"""Exit code reported for an action that was not run (empty, not a string, too long, holding NUL or
characters that UTF-8 cannot encode)."""
BROKEN_SANDBOX_EXIT_CODE = 125
"""Exit code reported when the sandbox could not run the action at all (no shell could start in it) or
went over its disk limit."""
DISK_CHECK_INTERVAL_S = 1.0
"""Least time between two checks of the container's disk usage (each costs an engine call of a few ms)."""
ADMIN_OUTPUT_BYTES = 50_000_000
"""Output bound of the env's own commands (diffs, resets): a patch must never be cut."""
PREPARED_GIT_COPY = "/opt/srl_swe_prepared"
"""Where a fresh reset keeps a copy of the .git that the instance's preparation made (SWE-smith's one-commit
repository, which no image holds): warm resets read back from it what an episode changed there."""

Grader = Callable[[TaskInstance, str], GradeResult]


@dataclass(frozen=True)
class SWEEnvConfig:
    """How an episode runs; defaults follow SWE-agent's where it has one."""

    step_timeout_s: float = 60.0
    """Seconds an action may run before it and its children are killed (the env stays usable)."""
    max_observation_chars: int = 100_000
    """Longest observation; longer output keeps its head and tail around a `[... truncated ...]` marker."""
    max_action_chars: int = 1_000_000
    """Longest action the action space admits; a longer one is refused with an explaining observation."""
    shell: Literal["persistent", "exec"] = "persistent"
    """"persistent": one bash for the episode (cwd and variables carry over, as SWE-agent's trajectories
    assume); "exec": a new bash per action (any sandbox; nothing carries over)."""
    background: Background = "kill"
    """What happens to processes an action leaves running (persistent shell): "kill" ends them when the
    action returns, so that a runaway job (a fork bomb, a flood, a CPU hog) cannot poison later steps;
    "keep" lets them run as SWE-agent does (a server started with `&` answers the next action) unless they
    hold half the pids limit. "kill" is the default because a policy under training writes such jobs far more
    often than expert trajectories need one to outlive its step; it costs nothing when none is left."""
    patch_in_info: bool = False
    """Put the current patch (`git diff` against the base, new files included) in every step's info (None,
    with `error` saying why, when the action broke the repository)."""
    grade_timeout_s: float = 1800.0
    """Limit of the test run when grading a submission."""
    grade_log_dir: Path | None = None
    """Folder for the grading logs (one subfolder per instance); None: no logs are kept."""
    repo_root: str = "/testbed"
    """Where the repository is in the sandbox."""
    sandbox: SandboxConfig | None = None
    """Template of the episode's sandbox settings (limits; network off by default); its image is replaced
    by the instance's."""
    grade_network_mode: str = "bridge"
    """Network of the grading sandbox: "bridge" (on) as SWE-bench grades, "none" for loopback only. The
    episode's own sandbox keeps `sandbox.network_mode` ("none" by default)."""
    grade_memory: str | None = None
    """Memory limit of the grading sandbox ("4g"); None: no limit, as SWE-bench."""
    grade_pids_limit: int | None = None
    """Most processes in the grading sandbox; None: no limit, as SWE-bench."""
    pull_images: bool = True
    """Pull the instance's image when it is missing and a registry answers (False: never pull)."""
    test_infra_changes: TestInfraPolicy = "reject"
    """What the outcome reward does with a patch that changes test infrastructure (a conftest.py, pytest's
    or tox's settings, sitecustomize.py, a .pth file, a pytest plugin, test files; see harness.test_infra):
    "reject" (the default) grades it not resolved, reward 0, `info["rejected"]` saying why; "strip" removes
    those files' diffs before grading; "allow" grades as SWE-bench does. Any of them lists the changes in
    `info["grade"]`. "reject" is the default because a policy under training finds that a conftest hook or
    a deselecting addopts earns the reward without fixing anything."""

    def __post_init__(self) -> None:
        """Check every field's kind and range and convert what has one obvious form (a folder given as a
        string, the sandbox given as a dict); raise ValueError naming the field otherwise."""
        for name in ("step_timeout_s", "grade_timeout_s"):
            _require(self, name, _is_number(getattr(self, name)) and getattr(self, name) > 0, "a number > 0")
        for name in ("max_observation_chars", "max_action_chars"):
            value = getattr(self, name)
            _require(
                self, name, isinstance(value, int) and not isinstance(value, bool) and value > 0, "an int > 0"
            )
        _require(self, "shell", self.shell in ("persistent", "exec"), '"persistent" or "exec"')
        _require(self, "background", self.background in ("kill", "keep"), '"kill" or "keep"')
        _require(
            self,
            "test_infra_changes",
            self.test_infra_changes in TEST_INFRA_POLICIES,
            " or ".join(f'"{policy}"' for policy in TEST_INFRA_POLICIES),
        )
        for name in ("patch_in_info", "pull_images"):
            _require(self, name, isinstance(getattr(self, name), bool), "true or false")
        _require(
            self,
            "repo_root",
            isinstance(self.repo_root, str) and self.repo_root.startswith("/"),
            "an absolute path",
        )
        if isinstance(self.grade_log_dir, str):
            object.__setattr__(self, "grade_log_dir", Path(self.grade_log_dir))
        _require(
            self,
            "grade_log_dir",
            self.grade_log_dir is None or isinstance(self.grade_log_dir, Path),
            "a folder",
        )
        if isinstance(self.sandbox, dict):
            known = {spec.name for spec in fields(SandboxConfig)}
            unknown = sorted(set(self.sandbox) - known)
            _require(self, "sandbox", not unknown, f"SandboxConfig fields (unknown: {', '.join(unknown)})")
            object.__setattr__(self, "sandbox", SandboxConfig(**self.sandbox))
        _require(
            self,
            "sandbox",
            self.sandbox is None or isinstance(self.sandbox, SandboxConfig),
            "a SandboxConfig",
        )
        try:
            self.grading()
        except ValueError as error:
            raise ValueError(f"SWEEnvConfig: {error}") from None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SWEEnvConfig:
        """Return the config a dict describes; raise ValueError naming unknown keys or a bad value."""
        known = {spec.name for spec in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"SWEEnvConfig: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def grading(self) -> GradingConfig:
        """Return the grading sandbox's settings."""
        return GradingConfig(
            network_mode=self.grade_network_mode, memory=self.grade_memory, pids_limit=self.grade_pids_limit
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(config: SWEEnvConfig, name: str, ok: bool, expected: str) -> None:
    """Raise ValueError naming the field when `ok` is false."""
    if not ok:
        raise ValueError(f"SWEEnvConfig.{name} must be {expected}, not {getattr(config, name)!r}")


class SWEEnv(gym.Env[str, str]):
    """One task instance in a container; text actions (bash commands) and text observations."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        instance: TaskInstance | None = None,
        *,
        task: str | None = None,
        instance_id: str | None = None,
        path: str | Path | None = None,
        image_map: str | Path | dict[str, str] | None = None,
        config: SWEEnvConfig | dict[str, Any] | None = None,
        render_mode: str | None = None,
        sandbox_factory: Callable[[SandboxConfig], Sandbox] | None = None,
        grader: Grader | None = None,
    ) -> None:
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, not {render_mode!r}"
            )
        self.config = SWEEnvConfig.from_dict(config) if isinstance(config, dict) else config or SWEEnvConfig()
        if not isinstance(self.config, SWEEnvConfig):
            raise TypeError(f"config must be a SWEEnvConfig or a dict, not {type(self.config).__name__}")
        if instance is not None and image_map is not None:  # only this instance's entry matters here
            entry = _image_map(image_map).get(instance.instance_id)
            if entry is not None:
                instance = replace(instance, image=entry, image_source=_image_map_origin(image_map))
        self.instance = instance or _load_one(task, instance_id, path, image_map)
        self.render_mode = render_mode
        self.observation_space = ShellText(self.config.max_observation_chars)
        self.action_space = ShellText(self.config.max_action_chars)
        self._sandbox_factory = sandbox_factory or DockerSandbox
        self._grader = grader or self._grade
        self._sandbox: Sandbox | None = None
        self._shell: Shell | None = None
        self._spared_paths: list[str] = []
        self._baseline: Baseline | None = None
        self._prepared_git = False
        self._episode_over = True
        self._last_render = ""
        self._disk_checked = 0.0

    # ------------------------------------------------------------------ Gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Restores the repository at the base commit; returns (problem statement, info).

        options: {"fresh": True} starts a new container instead of reusing the running one.
        info: instance_id, reset_s, fresh (a new container was started) and fresh_reason (why: asked for, no
        container yet, or what a warm reset could not give back; None after a warm reset).
        """
        super().reset(seed=seed)
        options = dict(options or {})
        fresh = bool(options.pop("fresh", False))
        if options:
            raise ValueError(f"unknown reset option(s): {', '.join(sorted(options))} (known: fresh)")
        started = time.monotonic()
        if fresh:
            why_fresh = "asked for (options fresh)"
        elif self._sandbox is None:
            why_fresh = "no container yet"
        else:
            why_fresh = self._warm_reset()
        if why_fresh is not None:
            self._fresh_reset()
        self._episode_over = False
        observation = _clip(self.instance.problem_statement, self.config.max_observation_chars)
        self._last_render = observation
        info = {
            "instance_id": self.instance.instance_id,
            "fresh": why_fresh is not None,
            "fresh_reason": why_fresh,
            "reset_s": time.monotonic() - started,
        }
        return observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Runs `action`; returns (observation, reward, terminated, truncated, info).

        info: exit_code, duration_s, timed_out, output_clipped, error (why an action was refused, else
        None), restarted (for a run action: "shell" or "container" when the action ended or broke one, or
        found it dead and ran in a new one, else None); with `patch_in_info` the current patch; after a
        submission also patch, resolved, rejected
        and grade.
        """
        if self._episode_over:
            raise ResetNeeded("the episode is over (or never began): call reset() before step()")
        problem = _refusal(action, self.config.max_action_chars)
        if problem is not None:
            info = _step_info(INVALID_ACTION_EXIT_CODE, 0.0, False, False, problem)
            return self._observe(action, f"error: {problem}\n"), 0.0, False, False, info
        try:
            result = self._shell.run(action, self.config.step_timeout_s)
        except SandboxError as error:  # no shell could start: say so; the next step tries again
            problem = f"the sandbox could not run the action: {error}; reset() starts a fresh one"
            info = _step_info(BROKEN_SANDBOX_EXIT_CODE, 0.0, False, False, problem)
            return self._observe(action, f"error: {problem}\n"), 0.0, False, False, info
        observation = _clip(result.output, self.config.max_observation_chars)
        clipped = result.truncated or len(observation) < len(result.output)
        info = _step_info(result.exit_code, result.duration_s, result.timed_out, clipped, None)
        info["restarted"] = result.restarted  # "shell" or "container" when one was replaced (see envs.shell)
        over_disk = self._disk_overrun()
        if over_disk is not None:
            self.close()  # frees the disk now; the next reset starts a fresh container
            info.update(exit_code=BROKEN_SANDBOX_EXIT_CODE, error=over_disk)
            return self._observe(action, f"{observation}[{over_disk}]\n"), 0.0, False, True, info
        submitted = None
        if SUBMIT_MARKER in result.output:  # a clipped output may have lost part of the patch: read the file
            submitted = parse_submission(result.output)
            if result.truncated:
                submitted = self._submitted_file()
        if submitted is not None:
            reward, outcome = self._finish(submitted)
            return self._observe(action, observation), reward, True, False, {**info, **outcome}
        if self.config.patch_in_info:
            try:
                info["patch"] = self.current_patch()
            except RuntimeError as error:  # the action broke the repository (e.g. removed .git)
                info.update(patch=None, error=str(error))
        return self._observe(action, observation), 0.0, False, False, info

    def render(self) -> str | None:
        """Returns the last action and its observation as text in "ansi" mode; None without a render mode."""
        return self._last_render if self.render_mode == "ansi" else None

    def close(self) -> None:
        """Stops the shell and removes the container; safe to call more than once."""
        shell, self._shell = self._shell, None
        sandbox, self._sandbox = self._sandbox, None
        self._episode_over = True
        try:
            if shell is not None:
                shell.close()
        finally:
            if sandbox is not None:
                sandbox.close()

    # ------------------------------------------------------------------ beyond Gymnasium

    @property
    def episode_over(self) -> bool:
        """Returns whether the episode ended (submitted or graded); step() then needs a reset()."""
        return self._episode_over

    @property
    def sandbox(self) -> Sandbox:
        """Returns the running sandbox (after reset) for commands outside the episode's shell."""
        if self._sandbox is None:
            raise ResetNeeded("no sandbox yet: call reset() first")
        return self._sandbox

    def current_patch(self) -> str:
        """Returns the diff of the work tree (new files included) against the base; the index is untouched."""
        root, base = shlex.quote(self.config.repo_root), shlex.quote(self.instance.base_commit)
        command = (
            f'cd {root} && index=$(mktemp) && cp "$(git rev-parse --git-path index)" "$index" && '
            f'GIT_INDEX_FILE="$index" git add -A && GIT_INDEX_FILE="$index" git diff --cached {base}; '
            'status=$?; rm -f "$index"; exit $status'
        )
        result = self.sandbox.run(command, timeout_s=self.config.step_timeout_s)
        if result.exit_code != 0:
            first_line = (result.output.strip().splitlines() or [f"exit status {result.exit_code}"])[0]
            raise RuntimeError(f"could not diff the repository of {self.instance.instance_id}: {first_line}")
        return result.output

    def submit_current_patch(self) -> tuple[float, dict[str, Any]]:
        """Grades the current patch and ends the episode (as `submit` would); returns (reward, info)."""
        if self._episode_over:
            raise ResetNeeded("the episode is over (or never began): call reset() first")
        return self._finish(self.current_patch())

    # ------------------------------------------------------------------ internals

    def _finish(self, patch: str) -> tuple[float, dict[str, Any]]:
        """Grades `patch` under the test-infrastructure policy, ends the episode; returns the reward and the
        outcome's info entries (`rejected`: why the patch was given no reward whatever its tests, or None)."""
        self._episode_over = True
        policy = self.config.test_infra_changes
        result = graded_under_policy(self.instance, patch, policy, self._grader, self._base_text)
        return float(result.resolved), {
            "patch": patch,
            "resolved": result.resolved,
            "rejected": result.rejected,
            "grade": result.to_json(),
        }

    def _base_text(self, path: str) -> str | None:
        """Returns a repository file's text at the base commit, or None (no such file, a broken repo)."""
        root, spec = shlex.quote(self.config.repo_root), shlex.quote(f"{self.instance.base_commit}:{path}")
        try:
            shown = self.sandbox.run(f"cd {root} && git show {spec}", timeout_s=self.config.step_timeout_s)
        except (SandboxError, ResetNeeded):
            return None
        return shown.output if shown.exit_code == 0 else None

    def _grade(self, instance: TaskInstance, patch: str) -> GradeResult:
        log_dir = self.config.grade_log_dir
        return grade(
            instance,
            patch,
            log_dir=log_dir / instance.instance_id if log_dir else None,
            timeout_s=self.config.grade_timeout_s,
            config=self.config.grading(),
        )

    def _submitted_file(self) -> str | None:
        """Returns the patch `submit` wrote, or None when there is none (the markers were only printed)."""
        try:
            return self._sandbox.read_file(PATCH_FILE).decode("utf-8", "replace")
        except (FileNotFoundError, IsADirectoryError, SandboxError):
            return None

    def _disk_overrun(self) -> str | None:
        """Returns why the container is over its disk limit, or None (also when not checked this time)."""
        limit = (self.config.sandbox or SandboxConfig()).disk_limit
        now = time.monotonic()
        if limit is None or not isinstance(self._sandbox, DockerSandbox):
            return None
        if now - self._disk_checked < DISK_CHECK_INTERVAL_S:
            return None
        self._disk_checked = now
        try:
            used = self._sandbox.disk_usage_bytes()
        except (SandboxError, docker.errors.APIError):
            return None
        if used <= docker.utils.parse_bytes(limit):
            return None
        return (
            f"the container wrote {used} bytes, over its disk limit of {limit}: the episode ends and the "
            "container is removed; reset() starts a fresh one"
        )

    def _observe(self, action: Any, observation: str) -> str:
        self._last_render = f"$ {action}\n{observation}"
        return observation

    def _fresh_reset(self) -> None:
        """Replaces the container by a new one from the instance's image, prepares it and records its
        baseline (what warm resets give back)."""
        self.close()
        # builds a missing demo image, pulls another when allowed; names how to get what is still missing
        ensure_images([self.instance], pull=self.config.pull_images)
        template = self.config.sandbox or SandboxConfig()
        config = replace(
            template,
            image=self.instance.image,
            workdir=self.config.repo_root,
            max_output_bytes=ADMIN_OUTPUT_BYTES,
        )
        self._sandbox = self._sandbox_factory(config)
        prepared = prepare_sandbox(self._sandbox, self.instance, for_grading=False, repo_root=config.workdir)
        self._prepared_git = bool(prepared)
        if prepared:  # SWE-smith: its branch, made here; its hash, which the agent cannot move, is the base
            self.instance = replace(self.instance, base_commit=prepared)
            self._keep_prepared_git()
        listing = self._sandbox.run(
            f"cd {shlex.quote(self.config.repo_root)} && git ls-files --others --directory -z"
        )
        self._spared_paths = [path for path in listing.output.split("\0") if path]
        self._install_tools()
        # anything else that prepares the container's files goes above: the baseline is taken last
        self._baseline = self._record_baseline()
        self._shell = self._start_shell()

    def _record_baseline(self) -> Baseline | None:
        """Returns the prepared container's baseline, or None when it cannot be taken (warm resets then go
        fresh, saying why)."""
        if not isinstance(self._sandbox, DockerSandbox):
            return None
        recorded = self._sandbox.run(
            baseline_command(STATE_DIR), timeout_s=_ADMIN_TIMEOUT_S, user=ROOT_USER, shell=ADMIN_SHELL
        )
        if recorded.truncated:
            return None
        try:
            return parse_baseline(recorded.output)
        except ValueError:
            return None

    def _warm_reset(self) -> str | None:
        """Gives the running container back the world of a fresh one; returns None, or why it could not
        (the caller then starts a fresh container).

        A last no-op through the shell first applies its background policy, so that a container full of
        runaway processes is restarted (or found dead) in about a second instead of failing the restore.
        Then, in one command: every process the episode left is killed, the entries changed since the
        baseline are listed (envs.world), the repository is restored by git and the tools' state emptied.
        Changes outside the repository are undone and checked against the baseline (more engine calls,
        only when there are some).
        """
        if not isinstance(self._sandbox, DockerSandbox) or self._baseline is None:
            return (
                "no baseline was taken at the container's start (a warm reset needs a DockerSandbox whose "
                "files can be listed)"
            )
        sandbox, baseline = self._sandbox, self._baseline
        try:
            if isinstance(self._shell, PersistentShell):
                self._shell.run(NO_OP, _PROBE_TIMEOUT_S)
            if self._shell is not None:
                self._shell.close()
                self._shell = None
            as_root = sandbox.config.user is None
            scanned = sandbox.run(
                "\n".join(
                    [
                        scan_command(baseline.since, baseline.processes),
                        _EMPTY_STATE,
                        *([self._git_restore_command(), time_command()] if as_root else []),
                    ]
                ),
                timeout_s=_ADMIN_TIMEOUT_S,
                user=ROOT_USER,
                shell=ADMIN_SHELL,
            )
            if not as_root:  # git as the user that owns the repository
                restored = sandbox.run(
                    f"{self._git_restore_command()}\n{time_command()}",
                    timeout_s=_ADMIN_TIMEOUT_S,
                    shell=ADMIN_SHELL,
                )
                scanned = replace(scanned, output=scanned.output + restored.output)
            if scanned.truncated:  # a list with its middle cut out would hide changes
                return f"the list of the container's changes is over {ADMIN_OUTPUT_BYTES} bytes"
            scan = parse_scan(scanned.output)
            if scan.status != 0 or scan.time is None:
                return f"the container's changes could not be listed (exit status {scanned.exit_code})"
            if "git 0\0" not in scanned.output:
                return "git could not restore the repository"
            undo = plan(baseline, scan, self._restored_by_reset, _owned_by_project)
            if undo.problem is not None:
                return undo.problem
            since = scan.time
            if not undo.empty:
                problem, since = self._undo(undo)
                if problem is not None:
                    return problem
            baseline.since, baseline.processes = since, scan.processes
            self._shell = self._start_shell()
        except Exception as error:  # whatever broke the container, a fresh one is the recovery
            return f"the warm reset failed: {type(error).__name__}: {error}"
        return None

    def _undo(self, undo: Plan) -> tuple[str | None, str]:
        """Applies `undo` (envs.world) to the container; returns (what still differs, or None; the new
        baseline time)."""
        sandbox, baseline = self._sandbox, self._baseline
        try:
            images = [(path, self._fresh_archive(path)) for path in undo.restore]
        except FileNotFoundError as missing:
            return f"{missing}: a changed path that the image does not hold cannot be restored", ""
        tools = {path: (content, TOOL_MODE) for path, content in tool_files().items()}
        archive = restore_archive(images, baseline, tools if undo.reinstall else None)
        inline = len(archive) <= INLINE_ARCHIVE_BYTES
        if not inline:
            sandbox.put_archive("/", archive)
        finished = sandbox.run(
            finish_command(undo, baseline, STATE_DIR, archive if inline else None),
            timeout_s=_ADMIN_TIMEOUT_S,
            user=ROOT_USER,
            shell=ADMIN_SHELL,
        )
        if finished.truncated:
            return f"the check of the restore printed over {ADMIN_OUTPUT_BYTES} bytes", ""
        problem, since = check(undo, baseline, finished.output, _owned_by_project)
        return problem or (None if since else "the container's clock could not be read"), since

    def _keep_prepared_git(self) -> None:
        """Copies the repository's .git that preparation made (no image holds it) to PREPARED_GIT_COPY, where
        warm resets read back what an episode changed in it; raises SandboxError when the copy fails."""
        git_dir = shlex.quote(self.config.repo_root.rstrip("/") + "/.git")
        copied = self._sandbox.run(
            # whole-second times: the engine's archives, which read the copy back, keep no fraction
            f'now=$(date +%s) && find {git_dir} -exec touch -h -d "@$now" {{}} + && '
            f"rm -rf {PREPARED_GIT_COPY} && mkdir -p {PREPARED_GIT_COPY} && "
            f"cp -a {git_dir} {PREPARED_GIT_COPY}/",
            timeout_s=_ADMIN_TIMEOUT_S,
        )
        if copied.exit_code != 0:
            raise SandboxError(
                f"could not keep a copy of the prepared repository: {copied.output.strip()[:300]}"
            )

    def _fresh_archive(self, path: str) -> bytes:
        """Returns a tar archive of `path` as the fresh container held it: read from the image, or, inside the
        .git that preparation made, from its copy. Raises FileNotFoundError when neither holds it."""
        git_dir = self.config.repo_root.rstrip("/") + "/.git"
        if self._prepared_git and (path == git_dir or path.startswith(git_dir + "/")):
            return self._sandbox.container_archive(PREPARED_GIT_COPY + "/.git" + path[len(git_dir) :])
        return self._sandbox.image_archive(path)

    def _git_restore_command(self) -> str:
        """Returns the bash lines that put the work tree and index at the base commit (a lock a killed git
        left is removed), remove untracked files but those the image shipped, and print `git STATUS`; the
        repository's own configuration cannot run hooks or an fsmonitor here."""
        spare = " ".join(f"-e {shlex.quote('/' + _glob_escape(path))}" for path in self._spared_paths)
        git = (
            "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=/nonexistent "
            "git -c core.fsmonitor=false -c core.hooksPath=/dev/null"
        )
        base = shlex.quote(self.instance.base_commit)
        return (
            f"(cd {shlex.quote(self.config.repo_root)} && rm -f .git/index.lock && "
            f"{git} read-tree --reset -u {base} && "
            f'{git} clean -q -f -d -x {spare}); printf "git %s\\0" "$?"'
        )

    def _restored_by_reset(self, path: str) -> bool:
        """Returns whether the reset restores `path` without envs.world: the repository's work tree and index
        (git) and what the tools keep in their state folder (emptied)."""
        root = self.config.repo_root.rstrip("/")
        if path.startswith(STATE_DIR + "/"):
            return True
        if path != root and not path.startswith(root + "/"):
            return False
        inside = path[len(root) + 1 :]
        if inside == ".git/index":
            return True
        if inside == ".git" or inside.startswith(".git/"):
            return False
        return not any(
            inside == spared.rstrip("/") or inside.startswith(spared.rstrip("/") + "/")
            for spared in self._spared_paths
        )

    def _install_tools(self) -> None:
        for path, content in tool_files().items():
            self._sandbox.write_file(path, content, mode=TOOL_MODE)

    def _start_shell(self) -> Shell:
        prelude = shell_prelude(
            self.config.repo_root, [INSTALL_DIR], tool_env(self.config.repo_root, self.instance.base_commit)
        )
        if self.config.shell == "exec":
            return ExecShell(self._sandbox, prelude)
        if not isinstance(self._sandbox, DockerSandbox):
            raise TypeError('the persistent shell needs a DockerSandbox; use SWEEnvConfig(shell="exec")')
        return PersistentShell(
            self._sandbox, prelude, self.config.max_observation_chars, background=self.config.background
        )


_PROBE_TIMEOUT_S = 1.0
_CLIP_MARKER = "\n[... {} characters of output truncated ...]\n"
_ADMIN_TIMEOUT_S = 60.0
"""Limit of the env's own commands at a reset (listing, restoring, checking the container's files)."""
_EMPTY_STATE = f'state=({STATE_DIR}/*); (( ${{#state[@]}} )) && rm -rf -- "${{state[@]}}"'
"""Forgets the editor's undo history and the last patch, keeping the state folder (part of the baseline)."""
_TOOLS_ROOT = posixpath.dirname(INSTALL_DIR)


def _owned_by_project(path: str) -> bool:
    """Returns whether `path` is one of the environment's own files (the tools and their state folder)."""
    return path in (STATE_DIR, _TOOLS_ROOT) or path.startswith(_TOOLS_ROOT + "/")


def _load_one(
    task: str | None,
    instance_id: str | None,
    path: str | Path | None,
    image_map: str | Path | dict[str, str] | None = None,
) -> TaskInstance:
    """Returns the named instance of a task set; raises ValueError when it is not named or not unique."""
    if task is None:
        raise ValueError("SWEEnv needs an instance, or task= (e.g. 'demo') and instance_id=")
    ids = None if instance_id is None else [instance_id]
    instances = load_instances(task, path, ids, image_map=image_map)
    if len(instances) != 1:
        ids = [instance.instance_id for instance in instances]
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise ValueError(f"task {task!r} has {len(ids)} instances: pass instance_id= (e.g. {shown})")
    return instances[0]


def _image_map(image_map: str | Path | dict[str, str]) -> dict[str, str]:
    """Returns the mapping an image map (a file or a dict) holds."""
    return dict(image_map) if isinstance(image_map, dict) else load_image_map(image_map)


def _image_map_origin(image_map: str | Path | dict[str, str]) -> str:
    """Returns where a mapped image name came from, as the missing-image message names it."""
    return "the image map given" if isinstance(image_map, dict) else f"image map {image_map}"


def _refusal(action: Any, max_chars: int) -> str | None:
    """Returns why `action` cannot be run, or None when it can."""
    if not isinstance(action, str):
        return f"an action is a string (a bash command), not {type(action).__name__}"
    if not action.strip():
        return "empty action: write a bash command, a tool call (e.g. str_replace_editor view FILE) or submit"
    if "\0" in action:
        return "the action holds a NUL character, which bash cannot run"
    try:
        action.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as error:
        return (
            f"the action holds {action[error.start]!r} at position {error.start}, a lone surrogate that "
            "UTF-8 cannot encode"
        )
    if len(action) > max_chars:
        return f"the action is {len(action)} characters long; the limit is {max_chars}"
    return None


def _step_info(exit_code: int, duration_s: float, timed_out: bool, clipped: bool, error: str | None) -> dict:
    return {
        "exit_code": exit_code,
        "duration_s": duration_s,
        "timed_out": timed_out,
        "output_clipped": clipped,
        "error": error,
        "restarted": None,
    }


def _clip(text: str, max_chars: int) -> str:
    """Returns `text`, or its head and tail around a visible marker when longer than `max_chars`."""
    if len(text) <= max_chars:
        return text
    longest_marker = len(_CLIP_MARKER.format(len(text)))
    keep = max(max_chars - longest_marker, 0)
    head, tail = keep - keep // 2, keep // 2
    return text[:head] + _CLIP_MARKER.format(len(text) - keep) + text[len(text) - tail :]


def _glob_escape(path: str) -> str:
    """Returns `path` with gitignore pattern characters escaped, so `git clean -e` matches it literally."""
    return "".join("\\" + char if char in "*?[]\\!#" else char for char in path)
