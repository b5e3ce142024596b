"""Running a test module's training script in a process of its own, so that the vLLM engine TRL starts
there never meets the test session's shared engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPT_LIMIT_S = 600


def run_script(module: str, out: Path, model_dir: str) -> dict[str, Any]:
    """Runs ``python -m MODULE OUT MODEL_DIR`` from the repository root, checks that it exited 0, and
    returns the OUT/result.json it wrote."""
    done = subprocess.run(
        [sys.executable, "-m", module, str(out), model_dir],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SCRIPT_LIMIT_S,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "result.json").read_text())
