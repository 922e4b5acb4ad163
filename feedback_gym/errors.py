"""Every exception feedback-gym raises on purpose, in one place.

Errors about *arguments* subclass ``ValueError`` so that callers who already catch ``ValueError``
keep working; errors about the *episode state* subclass Gymnasium's own ``ResetNeeded``.
"""

from __future__ import annotations

from gymnasium.error import ResetNeeded


class FeedbackGymError(Exception):
    """Base class of every feedback-gym error."""


class ConfigError(FeedbackGymError, ValueError):
    """A constructor argument or config value is invalid; the message says what is accepted."""


class UnknownTaskError(FeedbackGymError, KeyError):
    """A task id asked for by ``reset(options={"task_id": ...})`` does not exist in the source."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else "unknown task"


class InvalidTaskError(FeedbackGymError, ValueError):
    """A user-supplied task (``reset(options={"task": ...})``) does not fit the expected schema."""


class MissingReferenceError(FeedbackGymError, LookupError):
    """The task has no reference solution, so no oracle action can be given."""


class EpisodeEndedError(FeedbackGymError, ResetNeeded):
    """``step`` was called after the episode terminated or truncated; call ``reset`` first."""


class DependencyNotInstalled(FeedbackGymError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it."""


def missing_dependency(module: str, extra: str) -> DependencyNotInstalled:
    """Build the error raised when an optional import fails, with the pip command that fixes it.

    >>> str(missing_dependency("docker", "docker"))
    "The optional dependency 'docker' is not installed. Install it with: pip install 'feedback-gym[docker]'"
    """
    return DependencyNotInstalled(
        f"The optional dependency {module!r} is not installed. "
        f"Install it with: pip install 'feedback-gym[{extra}]'"
    )


class SandboxClosedError(FeedbackGymError, RuntimeError):
    """``Sandbox.run`` was called after ``close()``."""


class SandboxUnavailableError(FeedbackGymError, RuntimeError):
    """A sandbox backend cannot start here (no Docker engine, no image, no bubblewrap); says how to fix it."""


class RemoteEnvError(FeedbackGymError, RuntimeError):
    """A served environment could not answer: the server refused, failed, timed out or went away."""


class CheckerFailedError(FeedbackGymError, RuntimeError):
    """An environment's checker failed on a step (an ``internal_error`` verdict): the step has no outcome.

    Environments report such a step as feedback and go on; a benchmark or a trainer that counts
    outcomes must not read its zero reward as the agent's score, so it raises this instead.
    """


class CriticFailedError(FeedbackGymError, RuntimeError):
    """A model critic gave no usable critique (it raised, or said nothing) and no fallback was asked for."""


def require_int(name: str, value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int (never a bool) within ``minimum..maximum``; else raise.

    The one check behind every integer argument, so each says the same thing: what is accepted.

    >>> require_int("rounds", 3, minimum=1)
    3
    >>> require_int("rounds", True, minimum=1)
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: rounds must be an int >= 1; got True
    >>> require_int("port", 70000, 0, 65535)
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: port must be an int in 0..65535; got 70000
    """
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (minimum is None or value >= minimum)
        and (maximum is None or value <= maximum)
    ):
        return value
    if minimum is not None and maximum is not None:
        accepted = f"an int in {minimum}..{maximum}"
    elif minimum is not None:
        accepted = f"an int >= {minimum}"
    elif maximum is not None:
        accepted = f"an int <= {maximum}"
    else:
        accepted = "an int"
    raise ConfigError(f"{name} must be {accepted}; got {value!r}")


def require_positive_number(name: str, value: object) -> float:
    """Return ``value`` if it is an int or float (never a bool) above zero; else raise.

    >>> require_positive_number("idle_timeout_s", 0.5)
    0.5
    >>> require_positive_number("idle_timeout_s", float("nan"))
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: idle_timeout_s must be a positive number; got nan
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return value
    raise ConfigError(f"{name} must be a positive number; got {value!r}")
