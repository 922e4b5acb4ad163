"""Property tests: over any sequence of moves, the critique game's returns obey its reward rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_gym.envs.multiagent import solver_critic_v0

from .scripted import WRONG

SOLVER, CRITIC = "solver_0", "critic_0"
CRITIQUES = {"says correct": "VERDICT: correct", "says incorrect": "VERDICT: incorrect", "no verdict": "Hmm.",
             "unreadable": ""}

rounds_and_moves = st.integers(1, 3).flatmap(
    lambda rounds: st.tuples(
        st.just(rounds),
        st.lists(st.booleans(), min_size=rounds + 1, max_size=rounds + 1),  # each answer right or wrong
        st.lists(st.sampled_from(sorted(CRITIQUES)), min_size=rounds, max_size=rounds),
        st.integers(0, 50),
    )
)


@settings(max_examples=40, deadline=None)
@given(rounds_and_moves)
def test_returns_follow_the_rules_in_both_views(case):
    rounds, right, critiques, seed = case
    game = solver_critic_v0.raw_env(rounds=rounds, rewards={"verdict_weight": 0.5})
    par = solver_critic_v0.parallel_env(rounds=rounds, rewards={"verdict_weight": 0.5})
    game.reset(seed=seed)
    _, infos = par.reset(seed=seed)
    returns = {SOLVER: 0.0, CRITIC: 0.0}
    par_returns = {SOLVER: 0.0, CRITIC: 0.0}
    moves = []
    for r in range(rounds + 1):
        moves.append(game.oracle_action(SOLVER) if right[r] else WRONG)
        if r < rounds:
            moves.append(CRITIQUES[critiques[r]])
    for move in moves:
        game.step(move)
        _, rewards, *_ = par.step({a: move for a in par.agents})
        for seat in returns:
            returns[seat] += game.rewards[seat]
            par_returns[seat] += rewards[seat]

    expected_critic = 0.0
    for r, critique in enumerate(critiques):
        if critique == "unreadable":
            continue
        expected_critic += float(right[r + 1]) - float(right[r])  # the improvement of that round
        if critique != "no verdict":
            expected_critic += 0.5 if (critique == "says correct") == right[r] else -0.5
    assert returns == par_returns
    assert returns[SOLVER] == float(right[-1])
    assert abs(returns[CRITIC] - expected_critic) < 1e-9
    assert all(game.terminations.values()) and par.agents == []


@settings(max_examples=20, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=4), st.integers(0, 50))
def test_improvements_telescope_to_the_final_minus_the_first_answer(right, seed):
    rounds = len(right) - 1
    game = solver_critic_v0.raw_env(rounds=rounds, rewards={"verdict_weight": 0.0})
    game.reset(seed=seed)
    critic_return = 0.0
    for r, is_right in enumerate(right):
        game.step(game.oracle_action() if is_right else WRONG)
        critic_return += game.rewards[CRITIC]
        if r < rounds:
            game.step("Check it again.")
            critic_return += game.rewards[CRITIC]
    assert critic_return == float(right[-1]) - float(right[0])
