"""Both games over the real code family: programs are judged by its unit tests in its sandbox."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from feedback_gym.conformance import check_all
from feedback_gym.envs.multiagent import code_critique_v0, solver_critic_v0
from feedback_gym.envs.multiagent.baselines import LiteralEditor, apply_line_instructions
from feedback_gym.envs.multiagent.bugs import candidate_bugs
from feedback_gym.envs.multiagent.seats import SingleSeatEnv, play_episode

from .scripted import gullible_solver, says

CRITIC, EDITOR, SOLVER = "critic_0", "editor_0", "solver_0"
WRONG_PROGRAM = "```python\nprint(0)\n```"


@pytest.fixture(scope="module")
def code_game():
    game = code_critique_v0.env()
    yield game
    game.close()


def test_openings_fail_the_unit_tests_and_a_pinpointing_critique_gets_them_fixed(code_game):
    base = code_game.unwrapped
    for seed in range(5):
        returns, infos = play_episode(code_game, {CRITIC: "oracle", EDITOR: LiteralEditor()}, seed=seed)
        opening = base.game.answers[0]
        assert not opening.verdict.solved and opening.verdict.checks  # really ran the tests
        assert returns == {CRITIC: 1.0, EDITOR: 1.0}, infos[CRITIC]["task_id"]
        assert infos[EDITOR]["verdict"]["checks_passed"] == infos[EDITOR]["verdict"]["checks_total"]


def test_feedback_that_changes_nothing_earns_the_buggy_programs_test_score(code_game):
    base = code_game.unwrapped
    for seed in range(5):
        players = {CRITIC: says("Looks fine."), EDITOR: LiteralEditor()}
        returns, _ = play_episode(code_game, players, seed=seed)
        assert returns[CRITIC] == pytest.approx(base.game.answers[0].verdict.score) and returns[CRITIC] < 1.0
        assert returns[EDITOR] == 0.0


def test_humaneval_family_plugs_in_by_id():
    game = code_critique_v0.env(family="HumanEval-v0")
    try:
        returns, infos = play_episode(game, {CRITIC: "oracle", EDITOR: LiteralEditor()}, seed=3)
        assert infos[CRITIC]["task_id"].startswith("HumanEval/") and returns == {CRITIC: 1.0, EDITOR: 1.0}
    finally:
        game.close()


def test_solver_critic_over_code_tasks():
    game = solver_critic_v0.env(family="CodeFeedback-v0")
    try:
        players = {SOLVER: gullible_solver(False, WRONG_PROGRAM), CRITIC: "oracle"}
        fixed = play_episode(game, players, seed=0)[0]
        broken = play_episode(
            game, {SOLVER: gullible_solver(True, WRONG_PROGRAM), CRITIC: says("VERDICT: incorrect")}, seed=0
        )[0]
    finally:
        game.close()
    assert fixed == {SOLVER: 1.0, CRITIC: 1.5}
    assert broken == {SOLVER: 0.0, CRITIC: -1.5}


def test_code_critic_seat_and_code_solver_seat_pass_the_conformance_checks():
    def critic_seat():
        game = code_critique_v0.env(rounds=2, rewards={"critic": "score_gain"})
        return SingleSeatEnv(game, CRITIC, {EDITOR: LiteralEditor()})

    def solver_seat():
        return SingleSeatEnv(solver_critic_v0.env(family="CodeFeedback-v0"), SOLVER, {CRITIC: "oracle"})

    check_all(critic_seat)
    check_all(solver_seat)


def test_every_bundled_python_reference_gets_bugs_that_the_stated_fix_undoes():
    path = resources.files("feedback_gym.envs.code") / "data" / "bundled_python.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    with_bugs = 0
    for record in records:
        bugs = candidate_bugs(record["solution"])
        with_bugs += bool(bugs)
        for bug in bugs:
            repaired = apply_line_instructions(bug.program, f"Line {bug.line}: should be `{bug.fixed_line}`")
            assert repaired == bug.fixed_program, (record["id"], bug.kind)
    assert with_bugs >= 0.9 * len(records)


def test_registered_code_critic_pays_the_test_score_gain():
    import gymnasium as gym

    import feedback_gym  # noqa: F401

    env = gym.make("CodeCritic-v0")
    try:
        obs, info = env.reset(seed=0)
        opening = env.unwrapped.game.answers[0].verdict.score
        assert "[Program]" in obs and info["frozen"] == {"editor_0": "literal-editor"}
        _, reward, terminated, _, info = env.step("Looks fine.")
        assert (reward, terminated) == (0.0, False) and info["round"] == 2
        _, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
        assert terminated and info["solved"] and reward == pytest.approx(1.0 - opening)
        again, _ = env.reset(options={"task_id": info["task_id"]})
        assert again == obs
        with pytest.raises(ValueError, match="accepted"):
            env.reset(options={"colour": "blue"})
    finally:
        env.close()
