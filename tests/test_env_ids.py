"""``module:Env-v0`` ids (Gymnasium's form: import the module, then make) work wherever an id is taken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from feedback_gym.benchmarks.suites import Suite, SuiteEntry, env_takes
from feedback_gym.env_ids import resolve_env_id
from feedback_gym.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CUSTOM = "tests.custom_env_ids:ShortCountdown-v0"


def test_a_module_id_imports_its_module_and_names_the_registered_id() -> None:
    assert resolve_env_id(CUSTOM) == "ShortCountdown-v0"
    assert gym.spec("ShortCountdown-v0").kwargs == {"max_turns": 2}
    with pytest.raises(ConfigError, match="cannot import 'tests.nowhere'"):
        resolve_env_id("tests.nowhere:X-v0")
    with pytest.raises(ConfigError, match="was imported but does not register it"):
        resolve_env_id("tests.custom_env_ids:Missing-v0")


def test_suites_accept_module_ids_and_still_refuse_unknown_ones() -> None:
    suite = Suite("custom", (SuiteEntry(CUSTOM, tasks=(0,)), SuiteEntry("tests.custom_env_ids:Nope-v0")))
    assert suite.missing_ids() == ["tests.custom_env_ids:Nope-v0"]
    assert env_takes(CUSTOM, "max_turns") and not env_takes(CUSTOM, "sandbox")


def test_the_bench_cli_plays_a_suite_of_module_ids(tmp_path: Path) -> None:
    suite_file = tmp_path / "suite.json"
    suite_file.write_text(json.dumps({"name": "custom-v0", "entries": [
        {"env_id": CUSTOM, "tasks": {"range": 2}, "control": False}]}))
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "feedback_gym.cli", "bench", "--policy", "oracle", "--suite", str(suite_file),
         "--out", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    episodes = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [e["env_id"] for e in episodes] == [CUSTOM, CUSTOM]
    assert all(e["metrics"]["solved"] for e in episodes) and all(not e.get("error") for e in episodes)


def test_the_trl_reward_function_takes_a_module_id() -> None:
    pytest.importorskip("trl")
    from feedback_gym.agents.adapters.trl import reward_function

    env = gym.make(CUSTOM)
    task_id = env.reset(seed=0)[1]["task_id"]
    oracle = env.unwrapped.oracle_action()
    env.close()
    reward = reward_function(CUSTOM)
    assert reward(["p", "p"], ["nonsense", oracle], task_id=[task_id, task_id]) == [0.0, 1.0]
    with pytest.raises(ConfigError, match="unknown environment id"):
        reward_function("tests.custom_env_ids:Nope-v0")
