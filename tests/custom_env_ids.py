"""A user's own module that registers an id: reached as ``tests.custom_env_ids:ShortCountdown-v0``."""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

if "ShortCountdown-v0" not in registry:
    register(
        id="ShortCountdown-v0",
        entry_point="feedback_gym.envs.countdown:CountdownEnv",
        kwargs={"max_turns": 2},
    )
