"""PettingZoo's own API, parallel-API and seed tests, run on every multi-agent module."""

from __future__ import annotations

import warnings
from contextlib import closing

import pytest
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from feedback_gym.envs.multiagent import code_critique_v0, solver_critic_v0

from .scripted import tiny_code_family

CASES = {
    "solver_critic_v0": (solver_critic_v0, lambda: {"rounds": 2}),
    "solver_critic_v0-critic_feedback": (solver_critic_v0, lambda: {"critic_feedback": "tests"}),
    "code_critique_v0-tiny": (code_critique_v0, lambda: {"family": tiny_code_family(), "rounds": 2}),
    "code_critique_v0-CodeFeedback": (code_critique_v0, lambda: {"rounds": 2}),
    "solver_critic_v0-CodeFeedback": (solver_critic_v0, lambda: {"family": "CodeFeedback-v0"}),
}


@pytest.fixture(params=sorted(CASES))
def module_and_kwargs(request):
    return CASES[request.param]


def test_aec_api(module_and_kwargs):
    module, kwargs = module_and_kwargs
    game = module.env(**kwargs())
    with closing(game), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PettingZoo warns that Text spaces are not Box/Discrete
        api_test(game, num_cycles=20)


def test_parallel_api(module_and_kwargs):
    module, kwargs = module_and_kwargs
    game = module.parallel_env(**kwargs())
    with closing(game), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(game, num_cycles=20)


def test_seeded_aec_games_repeat(module_and_kwargs):
    module, kwargs = module_and_kwargs
    seed_test(lambda: module.env(**kwargs()), num_cycles=10)


def test_seeded_parallel_games_repeat(module_and_kwargs):
    module, kwargs = module_and_kwargs
    parallel_seed_test(lambda: module.parallel_env(**kwargs()), num_cycles=10)


@pytest.mark.parametrize("module", [solver_critic_v0, code_critique_v0])
def test_module_exposes_the_pettingzoo_entry_points(module):
    """``env`` wraps ``raw_env`` in PettingZoo's order enforcing; all three build the same game."""
    assert module.__name__.endswith("_v0")
    kwargs = {"family": tiny_code_family()} if module is code_critique_v0 else {}
    raw, wrapped, parallel = module.raw_env(**kwargs), module.env(**kwargs), module.parallel_env(**kwargs)
    assert isinstance(raw, AECEnv) and not isinstance(raw, OrderEnforcingWrapper)
    assert isinstance(wrapped, OrderEnforcingWrapper) and type(wrapped.unwrapped) is type(raw)
    assert isinstance(parallel, ParallelEnv)
    assert raw.possible_agents == wrapped.possible_agents == parallel.possible_agents
    with pytest.raises(AssertionError, match="reset"):  # the order-enforcing wrapper: no step before reset
        wrapped.step("too early")
    for made in (raw, wrapped, parallel):
        made.close()


def test_different_seeds_draw_different_tasks():
    game = solver_critic_v0.env()
    ids = set()
    for seed in range(5):
        game.reset(seed=seed)
        ids.add(game.unwrapped.infos["solver_0"]["task_id"])
    assert len(ids) > 1
