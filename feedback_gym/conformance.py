"""Checks every feedback-gym environment must pass, shipped so users can run them on their own envs.

Each ``check_*`` function takes an environment *factory* (so it can build fresh instances) and
raises :class:`ConformanceError` with a message that names the broken promise. ``check_all`` runs
them in order. The registry-wide test (``tests/test_registry.py``) runs them on every id.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
from gymnasium.utils.env_checker import check_env

EnvFactory = Callable[[], gym.Env]

#: Actions no environment may crash on; each must get feedback and a zero reward.
JUNK_ACTIONS: dict[str, Any] = {
    "empty": "",
    "whitespace": " \n\t ",
    "one megabyte": "x" * (1 << 20),
    "NUL and control characters": "\x00\x01\x02\x1b[31m\x7f print(1)\x00",
    "lone surrogates": "\ud800 answer \udfff",
    "unclosed code fence": "```python\ndef f(:\n    return",
    "bytes": b"\xff\xfe\x00binary",
    "not text": 12345,
}
#: A reply that answers nothing; no task may count it as solved.
KNOWN_BAD_ACTION = "I don't know."
REQUIRED_INFO_KEYS = ("task_id", "turn", "solved", "score", "reward_components", "feedback_kind", "messages")


class ConformanceError(AssertionError):
    """An environment broke a promise of the feedback-gym contract."""


@contextmanager
def _closing(env: gym.Env) -> Iterator[gym.Env]:
    try:
        yield env
    finally:
        env.close()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


def check_gymnasium_api(make: EnvFactory) -> None:
    """Gymnasium's own strict checker passes, with every warning treated as an error."""
    with _closing(make()) as env, warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            check_env(env.unwrapped, skip_render_check=True)
        except Exception as err:  # check_env raises AssertionError or a warning-as-error
            raise ConformanceError(f"gymnasium check_env failed: {type(err).__name__}: {err}") from err


def check_step_result(env: gym.Env, result: tuple[Any, ...], what: str) -> None:
    """The step tuple has the right types, the observation is in its space and info is complete."""
    _require(len(result) == 5, f"{what}: step must return 5 values, got {len(result)}")
    obs, reward, terminated, truncated, info = result
    _require(isinstance(obs, str) and obs != "", f"{what}: the observation must be non-empty text")
    _require(env.observation_space.contains(obs), f"{what}: the observation is outside observation_space")
    _require(isinstance(reward, float) and math.isfinite(reward), f"{what}: reward must be a finite float")
    _require(type(terminated) is bool and type(truncated) is bool, f"{what}: flags must be bool")
    check_info(info, what)


def check_info(info: dict[str, Any], what: str) -> None:
    """``info`` carries the keys of the user's contract with the right types."""
    missing = [key for key in REQUIRED_INFO_KEYS if key not in info]
    _require(not missing, f"{what}: info lacks {missing}")
    _require(0.0 <= float(info["score"]) <= 1.0, f"{what}: info['score'] must be in [0, 1]")
    _require(isinstance(info["reward_components"], dict), f"{what}: reward_components must be a dict")
    messages = info["messages"]
    _require(
        isinstance(messages, list) and all({"role", "content"} <= set(m) for m in messages),
        f"{what}: info['messages'] must be a list of role/content dicts",
    )


def _episode(make: EnvFactory, seed: int, actions: list[str]) -> list[Any]:
    trace: list[Any] = []
    with _closing(make()) as env:
        obs, info = env.reset(seed=seed)
        trace.append((obs, info["task_id"]))
        for action in actions:
            obs, reward, terminated, truncated, info = env.step(action)
            trace.append((obs, reward, terminated, truncated))
            if terminated or truncated:
                break
    return trace


def check_determinism(make: EnvFactory, seed: int = 123) -> None:
    """The same seed gives the same task and, for the same actions, the same feedback and rewards."""
    with _closing(make()) as env:
        env.reset(seed=seed)
        actions = [KNOWN_BAD_ACTION, env.unwrapped.oracle_action()]
    first, second = _episode(make, seed, actions), _episode(make, seed, actions)
    _require(first == second, f"seed {seed} gave two different episodes:\n{first}\n{second}")


def check_oracle(make: EnvFactory, seeds: range = range(3)) -> None:
    """Replaying ``oracle_action()`` solves the task with the maximal success reward."""
    with _closing(make()) as env:
        for seed in seeds:
            _, info = env.reset(seed=seed)
            total, steps = 0.0, 0
            terminated = truncated = False
            while not (terminated or truncated):
                result = env.step(env.unwrapped.oracle_action())
                check_step_result(env, result, f"oracle step (seed {seed})")
                _, reward, terminated, truncated, info = result
                total += reward
                steps += 1
            _require(
                terminated and info["solved"],
                f"the oracle did not solve task {info['task_id']} (seed {seed}) in {steps} steps: "
                f"score {info['score']}",
            )
            _require(info["score"] == 1.0, f"the oracle's score on {info['task_id']} is {info['score']}")
            _require(total > 0, f"the oracle earned no reward on {info['task_id']}")


def check_known_bad(make: EnvFactory, seed: int = 0) -> None:
    """A reply that answers nothing does not solve the task and earns no success reward."""
    with _closing(make()) as env:
        env.reset(seed=seed)
        result = env.step(KNOWN_BAD_ACTION)
        check_step_result(env, result, "known-bad action")
        _, reward, terminated, _, info = result
        _require(not info["solved"] and info["score"] < 1.0, "a known-bad action was scored as solved")
        _require(reward <= 0.0, f"a known-bad action earned reward {reward}")
        _require(not terminated, "a known-bad action terminated the episode")


def check_junk_actions(make: EnvFactory, seed: int = 0) -> None:
    """Junk actions get feedback and zero reward, never an exception; the env keeps serving after."""
    with _closing(make()) as env:
        for name, action in JUNK_ACTIONS.items():
            env.reset(seed=seed)
            try:
                result = env.step(action)
            except Exception as err:
                raise ConformanceError(f"junk action {name!r} raised {type(err).__name__}: {err}") from err
            check_step_result(env, result, f"junk action {name!r}")
            _, reward, _, _, info = result
            _require(reward == 0.0, f"junk action {name!r} earned reward {reward}")
            _require(not info["solved"], f"junk action {name!r} was scored as solved")
        env.reset(seed=seed)
        _, _, terminated, _, info = env.step(env.unwrapped.oracle_action())
        _require(info["score"] > 0 or not terminated, "after junk actions the oracle no longer scores")


def check_step_after_end(make: EnvFactory, seed: int = 0) -> None:
    """Stepping a finished episode raises Gymnasium's ``ResetNeeded`` with a clear message."""
    with _closing(make()) as env:
        env.reset(seed=seed)
        terminated = truncated = False
        for _ in range(1000):
            _, _, terminated, truncated, _ = env.step(KNOWN_BAD_ACTION)
            if terminated or truncated:
                break
        _require(terminated or truncated, "1000 bad actions did not end the episode (no turn budget?)")
        try:
            env.step(KNOWN_BAD_ACTION)
        except gym.error.ResetNeeded as err:
            _require("reset" in str(err), f"the error after the end does not mention reset(): {err}")
        except Exception as err:
            raise ConformanceError(
                f"step after the end raised {type(err).__name__}, not gymnasium.error.ResetNeeded"
            ) from err
        else:
            raise ConformanceError("step after the end of the episode did not raise")


def check_no_hidden_leak(make: EnvFactory, seeds: range = range(3)) -> None:
    """Hidden tests never appear in an observation or ``info``.

    Hidden strings that the task shows on purpose (in the prompt or its public metadata, such as
    example tests made visible) are not secrets.
    """
    with _closing(make()) as env:
        for seed in seeds:
            obs, info = env.reset(seed=seed)
            task = getattr(env.unwrapped, "task", None)
            public = obs + repr(getattr(task, "metadata", {}))  # e.g. tests made visible on purpose
            secrets = [
                s for s in _hidden_strings(getattr(task, "hidden", {})) if len(s) >= 12 and s not in public
            ]
            outputs = [obs, repr(info)]
            result = env.step(KNOWN_BAD_ACTION)
            outputs += [result[0], repr(result[4])]
            if not (result[2] or result[3]):
                # Only the feedback: info echoes the oracle's own text (which may quote hidden steps).
                outputs.append(env.step(env.unwrapped.oracle_action())[0])
            for secret in secrets:
                _require(
                    not any(secret in text for text in outputs),
                    f"hidden material of {info['task_id']} appears in an observation or info: "
                    f"{secret[:60]!r}",
                )


def _hidden_strings(value: Any) -> Iterator[str]:
    """Every string inside the hidden material, except keys marked public (``public_*``)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict) or hasattr(value, "items"):
        for key, item in value.items():
            if not str(key).startswith("public"):
                yield from _hidden_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _hidden_strings(item)


ALL_CHECKS: tuple[Callable[[EnvFactory], None], ...] = (
    check_gymnasium_api,
    check_determinism,
    check_oracle,
    check_known_bad,
    check_junk_actions,
    check_step_after_end,
    check_no_hidden_leak,
)


def check_all(make: EnvFactory) -> None:
    """Run every check in :data:`ALL_CHECKS`, stopping at the first broken promise."""
    for check in ALL_CHECKS:
        check(make)
