"""Wrappers around SWEEnv: the expert-aware SRL signal and a step limit that grades what is there.

ExpertAware(env, expert)   info["expert_action"], info["similarity"] (the SRL reward on the action)
StepLimit(env, max_steps)  truncates after max_steps actions and, like SWE-agent's autosubmission, grades
                           the patch at that point so that the RLVR reward is defined for every episode
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from envs.expert import Expert, RecordedStep, expert_steps
from envs.similarity import action_similarity


class ExpertAware(gym.Wrapper[str, str, str, str]):
    """Compares each action with the expert's action at the same step.

    step() info gains: expert_step (the step's index), expert_action (None past the expert's last step),
    similarity (`action_similarity(action, expert_action)`, None past the end), next_expert_action.
    reset() info gains next_expert_action.

    With ``follow=False`` the expert's position is a cursor that only :meth:`advance` moves: each action is
    compared with the expert's step at the cursor and leaves it there (a person exploring between the
    expert's steps, as in ``python -m envs``).
    """

    def __init__(self, env: gym.Env[str, str], expert: Expert, follow: bool = True) -> None:
        super().__init__(env)
        self.expert_steps: list[RecordedStep] = expert_steps(expert)
        self.follow = follow
        self._index = 0

    @property
    def expert_index(self) -> int:
        """Returns the index of the expert step the next action is compared with."""
        return self._index

    def next_expert_step(self) -> RecordedStep | None:
        """Returns the expert's step for the next action, or None when the expert has no more steps."""
        return self.expert_steps[self._index] if self._index < len(self.expert_steps) else None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Resets the env and the expert's position; returns (observation, info)."""
        observation, info = self.env.reset(seed=seed, options=options)
        self._index = 0
        return observation, {**info, "next_expert_action": self._next_action()}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Steps the env; returns its results with the expert's action and the similarity in info."""
        expert = self.next_expert_step()
        observation, reward, terminated, truncated, info = self.env.step(action)
        similarity = None
        if expert is not None and isinstance(action, str):
            similarity = action_similarity(action, expert.action)
        info = {
            **info,
            "expert_step": self._index,
            "expert_action": expert.action if expert else None,
            "similarity": similarity,
        }
        if self.follow:
            self._index += 1
        info["next_expert_action"] = self._next_action()
        return observation, reward, terminated, truncated, info

    def advance(self) -> int:
        """Moves the expert's position to its next step (kept at the end past its last); returns the new
        index."""
        self._index = min(self._index + 1, len(self.expert_steps))
        return self._index

    def _next_action(self) -> str | None:
        step = self.next_expert_step()
        return step.action if step else None


class StepLimit(gym.Wrapper[str, str, str, str]):
    """Truncates the episode after `max_steps` actions; with `grade` the patch at that point is graded.

    The last step's reward is then the RLVR outcome and its info holds patch, resolved and grade, as after
    `submit`. Without `grade` it behaves like gymnasium's TimeLimit.
    """

    def __init__(self, env: gym.Env[str, str], max_steps: int, grade: bool = True) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, not {max_steps}")
        super().__init__(env)
        self.max_steps = max_steps
        self.grade = grade
        self._steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Resets the env and the step count; returns (observation, info)."""
        self._steps = 0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Steps the env; at the limit returns truncated=True (and the graded outcome with `grade`)."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._steps += 1
        if terminated or truncated or self._steps < self.max_steps:
            return observation, reward, terminated, truncated, info
        if self.grade:
            reward, outcome = self.env.unwrapped.submit_current_patch()
            info = {**info, **outcome}
        return observation, reward, terminated, True, {**info, "step_limit_reached": True}
