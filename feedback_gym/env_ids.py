"""Environment ids as users write them: a registered id, or Gymnasium's ``module:Env-v0`` form.

``gym.make("my_pkg.envs:MyEnv-v0")`` imports ``my_pkg.envs`` (whose import registers ``MyEnv-v0``)
and then makes the env. Every place that takes an id before it reaches ``gym.make`` (suites, the
benchmark runner, the trainers' adapters, the server) checks it with :func:`resolve_env_id`, so an id
that works in ``gym.make`` works there too, and one that does not is refused with what to do.
"""

from __future__ import annotations

import importlib

from feedback_gym.errors import ConfigError


def resolve_env_id(env_id: str) -> str:
    """The registered id ``env_id`` names, after importing its module when it is ``module:Id``.

    >>> resolve_env_id("Countdown-v0"), resolve_env_id("feedback_gym.registration:Countdown-v0")
    ('Countdown-v0', 'Countdown-v0')
    >>> resolve_env_id("Nope-v0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown environment id 'Nope-v0'; see `feedback-gym list` ...
    """
    import gymnasium

    import feedback_gym  # noqa: F401  (registers the ids)

    if not isinstance(env_id, str) or not env_id.strip():
        raise ConfigError(f"an environment id must be a non-empty string; got {env_id!r}")
    module, _, name = env_id.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ConfigError(f"cannot import {module!r} for environment id {env_id!r}: {err}") from None
    if name not in gymnasium.registry:
        where = f" (module {module!r} was imported but does not register it)" if module else ""
        raise ConfigError(
            f"unknown environment id {env_id!r}; see `feedback-gym list` for the registered ids, or "
            f"write 'module:Env-v0' to import the module that registers yours{where}"
        )
    return name
