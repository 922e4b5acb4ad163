"""MathCritique environments: oracle and anti-oracle over every source, ids, rewards, user tasks."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.envs.math.env import MathCritiqueEnv, make_source
from feedback_gym.envs.math.generators import FAMILIES
from feedback_gym.envs.math.leaks import LeakFilter
from feedback_gym.envs.math.loaders import bundled_source, dataset_source, gsm8k_steps
from feedback_gym.envs.math.numerals import parse_number
from feedback_gym.envs.math.solution import steps_of
from feedback_gym.envs.math.verifier import MathVerifier
from feedback_gym.errors import ConfigError, InvalidTaskError
from feedback_gym.tasks import Task

FIXTURES = Path(__file__).with_name("fixtures")
MATH_IDS = ["MathCritique-v0", "MathCritiqueBundled-v0", "MathInPlace-v0"]
VERIFIER = MathVerifier()


def anti_oracle(task: Task) -> str:
    """A worked-looking reply with a wrong final answer."""
    answer = str(task.reference)
    value = parse_number(answer)
    wrong = "not-a-number-at-all" if value is None else str(value + 1)
    return f"I computed it carefully: 1 + 1 = 2.\nAnswer: {wrong}"


GENERATED = {f"generated-{family}-d{level}": (family, level) for family in FAMILIES for level in (1, 2, 3)}
SOURCE_NAMES = sorted([*GENERATED, "bundled", "gsm8k", "math", "reasoning_gym"])


@functools.cache
def source_tasks(name: str) -> list[Task]:
    """The tasks of one named source (built on first use: no work at import time)."""
    if name in GENERATED:
        family, level = GENERATED[name]
        source = make_source("generated", families=[family], difficulty=level, seed=3)
        return [source.task(i) for i in range(8)]
    if name == "bundled":
        return list(bundled_source())
    if name in ("gsm8k", "math"):
        return list(dataset_source(name, FIXTURES / f"{name}_test.jsonl"))
    pytest.importorskip("reasoning_gym")
    rg = make_source("reasoning_gym:basic_arithmetic", seed=1, limit=10)
    return [rg.task(i) for i in range(10)]


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_oracle_solves_and_anti_oracle_fails_on_every_source(name: str) -> None:
    for task in source_tasks(name):
        oracle = VERIFIER.verify(task, VERIFIER.reference_action(task))
        assert oracle.solved and oracle.score == 1.0, (task.id, VERIFIER.reference_action(task), oracle)
        bad = VERIFIER.verify(task, anti_oracle(task))
        assert not bad.solved and bad.score < 1.0, (task.id, bad)


def test_bundled_set_is_large_and_worked() -> None:
    tasks = list(bundled_source())
    assert len(tasks) >= 100
    for task in tasks:
        steps = steps_of(task)
        assert steps, task.id
        last = parse_number(str(task.reference))
        if last is not None:  # a numeric answer is the value of the last step
            assert steps[-1].value == last, task.id


def test_gsm8k_fixture_steps_come_from_calculator_annotations() -> None:
    steps, answer = gsm8k_steps(
        "The boxes hold 3*45 = <<3*45=135>>135 books.\nNow 1250+135 = <<1250+135=1385>>1385.\n#### 1,385"
    )
    assert [int(s.value) for s in steps] == [135, 1385] and answer == "1385"
    tasks = source_tasks("gsm8k")
    assert tasks[1].reference == "1205" and len(steps_of(tasks[1])) == 3
    assert all("<<" not in s.text for t in tasks for s in steps_of(t))


def test_math_fixture_answers_come_from_the_last_box() -> None:
    answers = [t.reference for t in source_tasks("math")]
    assert answers == ["12", r"\frac{7}{12}", "0, 3", r"\frac{\sqrt{2}}{2}", "x^2 + 2x + 1"]
    assert VERIFIER.verify(source_tasks("math")[2], r"so \boxed{3, 0}").solved
    assert VERIFIER.verify(source_tasks("math")[4], r"\boxed{(x+1)(x+1)}").solved
    assert not VERIFIER.verify(source_tasks("math")[4], r"\boxed{x^2+1}").solved


@pytest.mark.parametrize("env_id", MATH_IDS)
def test_registered_ids_pass_check_env_and_solve(env_id: str) -> None:
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    obs, info = env.reset(seed=5)
    assert env.observation_space.contains(obs)
    first = env.reset(seed=5)[0]
    assert first == obs
    obs, reward, terminated, truncated, info = env.step("Answer: definitely wrong")
    assert reward == 0.0 and not terminated
    obs, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
    assert reward == 1.0 and terminated and info["solved"]
    env.close()


@pytest.mark.parametrize(
    "junk", ["", "\x00\x01", "x" * 1_000_001, "\ud800", "```python\nprint(", "no answer here"]
)
def test_junk_actions_get_feedback_and_zero_reward(junk: str) -> None:
    env = gym.make("MathCritique-v0")
    env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(junk)
    assert reward == 0.0 and not terminated and obs.strip()
    assert env.observation_space.contains(obs)


def test_critique_episode_is_step_localised_and_leak_free() -> None:
    env = gym.make("MathCritique-v0", families=["arithmetic"], difficulty=3)
    env.reset(seed=2)
    task = env.unwrapped.task
    lines = env.unwrapped.oracle_action().splitlines()
    wrong = lines[1].rsplit("=", 1)[0] + "= 1"
    attempt = "\n".join([lines[0], wrong, "Answer: 1"])
    obs, reward, terminated, truncated, info = env.step(attempt)
    assert info["critique"]["status"] == "step" and info["critique"]["line_index"] == 1
    assert "second line" in obs and wrong.strip() in obs
    assert LeakFilter(task, attempt).find(obs.replace(wrong.strip(), "")) == []
    assert str(task.reference) not in obs.replace(wrong.strip(), "")


def test_reward_turn_and_format_penalties() -> None:
    env = MathCritiqueEnv(
        max_turns=3, reward={"turn_penalty": 0.1, "error_penalties": {"invalid_action": 0.5}}
    )
    env.reset(seed=0)
    _, reward, _, _, info = env.step("I have no idea")
    assert info["reward_components"] == {"success": 0.0, "turn_penalty": -0.1, "error_penalty": -0.5}
    assert reward == pytest.approx(-0.6)
    _, reward, terminated, _, info = env.step(env.oracle_action())
    assert terminated and reward == pytest.approx(0.9)


def test_user_task_with_and_without_worked_solution() -> None:
    env = MathCritiqueEnv(max_turns=2)
    obs, _ = env.reset(options={"task": {"question": "What is 12 * 12 - 4?", "answer": "140"}})
    assert "12 * 12 - 4" in obs
    obs, reward, *_ = env.step("12 * 12 = 144\n144 - 4 = 141\nAnswer: 141")
    assert reward == 0.0 and "144 - 4 = 141" in obs and "140" not in obs
    steps = [
        {"text": "Square: 12 * 12 = 144", "value": 144, "hint": "the square"},
        {"text": "Less four: 144 - 4 = 140", "value": 140, "hint": "the square less four"},
    ]
    env.reset(options={"task": {"question": "What is 12 * 12 - 4?", "answer": "140", "steps": steps}})
    _, _, _, _, info = env.step("12 * 12 = 124\n124 - 4 = 120\nAnswer: 120")
    assert info["critique"]["step_index"] == 0 and info["critique"]["line_index"] == 0
    with pytest.raises(InvalidTaskError):
        env.reset(options={"task": {"question": "no answer"}})


def test_bad_arguments_say_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="accepted"):
        MathCritiqueEnv(source="nope")
    with pytest.raises(ConfigError, match="difficulty"):
        MathCritiqueEnv(difficulty=7)
    with pytest.raises(ConfigError, match="families"):
        MathCritiqueEnv(families=["calculus"])
    with pytest.raises(ConfigError, match="feedback mode"):
        MathCritiqueEnv(feedback="loud")


def test_same_seed_same_episode_and_ids_round_trip() -> None:
    a, b = MathCritiqueEnv(), MathCritiqueEnv()
    assert a.reset(seed=11)[0] == b.reset(seed=11)[0]
    task_id = a.task.id
    assert MathCritiqueEnv().reset(options={"task_id": task_id})[0] == a.reset(seed=11)[0]


def test_parquet_files_load_through_datasets(tmp_path: Path) -> None:
    """The hub's GSM8K files are Parquet; a local Parquet file in that schema loads the same way."""
    pytest.importorskip("datasets")
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from feedback_gym.tasks import read_jsonl

    records = read_jsonl(FIXTURES / "gsm8k_test.jsonl")
    path = tmp_path / "test-00000-of-00001.parquet"
    pq.write_table(pyarrow.Table.from_pylist(records), path)
    tasks = list(dataset_source("gsm8k", path))
    assert [t.reference for t in tasks] == [t.reference for t in source_tasks("gsm8k")]


def test_reasoning_gym_source_in_the_env() -> None:
    pytest.importorskip("reasoning_gym")
    env = MathCritiqueEnv(source="reasoning_gym:chain_sum", seed=2, limit=20, max_turns=2)
    obs, _ = env.reset(seed=0)
    assert "<answer>" in obs and env.task.id.startswith("rg-chain_sum/2/")
    obs, reward, *_, info = env.step("<answer>not a number</answer>")
    assert reward == 0.0 and info["critique"]["status"] == "no_reference"
    assert str(env.task.reference) not in obs
    _, reward, terminated, *_ = env.step(env.oracle_action())
    assert reward == 1.0 and terminated
    assert (
        env.reset(options={"task_id": env.task.id})[0]
        == env.task.prompt + "\n\nYou have up to 2 attempts; after each one you will get feedback."
    )


def test_give_up_ends_without_stale_critique() -> None:
    env = MathCritiqueEnv(max_turns=3)
    env.reset(seed=0)
    _, _, _, _, info = env.step("1 + 1 = 3\nAnswer: 3")
    assert "critique" in info
    obs, reward, terminated, _, info = env.step("<give_up>")
    assert terminated and reward == 0.0 and "critique" not in info
