"""The model critic end to end: a tiny local transformers model, and an OpenAI-compatible endpoint.

The endpoint test starts feedback-gym's own OpenAI-compatible server (``agents/openai_server.py``) on
127.0.0.1, serving the same tiny local transformers model: the critic then talks real HTTP and the
real chat-completions wire format through the same client code a user points at vLLM or a hosted API,
while nothing leaves loopback and no weights are downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.envs.math.env import MathCritiqueEnv
from feedback_gym.envs.math.leaks import LeakFilter
from feedback_gym.envs.math.model_critic import FALLBACK_NOTE, PROMPT_VERSION, ModelCritiqueFeedback
from feedback_gym.errors import CriticFailedError
from feedback_gym.text import clean_text

pytest.importorskip("torch")
pytest.importorskip("transformers")

from feedback_gym.agents.policy import Reply

WRONG = "Step one: 2 + 2 = 5\nAnswer: 5"


class RecordingPolicy:
    """Wraps a policy and keeps every conversation and reply it saw (to check what the critic got)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.seen: list[Sequence[dict[str, str]]] = []
        self.replies: list[str] = []

    def act(self, conversations: Sequence[Any], envs: Sequence[Any] | None = None) -> list[Reply]:
        self.seen.extend(conversations)
        replies = self.inner.act(conversations, envs)
        self.replies.extend(r.text for r in replies)
        return replies

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()


class LeakyCritic:
    """A critic that blurts out the answer in several forms (what the filter exists for)."""

    name = "leaky"

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def act(self, conversations: Sequence[Any], envs: Sequence[Any] | None = None) -> list[Reply]:
        return [
            Reply(f"Wrong! The answer is {self.answer}, i.e. exactly {self.answer}.") for _ in conversations
        ]

    def identity(self) -> dict[str, Any]:
        return {"policy": "leaky"}


class BrokenCritic:
    name = "broken"

    def act(self, conversations: Sequence[Any], envs: Sequence[Any] | None = None) -> list[Reply]:
        raise ConnectionError("endpoint down")

    def identity(self) -> dict[str, Any]:
        return {"policy": "broken"}


class SilentCritic:
    name = "silent"

    def act(self, conversations: Sequence[Any], envs: Sequence[Any] | None = None) -> list[Reply]:
        return [Reply("  ") for _ in conversations]

    def identity(self) -> dict[str, Any]:
        return {"policy": "silent"}


@pytest.fixture(scope="module")
def tiny_policy():
    from feedback_gym.agents.models import tiny_random_path
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    # Seeded sampling, not greedy: the untrained model's greedy reply is its end token straight away,
    # and these tests are about what happens to a non-empty critique.
    return TransformersPolicy.from_pretrained(
        tiny_random_path(seed=0), device="cpu", max_new_tokens=24, temperature=1.0, seed=0, name="tiny-random"
    )


def test_tiny_local_model_critic_through_gym_make() -> None:
    env = gym.make(
        "MathCritique-v0",
        feedback="model",
        feedback_options={"critic": "tiny-random", "critic_options": {"max_new_tokens": 16}},
    )
    env.reset(seed=4)
    obs, reward, terminated, truncated, info = env.step(WRONG)
    assert reward == 0.0 and obs.strip() and env.observation_space.contains(obs)
    details = info["critique"]
    assert details["critic"] == "model" and details["fallback"] is None
    assert details["prompt_version"] == PROMPT_VERSION
    assert details["policy"]["temperature"] == 0.0 and details["spec"] == "tiny-random"
    assert str(env.unwrapped.task.reference) not in obs.replace(WRONG, "")
    obs, reward, terminated, *_ = env.step(env.unwrapped.oracle_action())
    assert reward == 1.0 and terminated and obs == "Correct."


def test_critic_prompt_forbids_the_answer_and_carries_the_reference(tiny_policy) -> None:
    recorder = RecordingPolicy(tiny_policy)
    env = MathCritiqueEnv(feedback=ModelCritiqueFeedback(recorder), max_turns=2)
    env.reset(seed=0)
    obs, *_ = env.step(WRONG)
    system, user = recorder.seen[-1]
    assert "never state the final answer" in system["content"]
    assert env.task.prompt.split("\n\n")[0] in user["content"]
    assert f"\\boxed{{{env.task.reference}}}" in user["content"]  # the critic sees the reference...
    assert recorder.replies[-1].strip(), "the critic model gave an empty reply"
    filtered = LeakFilter(env.task, WRONG).scrub(recorder.replies[-1].strip()).text
    assert obs == clean_text(filtered + "\n(1 attempt left)")  # ...and the agent sees only the filtered reply


def test_endpoint_critic_against_a_loopback_openai_server(tiny_policy) -> None:
    from feedback_gym.agents.openai_server import serve

    recorder = RecordingPolicy(tiny_policy)
    with serve(recorder, host="127.0.0.1", model="tiny-random") as server:
        assert server.url.startswith("http://127.0.0.1:")
        env = MathCritiqueEnv(
            feedback="model",
            feedback_options={
                "critic": f"openai:{server.url}#tiny-random",
                "critic_options": {"max_tokens": 16},
            },
            max_turns=2,
        )
        env.reset(seed=1)
        obs, reward, terminated, truncated, info = env.step(WRONG)
    assert len(recorder.seen) == 1  # the request really went through the server
    assert info["critique"]["fallback"] is None
    assert info["critique"]["policy"]["base_url"] == server.url
    assert info["critique"]["policy"]["model"] == "tiny-random"
    assert recorder.replies[-1].strip(), "the critic model gave an empty reply"
    filtered = LeakFilter(env.task, WRONG).scrub(recorder.replies[-1].strip()).text
    assert obs == clean_text(filtered + "\n(1 attempt left)")


def test_leaky_model_critique_is_scrubbed() -> None:
    env = MathCritiqueEnv(families=["arithmetic"], max_turns=2)
    env.reset(seed=3)
    answer = str(env.task.reference)
    env.feedback = ModelCritiqueFeedback(LeakyCritic(answer))
    obs, _, _, _, info = env.step(WRONG)
    assert answer not in obs and "[...]" in obs
    assert info["critique"]["redactions"] == 2


def test_a_failed_critic_is_an_error_unless_a_fallback_is_asked_for() -> None:
    env = MathCritiqueEnv(feedback="model", feedback_options={"critic": BrokenCritic()}, max_turns=2)
    env.reset(seed=3)
    with pytest.raises(CriticFailedError, match="'broken' gave no usable critique.*endpoint down") as caught:
        env.step(WRONG)
    assert isinstance(caught.value.__cause__, ConnectionError)
    silent = MathCritiqueEnv(feedback=ModelCritiqueFeedback(SilentCritic()), max_turns=2)
    silent.reset(seed=3)
    with pytest.raises(CriticFailedError, match="empty reply"):
        silent.step(WRONG)


def test_an_asked_for_fallback_is_said_in_the_observation_and_info() -> None:
    env = MathCritiqueEnv(feedback=ModelCritiqueFeedback(BrokenCritic(), fallback=True), max_turns=2)
    env.reset(seed=3)
    obs, _, _, _, info = env.step(WRONG)
    assert "endpoint down" in info["critique"]["fallback"] and "endpoint down" in info["feedback_fallback"]
    reference = MathCritiqueEnv(max_turns=2)
    reference.reset(seed=3)
    critique, suffix = reference.step(WRONG)[0].rsplit("\n", 1)
    assert obs == f"{critique}\n{FALLBACK_NOTE}\n{suffix}"  # the reference critique, marked as such
    assert "feedback_fallback" not in reference.step(reference.oracle_action())[4]
