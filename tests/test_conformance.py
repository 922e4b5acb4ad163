"""The conformance checker catches each broken promise (deliberately broken environments)."""

from __future__ import annotations

from typing import Any

import pytest

from feedback_gym import conformance
from feedback_gym.conformance import ConformanceError
from feedback_gym.envs.countdown import CountdownEnv


def test_a_correct_env_passes_every_check() -> None:
    conformance.check_all(lambda: CountdownEnv(max_turns=3))


class LeakyEnv(CountdownEnv):
    """Echoes the hidden solution in the feedback."""

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs + f"\n(the solution was {self.task.hidden['secret']})", reward, terminated, truncated, info

    def task_from_dict(self, data: Any):  # pragma: no cover - not used
        return super().task_from_dict(data)

    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed, options=options)
        from dataclasses import replace

        self._task = replace(self._task, hidden={**self._task.hidden, "secret": "a very secret reference"})
        return obs, info


class NondeterministicEnv(CountdownEnv):
    """Ignores the seed when drawing tasks."""

    draws = 0

    def reset(self, *, seed=None, options=None):
        NondeterministicEnv.draws += 1
        return super().reset(seed=None, options={"task_index": NondeterministicEnv.draws})


class CrashesOnJunk(CountdownEnv):
    """Raises on empty input instead of giving feedback."""

    def step(self, action: Any):
        if action == "":
            raise ValueError("empty")
        return super().step(action)


class RewardsJunk(CountdownEnv):
    """Pays for any action."""

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward + 0.5, terminated, truncated, info


class WrongOracle(CountdownEnv):
    """Its oracle answers with a fixed wrong expression."""

    def oracle_action(self) -> str:
        return "<answer>1</answer>"


class NoEndCheck(CountdownEnv):
    """Lets the agent keep stepping after the episode ended."""

    def step(self, action: Any):
        self._ended = False
        return super().step(action)


class ObservationOutsideSpace(CountdownEnv):
    """Emits a control character that the Text space does not contain."""

    def step(self, action: Any):
        obs, *rest = super().step(action)
        return (obs + "\x07", *rest)


class NoMessages(CountdownEnv):
    """Forgets the conversation in info."""

    def _info(self, verdict, components):
        info = super()._info(verdict, components)
        del info["messages"]
        return info


@pytest.mark.parametrize(
    ("env_class", "check", "message"),
    [
        (LeakyEnv, conformance.check_no_hidden_leak, "hidden material"),
        (NondeterministicEnv, conformance.check_determinism, "two different episodes"),
        (CrashesOnJunk, conformance.check_junk_actions, "raised ValueError"),
        (RewardsJunk, conformance.check_junk_actions, "earned reward"),
        (RewardsJunk, conformance.check_known_bad, "earned reward"),
        (WrongOracle, conformance.check_oracle, "did not solve"),
        (NoEndCheck, conformance.check_step_after_end, "did not raise"),
        (ObservationOutsideSpace, conformance.check_known_bad, "outside observation_space"),
        (NoMessages, conformance.check_known_bad, "info lacks"),
        (ObservationOutsideSpace, conformance.check_gymnasium_api, "check_env failed"),
    ],
)
def test_each_broken_env_is_caught(env_class: type, check, message: str) -> None:
    with pytest.raises(ConformanceError, match=message):
        check(lambda: env_class(max_turns=3))
