"""The one trajectory type every reader produces, and the record of what a read skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

RECORD, STEP, DROPPED = "record", "step", "dropped"


@dataclass(frozen=True, slots=True)
class Step:
    """One expert step: the reasoning before the action, the action the environment ran, what came back.

    ``exit_code`` is the command's exit status where the source recorded one apart from the output
    (OpenHands' ``[Command finished with exit code N]``, mini-swe-agent's ``returncode``), else None.
    """

    thought: str
    action: str
    observation: str
    exit_code: int | None = None


@dataclass(slots=True)
class Trajectory:
    """An expert episode on one task instance, whatever format it was read from.

    ``source`` names where it was read (``path`` or ``path#position``) and ``format`` which reader read it
    (``swe-agent``, ``mini-swe-agent``, ``messages`` or ``openhands``). ``source_root`` is the repository
    root the expert worked in as the source shows it (``/testbed``, SWE-Gym's
    ``/workspace/<repo>__<version>``), or None when the source does not say; see
    :mod:`srl_swe.trajectories.paths`.
    """

    instance_id: str
    problem_statement: str
    steps: list[Step]
    patch: str | None
    source: str
    format: str
    trajectory_id: str = ""
    source_root: str | None = None

    def __post_init__(self) -> None:
        if not self.trajectory_id:
            self.trajectory_id = self.source


@dataclass(frozen=True, slots=True)
class Skip:
    """Something a read left out: where (``path``, ``path#position``, ``… message i``), why, and what kind.

    ``kind``: a whole ``record`` (file, line, row); one ``step`` of a trajectory that was kept; or a
    ``dropped`` reply or tool call, left out by design because it ran nothing in the environment (a reply
    the agent's scaffold rejected, a task-tracker call, text typed into a running process). Strict reads
    raise on the first two kinds only.
    """

    where: str
    reason: str
    kind: str = RECORD


class OnSkip(Protocol):
    """Hears of something left out of one trajectory: its position in it, why, and the :class:`Skip` kind."""

    def __call__(self, position: str, reason: str, kind: str = STEP) -> None: ...


@dataclass(slots=True)
class ReadLog:
    """Collects the skips of one or more reads, so that a caller can count and report them."""

    skipped: list[Skip] = field(default_factory=list)


class TrajectoryFormatError(ValueError):
    """A trajectory file or record that cannot be read; the message names the file and position."""
