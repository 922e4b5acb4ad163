from __future__ import annotations

import json

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.benchmarks.suites import (
    BEST_OF_N,
    MULTI_TURN,
    SUITES,
    Suite,
    SuiteEntry,
    get_suite,
)
from feedback_gym.errors import ConfigError


def test_builtin_suites_are_versioned_and_have_unique_episode_keys():
    assert {"quick-v0", "core-v0"} <= set(SUITES)
    for name, suite in SUITES.items():
        assert name.rsplit("-", 1)[1].startswith("v")
        keys = [spec.key for spec in suite.episodes()]
        assert len(keys) == len(set(keys)), name


def test_quick_is_a_small_subset_of_core_in_families():
    quick, core = SUITES["quick-v0"], SUITES["core-v0"]
    assert set(quick.env_ids()) <= set(core.env_ids())
    assert len(quick.episodes()) * 5 < len(core.episodes())


def test_episodes_cover_tasks_times_seeds_and_the_control():
    entry = SuiteEntry("Countdown-v0", {"feedback": "tests"}, (0, 1, 2), seeds=(0, 7))
    suite = Suite("t", (entry, SuiteEntry("Countdown-v0", {"feedback": "unary"}, (5,), control=False)))
    specs = suite.episodes()
    assert sum(s.mode == MULTI_TURN for s in specs) == 3 * 2 + 1
    assert sum(s.mode == BEST_OF_N for s in specs) == 3 * 2  # the second entry opted out
    assert {s.label for s in specs} == {"Countdown-v0[tests]", "Countdown-v0[unary]"}
    assert len(suite.episodes(control=False)) == 7


def test_missing_ids_fail_loudly_naming_each_one():
    suite = Suite("future", (SuiteEntry("Countdown-v0"), SuiteEntry("NotYet-v0"), SuiteEntry("Nor-v9")))
    assert suite.missing_ids() == ["NotYet-v0", "Nor-v9"]
    with pytest.raises(ConfigError, match="NotYet-v0, Nor-v9"):
        suite.check_registered()


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(env_id=""), "env_id"),
        (dict(env_id="Countdown-v0", tasks=()), "tasks"),
        (dict(env_id="Countdown-v0", tasks=(0, "a")), "tasks"),
        (dict(env_id="Countdown-v0", seeds=(1.5,)), "seeds"),
        (dict(env_id="Countdown-v0", kwargs=[1]), "kwargs"),
    ],
)
def test_bad_entries_say_what_is_wrong(bad, match):
    with pytest.raises(ConfigError, match=match):
        SuiteEntry(**bad)


def test_duplicate_labels_are_rejected():
    with pytest.raises(ConfigError, match="duplicate"):
        Suite("d", (SuiteEntry("Countdown-v0"), SuiteEntry("Countdown-v0")))


def test_a_suite_file_round_trips(tmp_path):
    path = tmp_path / "mine.json"
    data = {"name": "mine-v0", "entries": [
        {"env_id": "Countdown-v0", "kwargs": {"feedback": "binary"}, "tasks": {"range": 3}, "seeds": [1]}]}
    path.write_text(json.dumps(data))
    suite = get_suite(path)
    assert suite.name == "mine-v0" and suite.entries[0].tasks == (0, 1, 2)
    assert Suite.from_dict(suite.to_dict()) == suite
    (tmp_path / "bad.json").write_text(json.dumps({"name": "x", "entries": [{"env": "typo"}]}))
    with pytest.raises(ConfigError, match="unknown suite entry keys"):
        get_suite(tmp_path / "bad.json")


def _registered_entries():
    for suite in SUITES.values():
        for entry in suite.entries:
            yield pytest.param(entry, id=f"{suite.name}:{entry.label}")


@pytest.mark.parametrize("entry", _registered_entries())
def test_every_builtin_entry_makes_and_resets_its_first_and_last_task(entry):
    """Catches a suite entry whose kwargs or task subset the installed env does not accept."""
    if entry.env_id not in gym.registry:
        pytest.skip(f"{entry.env_id} is not registered in this installation")
    env = gym.make(entry.env_id, **entry.kwargs)
    try:
        for spec in (next(entry.episodes()), list(entry.episodes((MULTI_TURN,)))[-1]):
            _, info = env.reset(seed=spec.seed, options=spec.reset_options())
            assert info["task_id"] and info["messages"][0]["role"] == "user"
    finally:
        env.close()


def test_a_sandbox_override_reaches_only_the_envs_that_take_one():
    if "CodeFeedback-v0" not in gym.registry:
        pytest.skip("needs the code family")
    suite = Suite("s", (SuiteEntry("Countdown-v0", {"feedback": "tests"}), SuiteEntry("CodeFeedback-v0")))
    changed = suite.with_env_kwargs({"sandbox": "docker"})
    assert changed.entries[0].kwargs == {"feedback": "tests"}
    assert changed.entries[1].kwargs == {"sandbox": "docker"}
    assert [e.label for e in changed.entries] == [e.label for e in suite.entries]
    with pytest.raises(ConfigError, match="accepted: sandbox, feedback"):
        suite.with_env_kwargs({"difficulty": 2})


def test_which_envs_take_a_sandbox_is_read_from_their_class():
    from feedback_gym.benchmarks.suites import env_takes

    if "ToolUse-v0" not in gym.registry or "CodeCritic-v0" not in gym.registry:
        pytest.skip("needs the tool and multi-agent families")
    assert env_takes("ToolUse-v0", "sandbox") and env_takes("CodeFeedback-v0", "sandbox")
    assert not env_takes("MathCritique-v0", "sandbox") and not env_takes("CodeCritic-v0", "max_turns")
    with pytest.raises(ConfigError, match="not a registered"):
        env_takes("Nope-v0", "sandbox")
