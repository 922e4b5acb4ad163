"""play_batch on real Countdown episodes (in-process here; the runner always uses workers)."""

from __future__ import annotations

import pytest

from feedback_gym.agents.policy import OraclePolicy, Reply
from feedback_gym.benchmarks.metrics import aggregate_multi_turn
from feedback_gym.benchmarks.play import EnvPool, play_batch
from feedback_gym.benchmarks.suites import BEST_OF_N, MULTI_TURN, EpisodeSpec
from tests.benchmarks.policies import FailOnTaskOne, RepeatWrong, WrongThenOracle

KW = {"feedback": "tests", "max_turns": 3}


def specs(tasks, mode=MULTI_TURN, kwargs=KW):
    return [EpisodeSpec("cd", "Countdown-v0", dict(kwargs), t, 0, mode) for t in tasks]


class Recording:
    """Wraps a policy and records the size of every batch it is asked for."""

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, "recording", []

    def act(self, conversations, envs=None):
        self.calls.append([list(c) for c in conversations])
        return self.inner.act(conversations, envs)

    def identity(self):
        return {}


@pytest.fixture
def pool():
    pool = EnvPool()
    yield pool
    pool.close()


def test_oracle_solves_every_episode_on_turn_one_in_one_batched_call(pool):
    policy = Recording(OraclePolicy())
    records = play_batch(policy, specs(range(5)), pool)
    assert [len(call) for call in policy.calls] == [5]
    assert all(r["error"] is None and r["metrics"]["turns_to_solve"] == 1 for r in records)
    assert [r["task_id"] for r in records] == [f"countdown-d1/0/{i}" for i in range(5)]
    assert records[0]["env"]["feedback_kind"] == "tests" and records[0]["env"]["max_turns"] == 3


def test_the_policy_sees_the_whole_conversation_including_feedback(pool):
    policy = Recording(WrongThenOracle())
    (record,) = play_batch(policy, specs([0]), pool)
    first, second = policy.calls
    assert [m["role"] for m in second[0]] == ["user", "assistant", "user"]
    assert second[0][1]["content"] == "<answer>1 + 1</answer>"
    assert "Incorrect" in second[0][2]["content"] or "not" in second[0][2]["content"].lower()
    assert record["metrics"]["turns_to_solve"] == 2 and record["metrics"]["turns"] == 2
    assert record["messages"] == second[0] + [
        {"role": "assistant", "content": record["turns"][1]["action"]},
        {"role": "user", "content": record["turns"][1]["observation"]},
    ]
    assert "messages" not in record["turns"][0]["info"]  # stored once, not per turn
    assert record["metrics"]["prompt_tokens"] == 20 and record["metrics"]["tokens"] == 10


def test_repeating_a_wrong_answer_is_friction_and_runs_to_the_budget(pool):
    records = play_batch(RepeatWrong(), specs([0, 1]), pool)
    for record in records:
        metrics = record["metrics"]
        assert metrics["turns"] == 3 and not metrics["solved"]
        assert record["turns"][-1]["truncated"] and not record["turns"][-1]["terminated"]
        assert metrics["friction_events"] == 2 and metrics["retries"] == 2
        assert metrics["repetitions"] == 2  # "1 + 1" and "1+1" are the same answer
    summary = aggregate_multi_turn([r["metrics"] for r in records])
    assert summary["friction_rate"] == 1.0 and summary["success_curve"] == [0.0, 0.0, 0.0]


def test_one_failing_conversation_is_an_error_and_the_others_finish(pool):
    records = play_batch(FailOnTaskOne(), specs([0, 1, 2]), pool)
    assert [r["error"] is None for r in records] == [True, False, True]
    assert "cannot handle task 1" in records[1]["error"]
    assert records[0]["metrics"]["solved"] and records[2]["metrics"]["solved"]


def test_an_environment_that_cannot_be_built_is_an_error_of_its_episode_only(pool):
    bad = [EpisodeSpec("bad", "Countdown-v0", {"difficulty": 99}, 0, 0)]
    records = play_batch(OraclePolicy(), bad + specs([0]), pool)
    assert "difficulty" in records[0]["error"] and records[1]["metrics"]["solved"]


def test_a_policy_returning_the_wrong_number_of_replies_is_caught(pool):
    class Short:
        name = "short"

        def act(self, conversations, envs=None):
            return [Reply("<answer>1</answer>")] if len(conversations) > 1 else []

        def identity(self):
            return {}

    records = play_batch(Short(), specs([0, 1]), pool)
    assert all(r["error"] for r in records)


def test_best_of_n_plays_n_single_turn_samples_on_the_same_task(pool):
    policy = Recording(WrongThenOracle())  # single-turn: always its first-turn (wrong) answer
    (record,) = play_batch(policy, specs([3], BEST_OF_N), pool)
    assert len(policy.calls) == 1 and len(policy.calls[0]) == 3  # n = the multi-turn budget
    prompts = {c[0]["content"] for c in policy.calls[0]}
    assert len(prompts) == 1 and "attempts" not in prompts.pop()  # the single-turn prompt
    assert record["metrics"] == {"n": 3, "solved": [False] * 3, "tokens": 15}
    assert all(len(s["turns"]) == 1 for s in record["samples"])
    (oracle,) = play_batch(OraclePolicy(), specs([3], BEST_OF_N), pool)
    assert oracle["metrics"]["solved"] == [True] * 3


def test_environments_are_reused_across_batches(pool):
    play_batch(OraclePolicy(), specs(range(4)), pool)
    play_batch(OraclePolicy(), specs(range(4, 8)), pool)
    assert len(pool._all) == 4


def test_code_envs_in_a_worker_share_one_sandbox_closed_with_the_pool():
    import gymnasium as gym

    if "CodeFeedback-v0" not in gym.registry:
        pytest.skip("needs the code family")
    pool = EnvPool()
    try:
        kwargs = {"feedback": "tests", "max_turns": 2}
        code = [EpisodeSpec("c", "CodeFeedback-v0", kwargs, t, 0) for t in (0, 1)]
        records = play_batch(OraclePolicy(), code + specs([0]), pool)
        assert [r["metrics"]["solved"] for r in records] == [True, True, True]
        assert records[0]["env"]["sandbox"] == "local"
        (sandbox,) = pool._sandboxes.values()
        handles = [env.unwrapped.sandbox for env in pool._all if env.unwrapped.sandbox is not None]
        assert len(handles) == 2 and all(h() is sandbox and not h.owned for h in handles)
    finally:
        pool.close()
    assert sandbox._closed and not pool._sandboxes


def test_a_task_the_env_does_not_know_is_an_error_and_its_env_is_not_reused(pool):
    bad = [EpisodeSpec("cd", "Countdown-v0", dict(KW), "no-such-task", 0, mode)
           for mode in (MULTI_TURN, BEST_OF_N)]
    records = play_batch(OraclePolicy(), bad + specs([0]), pool)
    assert all("no-such-task" in r["error"] for r in records[:2]) and records[2]["metrics"]["solved"]
    assert len(pool._all) == 1  # only the env that played task 0 is kept
