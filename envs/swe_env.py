"""`SWEEnv`: a SWE-bench-style task as a Gymnasium environment on a harness sandbox.

reset() -> the problem statement; the repository at `base_commit`, our tools on PATH, no test patch.
step(action) -> the action's output from a persistent bash (see envs.shell); `submit` ends the episode and
grades the patch in a fresh sandbox with the harness: reward 1.0 when resolved, else 0.0 (the RLVR outcome).
Every other step has reward 0.0. Step limits and the SRL signal are wrappers (envs.wrappers).

A warm reset (the default once a container runs) keeps the container: it kills what the last episode left
running, restores the repository (`git reset --hard <base>`, `git clean -fdx` sparing the untracked and
ignored files the image shipped with, e.g. built extensions or egg-info), forgets the editor's undo
history, reinstalls the tools and starts a new shell. `reset(options={"fresh": True})` starts a new
container; so does a warm reset that fails (e.g. the disk was filled).

step() never raises for what an action does: actions that cannot be run are refused with an observation;
a shell that exits or hangs and a container that stops or fills with processes are recovered within the
step's timeout + about 2 s (see envs.shell), the observation saying so; a sandbox that cannot be recovered
is an observation too (reset() then starts a fresh one). A container that wrote more than its
`SandboxConfig.disk_limit` (checked after a step, at most once a second) ends the episode (truncated) and is
removed at once.
"""

from __future__ import annotations

import hashlib
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
    RESET_STATE_COMMAND,
    SUBMIT_MARKER,
    TOOL_MODE,
    parse_submission,
    tool_env,
    tool_files,
)
from harness import TaskInstance, load_instances
from harness.grading import GradeResult, GradingConfig, grade
from harness.image_names import load_image_map
from harness.images import ensure_images
from harness.sandbox import DockerSandbox, Sandbox, SandboxConfig, SandboxError
from harness.sandbox.base import MARKER_VAR

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
        self._episode_over = True
        self._last_render = ""
        self._disk_checked = 0.0

    # ------------------------------------------------------------------ Gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Restores the repository at the base commit; returns (problem statement, info).

        options: {"fresh": True} starts a new container instead of reusing the running one.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        fresh = bool(options.pop("fresh", False))
        if options:
            raise ValueError(f"unknown reset option(s): {', '.join(sorted(options))} (known: fresh)")
        started = time.monotonic()
        warm = not fresh and self._sandbox is not None and self._warm_reset()
        if not warm:
            self._fresh_reset()
        self._episode_over = False
        observation = _clip(self.instance.problem_statement, self.config.max_observation_chars)
        self._last_render = observation
        info = {
            "instance_id": self.instance.instance_id,
            "fresh": not warm,
            "reset_s": time.monotonic() - started,
        }
        return observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Runs `action`; returns (observation, reward, terminated, truncated, info).

        info: exit_code, duration_s, timed_out, output_clipped, error (why an action was refused, else
        None), restarted (for a run action: "shell" or "container" when the action ended or broke one, or
        found it dead and ran in a new one, else None); with `patch_in_info` the current patch; after a
        submission also patch, resolved and grade.
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
        """Grades `patch`, ends the episode; returns the reward and the outcome's info entries."""
        self._episode_over = True
        result = self._grader(self.instance, patch)
        return float(result.resolved), {
            "patch": patch,
            "resolved": result.resolved,
            "grade": result.to_json(),
        }

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
        """Replaces the container by a new one from the instance's image and prepares it."""
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
        listing = self._sandbox.run(
            f"cd {shlex.quote(self.config.repo_root)} && git ls-files --others --directory -z"
        )
        self._spared_paths = [path for path in listing.output.split("\0") if path]
        self._install_tools()
        self._shell = self._start_shell()

    def _warm_reset(self) -> bool:
        """Restores the repository in the running container; returns False when that failed.

        A last no-op through the shell first applies its background policy, so that a container full of
        runaway processes is restarted (or found dead) in about a second instead of failing the restore.
        """
        try:
            if isinstance(self._shell, PersistentShell):
                self._shell.run(NO_OP, _PROBE_TIMEOUT_S)
            if self._shell is not None:
                self._shell.close()
                self._shell = None
            restored = self._sandbox.run(
                self._restore_command(), timeout_s=max(self.config.step_timeout_s, 60)
            )
            if restored.exit_code != 0:
                return False
            if _TOOLS_CHANGED in restored.output:
                self._install_tools()
            self._shell = self._start_shell()
        except Exception:  # whatever broke the container, a fresh one is the recovery
            return False
        return True

    def _restore_command(self) -> str:
        spare = " ".join(f"-e {shlex.quote('/' + _glob_escape(path))}" for path in self._spared_paths)
        return "\n".join(
            [
                _KILL_EPISODE_PROCESSES,
                f"cd {shlex.quote(self.config.repo_root)} || exit 1",
                f"git reset -q --hard {shlex.quote(self.instance.base_commit)} || exit 1",
                f"git clean -q -f -d -x {spare} || exit 1",
                RESET_STATE_COMMAND,
                f"sha256sum --check --status <<'EOF' || echo {_TOOLS_CHANGED}\n{_tool_checksums()}\nEOF",
            ]
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


_TOOLS_CHANGED = "__SRL_SWE_TOOLS_CHANGED__"
_PROBE_TIMEOUT_S = 1.0
_CLIP_MARKER = "\n[... {} characters of output truncated ...]\n"
_KILL_EPISODE_PROCESSES = (
    f'for pid in $(grep -lz "^{MARKER_VAR}=" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do '
    f'[ "$pid" = "$$" ] || grep -qzx "{MARKER_VAR}=${MARKER_VAR}" /proc/$pid/environ 2>/dev/null '
    '|| kill -9 "$pid" 2>/dev/null; done'
)
"""Kills every process an earlier action started (they carry a marker) except this command's own."""


def _tool_checksums() -> str:
    """Returns sha256sum's check lines for the installed tools."""
    return "\n".join(f"{hashlib.sha256(data).hexdigest()}  {path}" for path, data in tool_files().items())


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
