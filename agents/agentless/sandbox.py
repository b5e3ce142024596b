"""The commands of Agentless Mini's stages, in one container of the instance's image: list and read the
repository's files, run its existing tests or a reproduction script, with or without a candidate patch. The
tree is put back to the base commit before each run (``git reset --hard`` and ``git clean -fd``: ignored
files such as an editable install's metadata stay)."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self

from agents.agentless.regression import regression_script
from harness import TaskInstance
from harness.grading import apply_patch, parse_test_log
from harness.sandbox import DockerSandbox, Sandbox, SandboxConfig

REPO_ROOT = "/testbed"
SCRIPT_PATH = "/tmp/srl_swe_regression.sh"
REPRODUCTION_PATH = f"{REPO_ROOT}/reproduce_bug.py"
RESET = "git reset --hard -q && git clean -fdq"
_ENV_SETUP = ("source ", ". ", "conda activate", "export ", "cd ")


@dataclass
class Run:
    """One run: whether the patch applied, the test statuses (regression) or the script's output."""

    applied: bool
    status: dict[str, str]
    output: str


class RepoRunner:
    """A container of ``instance``'s image for the stages' commands; use it as a context manager.
    ``timeout_s`` bounds a run of the existing tests, ``script_timeout_s`` one reproduction script."""

    def __init__(
        self,
        instance: TaskInstance,
        config: SandboxConfig,
        timeout_s: float,
        script_timeout_s: float = 120.0,
        sandbox_factory: Callable[[SandboxConfig], Sandbox] | None = None,
    ) -> None:
        self.instance = instance
        self.timeout_s = timeout_s
        self.script_timeout_s = script_timeout_s
        self.sandbox = (sandbox_factory or DockerSandbox)(config)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sandbox.close()

    def files(self) -> list[str]:
        """Return the repository's tracked files (paths from its root)."""
        result = self.sandbox.run(f"git -C {REPO_ROOT} ls-files", timeout_s=self.timeout_s)
        return [line for line in result.output.splitlines() if line.strip()]

    def read(self, paths: Sequence[str]) -> dict[str, str]:
        """Return path -> text of ``paths`` at the base commit (a missing file is left out)."""
        texts = {}
        for path in paths:
            try:
                texts[path] = self.sandbox.read_file(f"{REPO_ROOT}/{path}").decode("utf-8", "replace")
            except FileNotFoundError:
                continue
        return texts

    def regression(self, patch: str = "") -> Run:
        """Return the existing tests' statuses with ``patch`` applied ("" for the original code)."""
        applied = self._reset_and_apply(patch)
        if not applied:
            return Run(False, {}, "")
        self.sandbox.write_file(SCRIPT_PATH, regression_script(self.instance.eval_script), mode=0o755)
        result = self.sandbox.run(f"bash {SCRIPT_PATH}", timeout_s=self.timeout_s)
        return Run(True, parse_test_log(self.instance, result.output), result.output)

    def reproduce(self, tests: Sequence[str], patch: str = "") -> list[str] | None:
        """Return each reproduction script's output with ``patch`` applied ("" for the original code); None
        when the patch does not apply."""
        outputs = []
        for code in tests:
            if not self._reset_and_apply(patch):
                return None
            self.sandbox.write_file(REPRODUCTION_PATH, code + "\n")
            command = (
                f"{self._environment()}cd {REPO_ROOT} && $(command -v python || command -v python3) "
                + (shlex.quote(REPRODUCTION_PATH))
            )
            outputs.append(self.sandbox.run(command, timeout_s=self.script_timeout_s).output)
        self.sandbox.run(RESET, timeout_s=self.timeout_s)
        return outputs

    def _reset_and_apply(self, patch: str) -> bool:
        self.sandbox.run(RESET, timeout_s=self.timeout_s)
        applied, _ = apply_patch(self.sandbox, patch)
        return applied

    def _environment(self) -> str:
        """Return the eval script's environment set-up lines (before it touches the tests) as a prefix."""
        lines = []
        for line in self.instance.eval_script.splitlines():
            if line.startswith(("git checkout", "git apply")):
                break
            if line.strip().startswith(_ENV_SETUP):
                lines.append(line.strip())
        return "".join(f"{line} && " for line in lines)
