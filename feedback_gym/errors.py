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


class AnnotatorFailedError(FeedbackGymError, RuntimeError):
    """A simulated annotator gave no usable judgement (it named neither reply, or its checker failed)."""
