"""The in-container tools that expert actions call, and what the environment needs to install and read them.

`bin/str_replace_editor` (SWE-agent's editor command line) and `bin/submit` are standalone python3 scripts
(standard library only). The environment copies them into the sandbox at INSTALL_DIR with TOOL_MODE, puts
INSTALL_DIR on PATH, passes `tool_env(...)` as environment variables, and ends the episode when an
observation holds a submission (`parse_submission`). The names below are repeated inside the scripts,
which cannot import this package; tests/envs pin that they agree.
"""

from pathlib import Path

TOOLS_DIR = Path(__file__).parent / "bin"
TOOL_NAMES = ("str_replace_editor", "submit")
INSTALL_DIR = "/opt/srl_swe_tools/bin"
TOOL_MODE = 0o755

SUBMIT_MARKER = "<<SRL_SWE_SUBMIT>>"
EMPTY_SUBMISSION = (
    f"{SUBMIT_MARKER} the patch is empty: the repository has no changes against the base commit"
)
"""The one line `submit` prints for an empty patch (a patch is printed between two SUBMIT_MARKER lines)."""
STATE_DIR_ENV = "SRL_SWE_TOOLS_STATE_DIR"
STATE_DIR = "/tmp/srl_swe_tools"
PATCH_FILE = f"{STATE_DIR}/model.patch"
REPO_ROOT_ENV = "SRL_SWE_REPO_ROOT"
BASE_COMMIT_ENV = "SRL_SWE_BASE_COMMIT"


def tool_files() -> dict[str, bytes]:
    """Returns {install path in the sandbox: script content} for every tool."""
    return {f"{INSTALL_DIR}/{name}": (TOOLS_DIR / name).read_bytes() for name in TOOL_NAMES}


def tool_env(repo_root: str = "/testbed", base_commit: str | None = None) -> dict[str, str]:
    """Returns the environment variables that tell `submit` which repository to diff and against what
    (HEAD when `base_commit` is None)."""
    env = {REPO_ROOT_ENV: repo_root}
    if base_commit is not None:
        env[BASE_COMMIT_ENV] = base_commit
    return env


def parse_submission(output: str) -> str | None:
    """Returns the patch printed between the two SUBMIT_MARKER lines of `output` ("" for EMPTY_SUBMISSION's
    line), or None when `output` holds no complete submission (read PATCH_FILE if the output was cut)."""
    lines = output.splitlines(keepends=True)
    if any(line.rstrip("\r\n") == EMPTY_SUBMISSION for line in lines):
        return ""
    starts = [index for index, line in enumerate(lines) if line.rstrip("\r\n") == SUBMIT_MARKER]
    if len(starts) < 2:
        return None
    return "".join(lines[starts[0] + 1 : starts[1]])
