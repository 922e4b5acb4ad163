"""One view of the conversation: a wrapper's per-turn note reaches the runner's policy and the trainer's."""

from __future__ import annotations

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.benchmarks.play import EnvPool, play_batch
from feedback_gym.benchmarks.suites import EpisodeSpec
from feedback_gym.conversation import continued, opening
from tests.benchmarks.policies import WrongThenOracle

NOTED = "NotedCountdown-v0"


class AddNote(gym.ObservationWrapper):
    """A MINT-style per-turn remark appended to every observation (reset and step)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.calls = 0

    def observation(self, observation: str) -> str:
        self.calls += 1
        return f"{observation}\n[note {self.calls}: check each step]"


def noted_countdown(**kwargs) -> gym.Env:
    return AddNote(gym.make("Countdown-v0", **kwargs))


@pytest.fixture(autouse=True, scope="module")
def _noted_registered():
    if NOTED not in gym.registry:
        gym.register(NOTED, entry_point=noted_countdown)


class Recording(WrongThenOracle):
    def __init__(self) -> None:
        self.seen = []

    def act(self, conversations, envs=None):
        self.seen.extend([list(c) for c in conversations])
        return super().act(conversations, envs)


def test_the_runners_policy_sees_the_wrappers_note_on_every_turn():
    policy, pool = Recording(), EnvPool()
    try:
        (record,) = play_batch(policy, [EpisodeSpec("noted", NOTED, {"max_turns": 3}, 0, 0)], pool)
    finally:
        pool.close()
    assert record["error"] is None and len(policy.seen) == 2
    second = policy.seen[1]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[0]["content"].endswith("[note 1: check each step]")
    assert second[2]["content"].endswith("[note 2: check each step]")
    # built in one place: opening/continued over the observations the record kept
    turns = record["turns"]
    expected = opening(second[0]["content"])
    for turn in turns:
        expected = continued(expected, turn["action"], turn["observation"])
    assert record["messages"] == expected


def test_the_trainers_rollout_shows_the_policy_the_same_turns(tiny_policy):
    from feedback_gym.agents.rollout import collect_episodes, make_rollout_envs

    envs = make_rollout_envs(NOTED, 2, env_kwargs={"max_turns": 2})
    try:
        episodes, _ = collect_episodes(tiny_policy, envs, [0], 2)
    finally:
        envs.close()
    for episode in episodes:
        users = [m["content"] for m in episode.messages if m["role"] == "user"]
        assert len(users) == episode.turns and all("check each step]" in text for text in users)
        assert episode.messages[0]["content"].endswith("[note 1: check each step]")
        # the tokens the policy was given hold the same notes
        assert tiny_policy.tokenizer.decode(episode.token_ids).count("check each step]") == len(users)


@pytest.fixture()
def tiny_policy():
    pytest.importorskip("torch")
    from feedback_gym.agents.models import tiny_random_path
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    return TransformersPolicy.from_pretrained(tiny_random_path(seed=0), device="cpu", max_new_tokens=8)


class EchoPrefix:
    """Says "fix:" and records what it was shown; continues an unfinished assistant turn when told to."""

    def __init__(self, continues_prefix: bool) -> None:
        self.continues_prefix = continues_prefix
        self.seen: list[list[dict[str, str]]] = []

    def act(self, conversations, envs=None):
        from feedback_gym.policy import Reply

        self.seen.append(conversations[0])
        return [Reply("fix:")]


class EditingEnv(gym.Env):
    """Three turns; every step's info asks the next reply to continue the edited text "EDIT "."""

    observation_space = action_space = gym.spaces.Text(64)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.turn, self.actions = 0, []
        return "task", {}

    def step(self, action):
        self.turn += 1
        self.actions.append(action)
        return f"feedback {self.turn}", float(self.turn), False, self.turn >= 3, {"assistant_prefix": "EDIT "}


@pytest.mark.parametrize("continues", [True, False])
def test_play_episode_builds_the_conversation_and_continues_edits_only_for_policies_that_can(continues):
    from feedback_gym.conversation import play_episode

    env, policy = EditingEnv(), EchoPrefix(continues)
    turns = play_episode(policy, env, seed=0)
    assert [t.observation for t in turns] == ["feedback 1", "feedback 2", "feedback 3"]
    assert [t.reward for t in turns] == [1.0, 2.0, 3.0] and turns[-1].info == {"assistant_prefix": "EDIT "}
    expected = ["fix:", "EDIT fix:", "EDIT fix:"] if continues else ["fix:"] * 3
    assert env.actions == [t.action for t in turns] == expected
    last_seen = policy.seen[-1]
    assert last_seen[0] == {"role": "user", "content": "task"} and last_seen[2]["content"] == "feedback 1"
    assert (last_seen[-1] == {"role": "assistant", "content": "EDIT "}) is continues


def test_play_episode_with_the_oracle_solves_countdown():
    from feedback_gym.conversation import play_episode
    from feedback_gym.policy import make_policy

    env = gym.make("Countdown-v0")
    turns = play_episode(make_policy("oracle"), env, seed=3)
    assert len(turns) == 1 and turns[0].info["solved"] and turns[0].reward > 0
    env.close()
