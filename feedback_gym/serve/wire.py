"""What crosses the wire besides OpenEnv's own envelopes: JSON-safe values and typed errors.

OpenEnv reports a failed ``reset``/``step`` as ``{"message": str(error)}``, so a server-side error
is sent as ``"<ErrorType>: <message>"`` and the client raises the same feedback-gym error class
again (``EpisodeEndedError`` stays a ``gymnasium.error.ResetNeeded``, a bad option stays a
``ConfigError``); anything else becomes a :class:`~feedback_gym.errors.RemoteEnvError`. No
openenv import here: the client and the tests use these without a server.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from feedback_gym import errors
from feedback_gym.errors import FeedbackGymError, RemoteEnvError

#: Error classes re-raised as themselves on the client; others become ``RemoteEnvError``.
PORTABLE_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        errors.ConfigError,
        errors.UnknownTaskError,
        errors.InvalidTaskError,
        errors.MissingReferenceError,
        errors.EpisodeEndedError,
        errors.DependencyNotInstalled,
        errors.SandboxUnavailableError,
    )
}
#: Gymnasium's own "call reset() first" error, raised by ``OrderEnforcing`` and by the envs.
PORTABLE_ERRORS["ResetNeeded"] = errors.EpisodeEndedError


class ServedEnvError(FeedbackGymError, RuntimeError):
    """A served environment's failure, worded ``"<ErrorType>: <message>"`` for OpenEnv's error envelope."""

    @classmethod
    def wrap(cls, err: BaseException) -> ServedEnvError:
        """Keep the type name of ``err`` in front of its message (already wrapped errors pass through)."""
        if isinstance(err, ServedEnvError):
            return err
        return cls(f"{type(err).__name__}: {err}")


def error_from_message(message: str) -> Exception:
    """Rebuild the error a server reported as ``"<ErrorType>: <message>"``.

    >>> err = error_from_message("EpisodeEndedError: call reset() to start a new one")
    >>> type(err).__name__, str(err)
    ('EpisodeEndedError', 'call reset() to start a new one')
    >>> type(error_from_message("ZeroDivisionError: division by zero")).__name__
    'RemoteEnvError'
    """
    name, sep, text = message.partition(": ")
    cls = PORTABLE_ERRORS.get(name) if sep else None
    if cls is None:
        return RemoteEnvError(f"the server reported: {message}")
    return cls(text)


def safe_text(text: str) -> str:
    r"""``text`` with lone surrogates written as visible escapes, so it can be encoded as UTF-8 JSON.

    >>> safe_text("ok \ud800")
    'ok \\ud800'
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def json_safe(value: Any) -> Any:
    """A copy of ``value`` made of JSON types only (dict with str keys, list, str, int, float, bool, None).

    Tuples and sets become lists, numpy scalars and arrays their Python values, dataclasses dicts,
    non-finite floats ``None`` and anything else its ``repr``; strings lose lone surrogates.

    >>> json_safe({"a": (1, 2.5), 3: {"x"}, "f": float("nan")})
    {'a': [1, 2.5], '3': ['x'], 'f': None}
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, Mapping):
        return {safe_text(str(key)): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((json_safe(item) for item in value), key=repr)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value))
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return json_safe(value.tolist())
    return safe_text(repr(value))
