"""Expert replies and the outputs answering them → steps; shared by the message and event-stream readers.

A reader hands over each reply as its thought and its :class:`~srl_swe.trajectories.actions.Move` s, and each
output with the :class:`Receiver` of the call it answers. An environment action opens a step that takes the
thought carried so far; reasoning (the reply's text, a ``think`` call, a reply that ran nothing) is carried
to the next action; text typed into a running process adds its output to the step that started the
process; other tools' outputs go nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from srl_swe.trajectories.actions import ACTION, INPUT, THOUGHT, Move
from srl_swe.trajectories.types import DROPPED, OnSkip, Step


@dataclass(slots=True)
class _OpenStep:
    thought: str
    action: str
    observations: list[str] = field(default_factory=list)
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class Receiver:
    """Where the output answering one call goes: its step (None: nowhere), the tool called, what was typed."""

    call_id: str
    step: _OpenStep | None
    tool: str
    typed: str


class StepBuilder:
    """Collects the steps of one trajectory, reply by reply; ``on_skip`` hears of each call left out."""

    def __init__(self, on_skip: OnSkip) -> None:
        self._on_skip = on_skip
        self._steps: list[_OpenStep] = []
        self._thoughts: list[str] = []

    def carry(self, thought: str) -> None:
        """Keep reasoning for the thought of the next action."""
        if thought.strip():
            self._thoughts.append(thought.strip())

    def reply(self, position: str, thought: str, moves: list[Move]) -> list[Receiver]:
        """Add one reply (its text and its calls, in order); return a :class:`Receiver` per call."""
        self.carry(thought)
        receivers = []
        for move in moves:
            step = None
            if move.kind == ACTION:
                step = _OpenStep("\n\n".join(self._thoughts), move.text)
                self._thoughts.clear()
                self._steps.append(step)
            elif move.kind == THOUGHT:
                self.carry(move.text)
            elif move.kind == INPUT:
                step = self._steps[-1] if self._steps else None
                self._on_skip(position, f"text typed into a running process: {move.text!r}", DROPPED)
            else:
                self._on_skip(position, f"not an environment command: {move.text}", DROPPED)
            receivers.append(Receiver(move.call_id, step, move.tool, move.text))
        return receivers

    @staticmethod
    def observe(receiver: Receiver, text: str, exit_code: int | None = None) -> None:
        """Add an output to the step its receiver names (none: the output is dropped)."""
        if receiver.step is None:
            return
        receiver.step.observations.append(text)
        if exit_code is not None:
            receiver.step.exit_code = exit_code

    def steps(self) -> list[Step]:
        """Return the steps so far."""
        return [Step(s.thought, s.action, "\n".join(s.observations), s.exit_code) for s in self._steps]
