"""code_critique_v0 on a tiny AST-judged family: erroneous openings, CoffeeEval-style critic rewards."""

from __future__ import annotations

import pytest

from feedback_gym.envs.multiagent import code_critique_v0
from feedback_gym.envs.multiagent.baselines import LiteralEditor
from feedback_gym.envs.multiagent.seats import play_episode
from feedback_gym.errors import ConfigError

from .scripted import TINY_PROGRAMS, says, tiny_code_family

CRITIC, EDITOR = "critic_0", "editor_0"


def make(**kwargs):
    return code_critique_v0.raw_env(family=tiny_code_family(), **kwargs)


@pytest.mark.parametrize("task_id", sorted(TINY_PROGRAMS))
def test_the_opening_program_is_a_failing_mutant_of_the_reference(task_id):
    game = make()
    game.reset(seed=0, options={"task_id": task_id})
    bug = game.game.bug
    opening = game.game.answers[0]
    assert not opening.verdict.solved
    assert bug.buggy_line in opening.action and bug.fixed_line != bug.buggy_line
    assert game.agent_selection == CRITIC
    assert opening.action in game.observe(CRITIC) and "fails some" in game.observe(CRITIC)
    assert "Waiting" in game.observe(EDITOR)


def test_the_bug_is_a_function_of_the_task_and_bug_seed():
    def bug_at(seed, bug_seed=0):
        game = make(bug_seed=bug_seed)
        game.reset(seed=seed, options={"task_id": "tiny/is_sorted"})
        return game.game.bug

    assert bug_at(5) == bug_at(6)  # replaying a task id replays its program
    assert len({bug_at(0, bug_seed=s).program for s in range(8)}) > 1


@pytest.mark.parametrize("seed", range(4))
def test_feedback_that_pinpoints_the_bug_earns_the_revision_test_score(seed):
    returns, infos = play_episode(make(), {CRITIC: "oracle", EDITOR: LiteralEditor()}, seed=seed)
    assert returns == {CRITIC: 1.0, EDITOR: 1.0}
    assert infos[EDITOR]["solved"] and infos[CRITIC]["reward_components"] == {"verdict": 0.0, "outcome": 1.0}


def test_useless_feedback_earns_the_failing_score():
    players = {CRITIC: says("Looks good to me."), EDITOR: LiteralEditor()}
    returns, infos = play_episode(make(), players, seed=0)
    assert returns == {CRITIC: 0.0, EDITOR: 0.0} and not infos[EDITOR]["solved"]


def test_feedback_that_points_to_the_wrong_line_earns_nothing():
    game = make()
    game.reset(seed=0, options={"task_id": "tiny/count_positive"})
    bug = game.game.bug
    wrong_line = 1 if bug.line != 1 else 2
    game.step(f"Line {wrong_line}: it should be `pass`")
    game.step(LiteralEditor().act([game.infos[EDITOR]["messages"]])[0].text)
    assert game.rewards == {CRITIC: 0.0, EDITOR: 0.0}


def test_critic_reward_variants():
    players = {CRITIC: "oracle", EDITOR: LiteralEditor()}
    gain = play_episode(make(rewards={"critic": "score_gain"}), players)[0]
    assert gain[CRITIC] == 1.0
    # the editor breaks nothing but the program was already wrong: improvement 0, verdict term 0.5
    improvement = play_episode(
        make(rewards={"critic": "improvement", "verdict_weight": 0.5}),
        {CRITIC: says("VERDICT: incorrect"), EDITOR: LiteralEditor()},
    )[0]
    assert improvement[CRITIC] == 0.5


def test_two_rounds_let_the_critic_fix_what_it_missed():
    game = make(rounds=2)
    game.reset(seed=1)
    game.step("No idea yet.")
    game.step(LiteralEditor().act([game.infos[EDITOR]["messages"]])[0].text)
    assert game.rewards[CRITIC] == 0.0 and not game.terminations[CRITIC]
    assert "[Revised program]" in game.observe(CRITIC)
    game.step(game.oracle_action())
    game.step(LiteralEditor().act([game.infos[EDITOR]["messages"]])[0].text)
    assert game.rewards == {CRITIC: 1.0, EDITOR: 1.0} and all(game.terminations.values())


def test_a_weak_solvers_failing_attempt_can_be_the_opening():
    from .scripted import Scripted

    weak = Scripted("weak", lambda conversation, handle: "```python\ndef add_one(x):\n    return x\n```")
    game = make(weak_solver=weak)
    game.reset(options={"task_id": "tiny/add_one"})
    assert game.game.bug is None and "return x\n" in game.game.answers[0].action
    # a weak solver that happens to be right falls back to an injected bug
    right_program = "```python\ndef add_one(x):\n    return x + 1\n```"
    right = Scripted("right", lambda conversation, handle: right_program)
    game = make(weak_solver=right)
    game.reset(options={"task_id": "tiny/add_one"})
    assert game.game.bug is not None


def test_a_task_without_a_failing_bug_is_refused_with_a_reason():
    game = make()
    with pytest.raises(ConfigError, match="none of .* injected bugs"):
        game.reset(options={"task": {"prompt": "Write nothing.", "reference": "pass\n"}})


def test_arguments_are_checked():
    with pytest.raises(ConfigError, match="bug_kinds"):
        make(bug_kinds=("typo",))
    with pytest.raises(ConfigError, match="max_bug_tries"):
        make(max_bug_tries=0)
    with pytest.raises(ConfigError, match="weak_solver"):
        make(weak_solver=3)
    with pytest.raises(ConfigError, match="bug_seed"):
        make(bug_seed="x")
