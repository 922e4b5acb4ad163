"""Pairwise annotators (AlpacaFarm): a model or a reference-guided judge, and the reward built on them."""

from __future__ import annotations

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.agents.policy import Reply
from feedback_gym.annotators import ModelAnnotator, ReferenceJudge, preference_reward
from feedback_gym.errors import AnnotatorFailedError, ConfigError


class PrefersTheNumber:
    """A scripted annotator model: picks the output that holds "42"; it sees (a) and (b) as written."""

    name = "prefers-42"

    def __init__(self, answer: str = "") -> None:
        self.answer = answer
        self.questions: list[str] = []

    def act(self, conversations, envs=None):
        replies = []
        for conversation in conversations:
            text = conversation[-1]["content"]
            self.questions.append(text)
            a = text.split("Output (a):")[1].split("Output (b):")[0]
            replies.append(Reply(self.answer or ("Output (a)" if "42" in a else "(b)")))
        return replies

    def identity(self):
        return {"policy": self.name}


def test_a_model_annotator_asks_in_both_orders_and_the_reward_pays_wins() -> None:
    judge = PrefersTheNumber()
    annotator = ModelAnnotator(judge)
    assert annotator.prefer("What is 6*7?", "It is 42.", "It is 41.").first == 1.0
    assert annotator.prefer("What is 6*7?", "It is 41.", "It is 42.").first == 0.0
    assert "Output (a):\nIt is 41." in judge.questions[1]  # the swapped order was asked too
    reward = preference_reward(annotator)
    completions = [[{"role": "assistant", "content": "42"}], [{"role": "assistant", "content": "7"}]]
    assert reward(["q", "q"], completions, baseline=["41", "41"]) == [1.0, 0.5]  # neither: "(b)" twice, a tie
    with pytest.raises(ConfigError, match="needs a 'baseline' column"):
        reward(["q"], ["42"])


def test_a_position_biased_model_ties_and_an_unreadable_one_is_an_error() -> None:
    always_a = ModelAnnotator(PrefersTheNumber(answer="(a)"))
    assert always_a.prefer("q", "x", "y").first == 0.5  # (a) in both orders: the bias cancels
    with pytest.raises(AnnotatorFailedError, match="named neither"):
        ModelAnnotator(PrefersTheNumber(answer="I cannot tell")).prefer("q", "x", "y")
    lenient = ModelAnnotator(PrefersTheNumber(answer="?"), on_unreadable="tie")
    assert lenient.prefer("q", "x", "y").first == 0.5


def test_a_local_transformers_model_is_an_annotator() -> None:
    pytest.importorskip("torch")
    annotator = ModelAnnotator("tiny-random", on_unreadable="tie", max_new_tokens=4)
    preference = annotator.prefer("What is 6*7?", "42", "41")
    assert preference.first in (0.0, 0.5, 1.0) and preference.reason.count("|") == 1


def test_the_reference_judge_prefers_what_the_env_scores_higher() -> None:
    env = gym.make("CodeFeedback-v0")
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    right = env.unwrapped.oracle_action()
    env.close()
    wrong = "```python\ndef add_numbers(a, b):\n    return a - b\n```"
    judge = ReferenceJudge("CodeFeedback-v0")
    try:
        assert judge.prefer("p", right, wrong, task_id="bundled/py/add_numbers").first == 1.0
        assert judge.prefer("p", wrong, right, task_id="bundled/py/add_numbers").first == 0.0
        assert judge.prefer("p", wrong, wrong, task_id="bundled/py/add_numbers").first == 0.5
        reward = preference_reward(judge)
        assert reward(["p"], [right], baseline=[wrong], task_id=["bundled/py/add_numbers"]) == [1.0]
        with pytest.raises(ConfigError, match="needs the row's task_id"):
            judge.prefer("p", right, wrong)
    finally:
        judge.close()
