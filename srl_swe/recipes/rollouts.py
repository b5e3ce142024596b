"""Whole agent episodes in `SWEEnv` as token sequences: the rollouts of RLVR.

An episode is the agent loop's conversation (:mod:`agents.loop`) built token by token so that every token the
policy wrote keeps the log-probability it was sampled with:

* ``prompt_ids`` — the chat-templated first prompt (system prompt and task,
  :func:`agents.prompts.build_prompt` with no context) with the generation prompt;
* each turn samples from ``prompt_ids + completion_ids``; the sampled tokens join ``completion_ids`` with
  ``env_mask`` 1 and their log-probabilities;
* what the env answered joins as the chat template's user turn (``Observation:`` and the output clipped to
  ``max_observation_tokens`` as the loop clips it, or :data:`agents.loop.FORMAT_ERROR_OBSERVATION` after a
  malformed completion, which is stepped as the refused empty action) followed by the generation prompt,
  with ``env_mask`` 0 and log-probability 0 — the loss never sees these tokens.

Unlike the loop's ``LoopConfig.context_steps`` window, the whole history stays in context: the next turn must
extend the exact tokens already sampled, else the old log-probabilities would belong to another sequence
and the policy-gradient ratio would be off-policy. The episode ends on ``submit``; at the step limit, where
the env's :class:`envs.wrappers.StepLimit` grades the patch (autosubmission); or when the next turn would no
longer fit ``max_model_len`` (context exhausted), where the patch is graded as well (``truncated``).

An env that raises — at reset, at a step, or while grading (e.g. the grading container could not start) —
ends that episode alone with ``exit_status`` "error: ..." and reward NaN: the infrastructure failed, not the
policy, so the episode has no outcome (:attr:`TokenEpisode.env_error`; RLVR leaves it out of its group).

Generation is injected (:data:`Generate`): TRL's colocated vLLM in training, a scripted policy in tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from agents.completion import FormatError, parse_completion
from agents.loop import FORMAT_ERROR_OBSERVATION
from agents.prompts import build_prompt, clip_text, observation_message
from envs.pool import EnvPool
from harness import TaskInstance

Turn = tuple[list[int], list[float]]
"""What one turn sampled: token ids and their log-probabilities."""
Generate = Callable[[list[list[int]]], list[Turn]]
"""Samples one turn per context (token ids) and returns them in order."""

_PROBE_USER, _PROBE_ASSISTANT = "U", "A"


@dataclass(frozen=True)
class EpisodeLimits:
    """Bounds of a token episode; the step limit itself is the env's (StepLimit)."""

    max_turn_tokens: int = 1024
    """Most tokens the policy samples per turn (what ``generate`` is configured with)."""
    max_model_len: int = 32768
    """Longest context the engine takes: a turn is sampled only when context + ``max_turn_tokens`` fit."""
    max_observation_tokens: int = 2048
    """Budget of an observation in context (characters/4), clipped as the loop clips it."""


@dataclass
class TokenEpisode:
    """One finished episode as token sequences, and its outcome."""

    instance_id: str
    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    reward: float = 0.0
    """The graded outcome; NaN after an env error (no outcome)."""
    resolved: bool = False
    steps: int = 0
    format_errors: int = 0
    timeouts: int = 0
    exit_status: str = ""
    """"submitted", "step_limit", "context_full", "truncated" (the env ended it, e.g. over its disk limit)
    or "error: ..."."""
    rejected: str | None = None
    """Why the env gave a graded patch no reward whatever its tests (e.g. it changes test infrastructure:
    ``SWEEnvConfig.test_infra_changes``), or None."""
    similarities: list[float] = field(default_factory=list)
    """Per step, the SRL similarity to the expert's action at that step (0 past the expert's last step);
    empty when the env is not expert-aware."""

    @property
    def env_error(self) -> bool:
        """Return whether the episode ended in an env or grading error (its outcome is unknown)."""
        return self.exit_status.startswith("error")

    @property
    def expert_similarity(self) -> float:
        """Return the mean per-step similarity to the expert's actions (0.0 without steps or expert)."""
        return sum(self.similarities) / len(self.similarities) if self.similarities else 0.0


@dataclass
class RolloutTimes:
    """Wall-clock seconds spent in the envs (resets, steps, grading) and in generation."""

    env_s: float = 0.0
    generation_s: float = 0.0


class ChatTokens:
    """The chat template's token pieces: the first prompt and an observation turn after a completion."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.special_ids = set(tokenizer.all_special_ids)
        user = [{"role": "user", "content": _PROBE_USER}]
        prompt = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
        turns = [*user, {"role": "assistant", "content": _PROBE_ASSISTANT}, {"role": "user", "content": "\0"}]
        probe = tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
        if not probe.startswith(prompt + _PROBE_ASSISTANT):
            raise ValueError("the chat template does not render a conversation as its prompts' continuation")
        # after the assistant's text: its end of turn, the user turn's opening; then the closing and the
        # generation prompt
        self._between, self._after = probe[len(prompt + _PROBE_ASSISTANT) :].split("\0")

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        """Return the token ids of ``messages`` with the generation prompt."""
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def observation_ids(self, content: str, last_id: int | None) -> list[int]:
        """Return the tokens that follow a completion whose last token is ``last_id``: the end of its turn
        (less the stop token the policy already wrote), the user turn holding ``content`` and the generation
        prompt.

        ``content`` is tokenized as plain text: a repository's output that spells a chat marker (a file
        holding ``<|im_end|>``) stays text and cannot close the turn; only the template's own markers around
        it are special tokens."""
        text = self._between
        if last_id in self.special_ids:
            written = self.tokenizer.decode([last_id])
            text = text.removeprefix(written)
        return self._ids(text) + self._ids(content, plain=True) + self._ids(self._after)

    def _ids(self, text: str, plain: bool = False) -> list[int]:
        """Return the token ids of ``text``; ``plain``: special-token spellings are split into text tokens."""
        return self.tokenizer(text, add_special_tokens=False, split_special_tokens=plain)["input_ids"]


def run_token_episodes(
    envs: Sequence[gym.Env],
    generate: Generate,
    chat: ChatTokens,
    limits: EpisodeLimits,
    times: RolloutTimes | None = None,
) -> list[TokenEpisode]:
    """Run one episode in each env (reset first; StepLimit-wrapped) in lockstep, one ``generate`` call per
    turn for every unfinished episode, the envs stepping in parallel threads; return the episodes in order.
    ``times`` accumulates the env and generation seconds."""
    times = times if times is not None else RolloutTimes()
    with ThreadPoolExecutor(max_workers=max(1, len(envs)), thread_name_prefix="rollout") as pool:
        started = time.monotonic()
        problems = list(pool.map(_reset, envs))
        times.env_s += time.monotonic() - started
        episodes = []
        for env, problem in zip(envs, problems, strict=True):
            instance = env.unwrapped.instance
            text = problem if isinstance(problem, str) else instance.problem_statement
            episodes.append(TokenEpisode(instance.instance_id, chat.prompt_ids(build_prompt(text, []))))
            if not isinstance(problem, str):
                _fail(episodes[-1], problem)
        active = [i for i, episode in enumerate(episodes) if not episode.env_error]
        while active:
            started = time.monotonic()
            full = [i for i in active if not _fits(episodes[i], limits)]
            list(pool.map(lambda i: _grade_now(envs[i], episodes[i]), full))
            times.env_s += time.monotonic() - started
            active = [i for i in active if i not in full]
            if not active:
                break
            started = time.monotonic()
            turns = generate([episodes[i].prompt_ids + episodes[i].completion_ids for i in active])
            times.generation_s += time.monotonic() - started
            started = time.monotonic()
            finished = list(
                pool.map(
                    lambda job: _take_turn(envs[job[0]], episodes[job[0]], job[1], chat, limits),
                    zip(active, turns, strict=True),
                )
            )
            times.env_s += time.monotonic() - started
            active = [i for i, done in zip(active, finished, strict=True) if not done]
    return episodes


def run_pooled_episodes(
    pool: EnvPool,
    instances: Sequence[TaskInstance],
    generate: Generate,
    chat: ChatTokens,
    limits: EpisodeLimits,
    times: RolloutTimes | None = None,
) -> list[TokenEpisode]:
    """Run one episode per entry of ``instances`` on envs of ``pool``, in waves of at most its ``max_live``
    envs (each wave in lockstep); return the episodes in order."""
    episodes: list[TokenEpisode] = []
    for start in range(0, len(instances), pool.max_live):
        envs = pool.acquire(instances[start : start + pool.max_live])
        try:
            episodes += run_token_episodes(envs, generate, chat, limits, times)
        finally:
            pool.release(envs)
    return episodes


def _reset(env: gym.Env) -> str | Exception:
    """Reset ``env``; return the problem statement it shows, or the exception that broke the reset."""
    try:
        return env.reset()[0]
    except Exception as error:  # a broken sandbox ends this episode, not the batch
        return error


def _fail(episode: TokenEpisode, error: Exception) -> None:
    """End ``episode`` on an env or grading error: no outcome (reward NaN)."""
    episode.exit_status = f"error: {type(error).__name__}: {error}"
    episode.reward = math.nan


def _fits(episode: TokenEpisode, limits: EpisodeLimits) -> bool:
    context = len(episode.prompt_ids) + len(episode.completion_ids)
    return context + limits.max_turn_tokens <= limits.max_model_len


def _grade_now(env: gym.Env, episode: TokenEpisode) -> None:
    """End an episode whose context is full by grading its patch as it stands."""
    try:
        reward, info = env.unwrapped.submit_current_patch()
    except Exception as error:  # a broken sandbox ends this episode, not the batch
        _fail(episode, error)
        return
    _finish(episode, reward, info, "context_full")


def _take_turn(
    env: gym.Env, episode: TokenEpisode, turn: Turn, chat: ChatTokens, limits: EpisodeLimits
) -> bool:
    """Append the sampled turn, step the env with its action, append the observation; return whether the
    episode ended."""
    ids, logprobs = turn
    episode.completion_ids += ids
    episode.logprobs += logprobs
    episode.env_mask += [1] * len(ids)
    text = chat.tokenizer.decode(ids, skip_special_tokens=True)
    parsed = parse_completion(text)
    failed = isinstance(parsed, FormatError)
    try:
        observation, reward, terminated, truncated, info = env.step("" if failed else parsed.action)
    except Exception as error:  # the env or its grading broke: no outcome
        _fail(episode, error)
        return True
    episode.steps += 1
    episode.format_errors += failed
    episode.timeouts += bool(info.get("timed_out"))
    if "expert_step" in info:
        episode.similarities.append(info.get("similarity") or 0.0)
    if terminated or truncated:
        status = "submitted" if terminated else "truncated"
        _finish(episode, reward, info, "step_limit" if info.get("step_limit_reached") else status)
        return True
    if failed:
        observation = FORMAT_ERROR_OBSERVATION.format(reason=parsed.reason)
    shown = observation_message(clip_text(observation, limits.max_observation_tokens))
    extra = chat.observation_ids(shown, ids[-1] if ids else None)
    episode.completion_ids += extra
    episode.logprobs += [0.0] * len(extra)
    episode.env_mask += [0] * len(extra)
    return False


def _finish(episode: TokenEpisode, reward: float, info: dict[str, Any], status: str) -> None:
    episode.reward = float(reward)
    episode.resolved = bool(info.get("resolved", False))
    episode.rejected = info.get("rejected")
    episode.exit_status = status
