"""Expert trajectories in their real formats → one :class:`Trajectory` type.

``read(path)`` takes a SWE-agent ``.traj`` (incl. SWE-smith's tool-call trajectories), a mini-swe-agent
``.traj.json``, chat-message rows (SWE-smith fine-tuning JSONL, SWE-Gym's OpenHands trajectories), an
OpenHands event stream, a folder of any of these, a saved HF dataset or a hub dataset id; every tool call
becomes one action string the environment runs (see :mod:`srl_swe.trajectories.actions`), and paths are
rewritten to the environment's repository root (``repo_root``, see :mod:`srl_swe.trajectories.paths`).
"""

from srl_swe.trajectories.actions import normalize_action, parse_editor_command, render_tool_call
from srl_swe.trajectories.paths import ENVIRONMENT_ROOT, with_repo_root
from srl_swe.trajectories.read import iter_trajectories, read
from srl_swe.trajectories.types import ReadLog, Skip, Step, Trajectory, TrajectoryFormatError

__all__ = [
    "ENVIRONMENT_ROOT",
    "ReadLog",
    "Skip",
    "Step",
    "Trajectory",
    "TrajectoryFormatError",
    "iter_trajectories",
    "normalize_action",
    "parse_editor_command",
    "read",
    "render_tool_call",
    "with_repo_root",
]
