"""solver_critic_v0: rewards on scripted solvers and critics whose effect is known in advance."""

from __future__ import annotations

import pytest

from feedback_gym.envs.multiagent import solver_critic_v0
from feedback_gym.envs.multiagent.seats import play_episode
from feedback_gym.errors import ConfigError

from .scripted import WRONG, gullible_solver, says

SOLVER, CRITIC = "solver_0", "critic_0"


def play(solver, critic, seed=0, **kwargs):
    return play_episode(solver_critic_v0.env(**kwargs), {SOLVER: solver, CRITIC: critic}, seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_critic_that_gets_a_wrong_answer_fixed_earns_plus_one_and_the_verdict(seed):
    returns, infos = play(gullible_solver(start_right=False), "oracle", seed=seed)
    assert returns == {SOLVER: 1.0, CRITIC: 1.5}
    assert infos[SOLVER]["solved"] and infos[CRITIC]["critic_verdict"] is False


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_critic_that_breaks_a_right_answer_loses_one_and_the_verdict(seed):
    returns, infos = play(gullible_solver(start_right=True), says("This is wrong.\nVERDICT: incorrect"), seed)
    assert returns == {SOLVER: 0.0, CRITIC: -1.5}
    assert not infos[SOLVER]["solved"]


def test_unchanged_answer_pays_only_the_verdict_term():
    right_kept = play(gullible_solver(start_right=True), says("Fine.\nVERDICT: correct"))[0]
    wrong_kept = play(gullible_solver(start_right=False), says("Fine.\nVERDICT: correct"))[0]
    no_verdict = play(gullible_solver(start_right=False), says("Have you checked the target?"))[0]
    assert right_kept == {SOLVER: 1.0, CRITIC: 0.5}
    assert wrong_kept == {SOLVER: 0.0, CRITIC: -0.5}
    assert no_verdict == {SOLVER: 0.0, CRITIC: 0.0}


def test_verdict_weight_is_configurable_and_can_be_disabled():
    returns, _ = play(gullible_solver(start_right=False), "oracle", rewards={"verdict_weight": 0.0})
    assert returns[CRITIC] == 1.0
    returns, _ = play(gullible_solver(start_right=False), "oracle", rewards={"verdict_weight": 2.0})
    assert returns[CRITIC] == 3.0


def test_two_rounds_sum_a_fix_and_a_break():
    # round 1: wrong -> (incorrect) -> right: +1 +0.5; round 2: right -> (incorrect) -> wrong: -1 -0.5
    returns, infos = play(gullible_solver(start_right=False), says("VERDICT: incorrect"), rounds=2)
    assert returns == {SOLVER: 0.0, CRITIC: 0.0}
    assert infos[SOLVER]["turn"] == 3 and infos[CRITIC]["turn"] == 2 and infos[CRITIC]["round"] == 2


def test_step_rewards_and_components_as_the_game_goes():
    game = solver_critic_v0.raw_env(rounds=1)
    game.reset(seed=3)
    assert game.agent_selection == SOLVER and "Waiting" in game.observe(CRITIC)
    game.step(WRONG)
    assert game.rewards == {SOLVER: 0.0, CRITIC: 0.0} and game.agent_selection == CRITIC
    assert WRONG in game.observe(CRITIC) and "VERDICT" in game.observe(CRITIC)
    game.step("You did not use the numbers.\nVERDICT: incorrect")
    assert game.rewards == {SOLVER: 0.0, CRITIC: 0.5}
    assert "You did not use the numbers." in game.observe(SOLVER)
    game.step(game.oracle_action())
    assert game.rewards == {SOLVER: 1.0, CRITIC: 1.0}
    assert game.infos[CRITIC]["reward_components"] == {"verdict": 0.5, "outcome": 1.0}
    assert game.infos[SOLVER]["reward_components"] == {"success": 1.0}
    assert all(game.terminations.values()) and not any(game.truncations.values())
    assert game._cumulative_rewards == {SOLVER: 1.0, CRITIC: 1.5}


def test_info_carries_the_user_contract_and_no_reference():
    game = solver_critic_v0.raw_env()
    game.reset(seed=0)
    reference = game.game.task.reference
    game.step(WRONG)
    for seat in (SOLVER, CRITIC):
        info = game.infos[seat]
        for key in ("task_id", "turn", "solved", "score", "reward_components", "feedback_kind", "messages"):
            assert key in info
        assert reference not in str(info) and reference not in game.observe(seat)
    assert [m["role"] for m in game.infos[SOLVER]["messages"]] == ["user", "assistant"]
    assert [m["role"] for m in game.infos[CRITIC]["messages"]] == ["user"]


JUNK = ["", " \n", "x" * 1_000_001, "\x00\x01 <answer>", "\ud800", 42, None, b"\xff\xfe", "```python\n"]
UNREADABLE = ["", " \n", "x" * 1_000_001, 42, None]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_answers_get_feedback_and_no_reward(junk):
    game = solver_critic_v0.raw_env()
    game.reset(seed=0)
    game.step(junk)
    assert game.rewards == {SOLVER: 0.0, CRITIC: 0.0} and not game.infos[SOLVER]["solved"]
    assert game.infos[SOLVER]["error_kind"] == "invalid_action"
    assert game.observation_space(CRITIC).contains(game.observe(CRITIC))


@pytest.mark.parametrize("junk", UNREADABLE)
def test_unreadable_critiques_earn_nothing_even_when_the_solver_improves(junk):
    game = solver_critic_v0.raw_env()
    game.reset(seed=0)
    game.step(WRONG)
    game.step(junk)
    assert game.rewards[CRITIC] == 0.0 and "could not be read" in game.observe(SOLVER)
    assert game.observation_space(SOLVER).contains(game.observe(SOLVER))
    game.step(game.oracle_action())  # the solver fixes it on its own
    assert game.rewards == {SOLVER: 1.0, CRITIC: 0.0}
    assert game.infos[CRITIC]["reward_components"]["outcome"] == 0.0


def test_giving_up_ends_the_game_for_both_seats():
    game = solver_critic_v0.raw_env(rounds=3)
    game.reset(seed=0)
    game.step(WRONG)
    game.step("VERDICT: incorrect")
    game.step("<give_up>")
    assert all(game.terminations.values()) and game.rewards[SOLVER] == 0.0
    assert "gave up" in game.observe(SOLVER)


def test_parallel_view_pays_the_same_as_the_aec_view():
    par = solver_critic_v0.parallel_env(rounds=1)
    obs, infos = par.reset(seed=4)
    assert infos[SOLVER]["acting"] and not infos[CRITIC]["acting"]
    totals = {SOLVER: 0.0, CRITIC: 0.0}
    moves = [WRONG, "Off target.\nVERDICT: incorrect", None]
    for move in moves:
        acting = next(seat for seat in par.agents if infos[seat]["acting"])
        text = par.oracle_action() if move is None else move
        obs, rewards, terms, truncs, infos = par.step({acting: text, "ignored": "x"})
        for seat, reward in rewards.items():
            totals[seat] += reward
    assert totals == {SOLVER: 1.0, CRITIC: 1.5} and par.agents == [] and all(terms.values())
    aec_returns, _ = play(gullible_solver(start_right=False), "oracle", seed=4)
    assert aec_returns == totals


def test_parallel_missing_action_of_the_acting_seat_is_an_unreadable_move():
    par = solver_critic_v0.parallel_env()
    par.reset(seed=0)
    obs, rewards, *_ , infos = par.step({CRITIC: "not my turn"})
    assert rewards[SOLVER] == 0.0 and infos[SOLVER]["error_kind"] == "invalid_action"


def test_reset_options_select_tasks_and_bad_arguments_say_what_is_accepted():
    game = solver_critic_v0.raw_env()
    game.reset(options={"task": {"numbers": [2, 3, 4], "target": 24, "solution": "2 * 3 * 4"}})
    assert game.infos[SOLVER]["task_metadata"]["target"] == 24
    game.step("<answer>2 * 3 * 4</answer>")
    assert game.infos[SOLVER]["solved"]
    game.reset(options={"task_index": 7})
    assert game.infos[SOLVER]["task_id"].endswith("/7")
    with pytest.raises(ConfigError, match="at most one of"):
        game.reset(options={"task_index": 1, "task_id": "x"})
    with pytest.raises(ConfigError, match="rounds must be an int"):
        solver_critic_v0.env(rounds=0)
    with pytest.raises(ConfigError, match="critic reward must be one of"):
        solver_critic_v0.env(rewards={"critic": "vibes"})
    with pytest.raises(ConfigError, match="unknown reward options"):
        solver_critic_v0.env(rewards={"bonus": 1})
    with pytest.raises(ConfigError, match="could not be made"):
        solver_critic_v0.env(family="NoSuchFamily-v0")
    with pytest.raises(ConfigError, match="render_mode"):
        solver_critic_v0.env(render_mode="rgb_array")
    with pytest.warns(UserWarning, match="ignoring unknown reset options"):
        game.reset(options={"colour": "blue"})


def test_critic_feedback_shows_the_checker_to_the_critic():
    game = solver_critic_v0.raw_env(critic_feedback="tests")
    game.reset(seed=0)
    game.step(WRONG)
    assert "[Checker output]" in game.observe(CRITIC) and "checks passed" in game.observe(CRITIC)
    plain = solver_critic_v0.raw_env()
    plain.reset(seed=0)
    plain.step(WRONG)
    assert "[Checker output]" not in plain.observe(CRITIC)


def test_ansi_render_is_the_transcript():
    game = solver_critic_v0.raw_env(render_mode="ansi")
    game.reset(seed=0)
    game.step(WRONG)
    text = game.render()
    assert "[solver_0]" in text and WRONG in text


def test_human_render_prints_each_move_as_it_happens(capsys):
    game = solver_critic_v0.raw_env(render_mode="human")
    game.reset(seed=0)
    game.step(WRONG)
    assert capsys.readouterr().out.strip() == f"[solver_0]\n{WRONG}"
    par = solver_critic_v0.parallel_env(render_mode="human")
    par.reset(seed=0)
    par.step({SOLVER: WRONG})
    assert capsys.readouterr().out.strip() == f"[solver_0]\n{WRONG}"
