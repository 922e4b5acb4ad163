"""solver_critic_v0 over the maths family, whose reference-guided critique is the oracle critic.

Answers are checked for equivalence by the family's verifier; its critique locates the first wrong
step and never states the answer.
"""

from __future__ import annotations

import warnings
from contextlib import closing

import pytest
from pettingzoo.test import api_test, parallel_api_test, seed_test

from feedback_gym.conformance import check_all
from feedback_gym.envs.multiagent import solver_critic_v0
from feedback_gym.envs.multiagent.seats import SingleSeatEnv, play_episode

from .scripted import gullible_solver, says

SOLVER, CRITIC = "solver_0", "critic_0"
WRONG = "The answer is \\boxed{-987654321}."


@pytest.fixture(scope="module")
def math_game():
    game = solver_critic_v0.env(family="MathCritique-v0")
    yield game
    game.close()


@pytest.mark.parametrize("seed", range(3))
def test_reference_guided_critique_gets_a_wrong_answer_fixed(math_game, seed):
    players = {SOLVER: gullible_solver(False, WRONG), CRITIC: "oracle"}
    returns, infos = play_episode(math_game, players, seed=seed)
    assert returns == {SOLVER: 1.0, CRITIC: 1.5}
    critique = infos[SOLVER]["messages"][2]["content"]
    reference = str(math_game.unwrapped.game.task.reference)
    assert "VERDICT: incorrect" in critique and f"Answer: {reference}" not in critique
    assert "RenderedFeedback(" not in critique and "details=" not in critique  # the text, not an object


def test_a_misleading_critic_breaks_a_right_maths_answer(math_game):
    players = {SOLVER: gullible_solver(True, WRONG), CRITIC: says("Wrong sign.\nVERDICT: incorrect")}
    assert play_episode(math_game, players, seed=0)[0] == {SOLVER: 0.0, CRITIC: -1.5}


def test_math_game_passes_the_pettingzoo_tests():
    game = solver_critic_v0.env(family="MathCritique-v0", rounds=2)
    with closing(game), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(game, num_cycles=10)
    par = solver_critic_v0.parallel_env(family="MathCritique-v0")
    with closing(par), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(par, num_cycles=10)
    seed_test(lambda: solver_critic_v0.env(family="MathCritique-v0"), num_cycles=5)


def test_math_seats_pass_the_conformance_checks():
    def solver_seat():
        return SingleSeatEnv(solver_critic_v0.env(family="MathCritique-v0"), SOLVER, {CRITIC: "oracle"})

    def critic_seat():
        game = solver_critic_v0.env(family="MathCritique-v0", rounds=2)
        return SingleSeatEnv(game, CRITIC, {SOLVER: gullible_solver(False, WRONG)})

    check_all(solver_seat)
    check_all(critic_seat)
