from __future__ import annotations

import pytest

from feedback_gym.agents.rollout import ChatTurns, collect_episodes, make_rollout_envs
from feedback_gym.agents.transformers_policy import Generation
from feedback_gym.errors import ConfigError

from .learning_env import DigitsEnv


class ScriptedPolicy:
    """A token policy whose replies are fixed texts (``None`` ends a reply without an end token)."""

    def __init__(self, real_policy, replies):
        self.tokenizer = real_policy.tokenizer
        self.stop_token_ids = real_policy.stop_token_ids
        self.system_prompt = None
        self.encode = real_policy.encode
        self.replies = list(replies)
        self.prompts_seen = []

    def generate_ids(self, prompts):
        self.prompts_seen.append([list(p) for p in prompts])
        text, finished = self.replies.pop(0)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if finished:
            ids = ids + [self.tokenizer.convert_tokens_to_ids("<|im_end|>")]
        return [Generation(ids, [-1.0] * len(ids), finished) for _ in prompts]


def test_transcripts_are_the_chat_template_of_the_conversation_and_the_mask_marks_the_replies(tiny_policy):
    policy = ScriptedPolicy(tiny_policy, [("12 ab", True), ("9 x", False), ("7", True)])
    envs = make_rollout_envs(lambda: DigitsEnv(max_turns=3), 2)
    episodes, stats = collect_episodes(policy, envs, task_seeds=[5], group_size=2)
    envs.close()
    episode = episodes[0]
    tokenizer = tiny_policy.tokenizer
    rendered = tokenizer.apply_chat_template(episode.messages, tokenize=False)
    # The last reply was not followed by feedback, so the transcript stops right after it.
    assert tokenizer.decode(episode.token_ids) + "\n" == rendered
    pairs = zip(episode.token_ids, episode.policy_mask, strict=True)
    policy_text = tokenizer.decode([token for token, from_policy in pairs if from_policy])
    assert policy_text == "12 ab<|im_end|>9 x7<|im_end|>"
    assert [m["content"] for m in episode.messages if m["role"] == "assistant"] == ["12 ab", "9 x", "7"]
    assert episode.logprobs.count(-1.0) == episode.policy_tokens == sum(episode.policy_mask)
    assert episode.turns == 3 and episode.solved and episode.reward == pytest.approx(1.0)
    # each turn continued the previous transcript token for token (no re-tokenisation)
    first, second = policy.prompts_seen[0][0], policy.prompts_seen[1][0]
    assert second[: len(first)] == first
    assert stats.policy_tokens == 2 * episode.policy_tokens


def test_group_members_share_a_task_and_groups_differ(tiny_policy):
    envs = make_rollout_envs("Countdown-v0", 6, env_kwargs={"max_turns": 2})
    episodes, _ = collect_episodes(tiny_policy, envs, task_seeds=[1, 2, 3], group_size=2)
    envs.close()
    ids = [e.task_id for e in episodes]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[4] == ids[5]
    assert len({ids[0], ids[2], ids[4]}) == 3
    assert [e.group for e in episodes] == [0, 0, 1, 1, 2, 2]
    for episode in episodes:
        assert episode.turns == 2 and 0 < episode.policy_tokens < len(episode.token_ids)
        assert len(episode.token_ids) == len(episode.policy_mask) == len(episode.logprobs)


def test_long_transcripts_are_cut(tiny_policy):
    envs = make_rollout_envs(lambda: DigitsEnv(max_turns=5), 2)
    episodes, _ = collect_episodes(tiny_policy, envs, [0], 2, max_transcript_tokens=60)
    envs.close()
    assert all(e.cut and e.turns < 5 for e in episodes)


def test_async_vector_envs_give_the_same_episodes_as_sync(tiny_path):
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    results = []
    for mode in ("sync", "async"):
        policy = TransformersPolicy.from_pretrained(tiny_path, device="cpu", max_new_tokens=6, seed=1)
        envs = make_rollout_envs("Countdown-v0", 2, vectorization_mode=mode, env_kwargs={"max_turns": 2})
        episodes, _ = collect_episodes(policy, envs, [4], 2)
        envs.close()
        results.append([(e.token_ids, e.rewards) for e in episodes])
    assert results[0] == results[1]


def test_a_chat_template_with_a_system_prompt_keeps_transcripts_consistent(tiny_path):
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    policy = TransformersPolicy.from_pretrained(tiny_path, device="cpu", system_prompt="Be brief.")
    turns = ChatTurns(policy)
    prompt = turns.prompt_ids("task")
    assert policy.tokenizer.decode(prompt).startswith("<|im_start|>system\nBe brief.<|im_end|>")
    feedback = policy.tokenizer.decode(turns.feedback_ids("wrong", reply_finished=False))
    assert feedback == "<|im_end|>\n<|im_start|>user\nwrong<|im_end|>\n<|im_start|>assistant\n"


def test_bad_arguments_are_refused(tiny_policy):
    with pytest.raises(ConfigError):
        make_rollout_envs("Countdown-v0", 0)
    with pytest.raises(ConfigError):
        make_rollout_envs("Countdown-v0", 2, vectorization_mode="threads")
    envs = make_rollout_envs("Countdown-v0", 3)
    with pytest.raises(ConfigError, match="need 4"):
        collect_episodes(tiny_policy, envs, [1, 2], 2)
    envs.close()
