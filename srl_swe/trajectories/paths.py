"""Repository roots: where the expert had the repository, rewritten to where the environment has it.

SWE-bench's images, and our environment, hold the repository at ``/testbed``. Expert runs did not always:
SWE-Gym's OpenHands runs worked in ``/workspace/<repo>__<version>`` (a link to ``/testbed`` in the same
images), early SWE-agent runs in ``/<owner>__<repo>``. A reader records the root its source names in
:attr:`~srl_swe.trajectories.types.Trajectory.source_root` (from the task prompt's ``<uploaded_files>``, or
SWE-agent's ``(Current directory: …)``), and :func:`with_repo_root` rewrites it in every thought, action
and observation, so that the expert's actions run in the environment as they are. Only whole path
components are rewritten: ``/workspace/x__1.0/a.py`` and ``cd /workspace/x__1.0`` are, ``/workspace/x__1.0b``
and ``/data/workspace/x__1.0`` are not. The patch is relative to the root already, the issue text names none.
"""

from __future__ import annotations

import re
from dataclasses import replace

from srl_swe.trajectories.types import Trajectory

ENVIRONMENT_ROOT = "/testbed"

_UPLOADED_FILES = re.compile(r"<uploaded_files>\s*(/[^\s<]*)\s*</uploaded_files>")
_CURRENT_DIRECTORY = re.compile(r"\(Current directory: (/[^\s)]*)\)")


def source_root_of(task_prompt: str) -> str | None:
    """Return the repository root a task prompt names, or None when it names none."""
    match = _UPLOADED_FILES.search(task_prompt) or _CURRENT_DIRECTORY.search(task_prompt)
    if match is None:
        return None
    root = match.group(1).rstrip("/")
    return root or None


def _root_pattern(root: str) -> re.Pattern[str]:
    # not inside a longer path before it; after it only the end, "/" or a character no path name goes on with
    return re.compile(rf"(?<![\w./-]){re.escape(root)}(?![\w-]|\.[\w-])")


def with_repo_root(trajectory: Trajectory, root: str | None) -> Trajectory:
    """Return ``trajectory`` with its source root rewritten to ``root`` in thoughts, actions and observations.

    The trajectory comes back unchanged when ``root`` is None (mapping off), when the source named no root,
    or when it is ``root`` already. ``source_root`` keeps the root the source had.
    """
    source = trajectory.source_root
    if root is None or source is None or source == root:
        return trajectory
    pattern = _root_pattern(source)
    target = root.replace("\\", r"\\")
    steps = [
        replace(
            step,
            thought=pattern.sub(target, step.thought),
            action=pattern.sub(target, step.action),
            observation=pattern.sub(target, step.observation),
        )
        for step in trajectory.steps
    ]
    return replace(trajectory, steps=steps)
