"""Simulated pairwise annotators (AlpacaFarm): choose the better of two replies, and pay it as a reward.

An annotator's one call is ``prefer(prompt, first, second, task_id=None) -> Preference``: 1.0 when the
first reply is preferred, 0.0 for the second, 0.5 for a tie. Two kinds come with the suite:

- :class:`ModelAnnotator`: any policy spec (``tiny-random``, ``smollm2``, ``hf:PATH``,
  ``openai:BASE_URL#MODEL`` for a local OpenAI-compatible endpoint) asked AlpacaFarm's question, "which
  output is better, (a) or (b)?", in both orders so that a preference for a position cancels out. A
  judgement it cannot read is an error (:class:`~feedback_gym.errors.AnnotatorFailedError`) unless
  ``on_unreadable="tie"`` says to count it as a tie; it is never a silent score.
- :class:`ReferenceJudge`: reference-guided and deterministic. Both replies are played as first
  attempts on the row's task in a feedback-gym environment (code in the sandbox); the one whose verdict
  scores higher wins. Needs the task id (the ``task_id`` column of
  :func:`~feedback_gym.agents.adapters.trl.task_dataset`).

:func:`preference_reward` turns either into a reward function of the TRL shape the suite's adapters
use, ``reward(prompts, completions, **columns) -> list[float]``: each completion against its row's
baseline reply (AlpacaFarm's win rate against a reference model's outputs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from feedback_gym.errors import AnnotatorFailedError, ConfigError

#: AlpacaFarm's pairwise question, asked of a model annotator.
PAIRWISE_TEMPLATE = (
    "You are a careful annotator. Which output answers the instruction better: more correct, more "
    "helpful, and no longer than it needs to be?\n\n"
    "Instruction:\n{prompt}\n\nOutput (a):\n{first}\n\nOutput (b):\n{second}\n\n"
    "Reply with exactly one of: (a) or (b)."
)
_CHOICE = re.compile(r"\(\s*([ab])\s*\)|\b(?:output|answer)\s*\(?([ab])\b|^\s*([ab])\s*$", re.I | re.M)


@dataclass(frozen=True)
class Preference:
    """One judgement: ``first`` is 1.0 (first reply preferred), 0.0 (second) or 0.5 (tie)."""

    first: float
    reason: str = ""


@runtime_checkable
class PairwiseAnnotator(Protocol):
    """Chooses between two replies to the same prompt."""

    name: str

    def prefer(self, prompt: str, first: str, second: str, *, task_id: str | None = None) -> Preference:
        """Judge ``first`` against ``second``."""
        ...


def read_choice(text: str) -> str | None:
    """``"a"`` or ``"b"`` when the judgement names exactly one of them, else ``None``.

    >>> read_choice("Output (b) is better."), read_choice("(a)"), read_choice("b")
    ('b', 'a', 'b')
    >>> read_choice("both (a) and (b)") is None, read_choice("hmm") is None
    (True, True)
    """
    found = {next(g for g in match.groups() if g).lower() for match in _CHOICE.finditer(text)}
    return found.pop() if len(found) == 1 else None


class ModelAnnotator:
    """A model (any policy spec or ``Policy``) as a pairwise annotator; see the module docstring.

    Args:
        policy: A spec (``tiny-random``, ``openai:http://127.0.0.1:8000/v1#model``...) or a ``Policy``.
        both_orders: Ask again with the replies swapped and average (cancels a position bias).
        on_unreadable: ``"raise"`` (default) or ``"tie"``: what a judgement naming neither reply counts as.
        template: The question, with ``{prompt}``, ``{first}`` and ``{second}``.
        policy_kwargs: Passed to ``make_policy`` with a spec (``max_new_tokens``, ``temperature``...).
    """

    def __init__(
        self,
        policy: Any,
        *,
        both_orders: bool = True,
        on_unreadable: str = "raise",
        template: str = PAIRWISE_TEMPLATE,
        **policy_kwargs: Any,
    ) -> None:
        from feedback_gym.agents.policy import Policy, make_policy

        if on_unreadable not in ("raise", "tie"):
            raise ConfigError(f"on_unreadable must be 'raise' or 'tie'; got {on_unreadable!r}")
        if not all(f"{{{key}}}" in template for key in ("prompt", "first", "second")):
            raise ConfigError("template must contain {prompt}, {first} and {second}")
        if isinstance(policy, str):
            policy_kwargs.setdefault("max_new_tokens", 16)
            policy = make_policy(policy, **policy_kwargs)
        if not isinstance(policy, Policy):
            raise ConfigError(f"policy must be a policy spec or a Policy; got {type(policy).__name__}")
        self.policy = policy
        self.name = f"model:{policy.name}"
        self.both_orders = both_orders
        self.on_unreadable = on_unreadable
        self.template = template

    def prefer(self, prompt: str, first: str, second: str, *, task_id: str | None = None) -> Preference:
        """Ask the model (in both orders unless told not to) and combine the answers."""
        orders = [(first, second), (second, first)] if self.both_orders else [(first, second)]
        questions = [[{"role": "user", "content": self.template.format(prompt=prompt, first=a, second=b)}]
                     for a, b in orders]
        replies = [reply.text for reply in self.policy.act(questions)]
        votes = []
        for swapped, text in enumerate(replies):
            choice = read_choice(text)
            if choice is None:
                if self.on_unreadable == "raise":
                    raise AnnotatorFailedError(
                        f"the annotator {self.name} named neither (a) nor (b): {text[:200]!r} "
                        "(on_unreadable='tie' counts such judgements as ties)"
                    )
                votes.append(0.5)
                continue
            first_won = (choice == "a") != bool(swapped)
            votes.append(1.0 if first_won else 0.0)
        return Preference(sum(votes) / len(votes), " | ".join(" ".join(t.split())[:80] for t in replies))


class ReferenceJudge:
    """Prefers the reply a feedback-gym environment scores higher on the row's task (see the module).

    Args:
        env_id: A registered id (or ``module:Env-v0``) whose tasks the rows come from.
        env_kwargs: Passed to ``gym.make`` (e.g. ``{"sandbox": "docker"}``).
    """

    def __init__(self, env_id: str, **env_kwargs: Any) -> None:
        import gymnasium as gym

        from feedback_gym.env_ids import resolve_env_id

        resolve_env_id(env_id)
        self.name = f"reference:{env_id}"
        self._env = gym.make(env_id, **{**env_kwargs, "max_turns": 1})

    def score(self, task_id: str, reply: str) -> float:
        """The verdict score of ``reply`` as a first attempt on ``task_id``."""
        self._env.reset(options={"task_id": task_id})
        info = self._env.step(reply)[4]
        if info.get("error_kind") == "internal_error":
            raise AnnotatorFailedError(f"the environment's checker failed on {task_id}; no judgement")
        return float(info["score"])

    def prefer(self, prompt: str, first: str, second: str, *, task_id: str | None = None) -> Preference:
        """Score both replies on the task and prefer the higher score (equal scores tie)."""
        if task_id is None:
            raise ConfigError("a reference-guided judge needs the row's task_id (the task_id column)")
        a, b = self.score(task_id, first), self.score(task_id, second)
        return Preference(0.5 if a == b else float(a > b), f"scores {a:.3f} vs {b:.3f}")

    def close(self) -> None:
        """Close the environment."""
        self._env.close()


def _text(completion: Any) -> str:
    from feedback_gym.agents.adapters.trl import completion_text

    return completion_text(completion)


def preference_reward(
    annotator: PairwiseAnnotator, baseline_column: str = "baseline"
) -> Callable[..., list[float]]:
    """A TRL-shaped reward: 1.0 when the annotator prefers the completion to its row's baseline reply.

    The dataset needs a ``baseline_column`` (a reference model's reply per row) and, for a
    :class:`ReferenceJudge`, ``task_id``. Ties pay 0.5; a judgement that fails raises.

    >>> class Longer:
    ...     name = "longer"
    ...     def prefer(self, prompt, first, second, *, task_id=None):
    ...         return Preference(float(len(first) > len(second)))
    >>> preference_reward(Longer())(["p", "p"], ["a long reply", "no"], baseline=["short", "short"])
    [1.0, 0.0]
    """
    if not isinstance(annotator, PairwiseAnnotator):
        raise ConfigError("annotator must have .name and .prefer(prompt, first, second, *, task_id=None)")

    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        baselines = columns.get(baseline_column)
        if baselines is None:
            raise ConfigError(f"the dataset needs a {baseline_column!r} column: a baseline reply per row")
        task_ids = columns.get("task_id") or [None] * len(completions)
        values = []
        rows = zip(prompts, completions, baselines, task_ids, strict=True)
        for prompt, completion, baseline, task_id in rows:
            shown = prompt if isinstance(prompt, str) else _text_of_prompt(prompt)
            values.append(annotator.prefer(shown, _text(completion), _text(baseline), task_id=task_id).first)
        return values

    reward.__name__ = "preference_" + re.sub(r"\W", "_", annotator.name)
    return reward


def _text_of_prompt(prompt: Any) -> str:
    """The user turns of a conversational prompt, joined."""
    if isinstance(prompt, Sequence):
        return "\n\n".join(str(m.get("content", "")) for m in prompt
                           if isinstance(m, Mapping) and m.get("role") == "user")
    return str(prompt)
