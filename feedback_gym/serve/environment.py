"""One Gymnasium environment per OpenEnv session, stepped off the event loop with a time bound.

OpenEnv's server builds one :class:`GymnasiumEnvironment` per WebSocket session (the factory must
be cheap: it also runs for ``/metadata``), and the Gymnasium env itself is built at the session's
first ``reset``, in the session's own worker thread. Every ``reset``/``step`` runs in that thread
under ``step_timeout_s``; one that overruns closes its session with an error (a thread cannot be
killed, but the sandbox kills the program it runs, so the thread ends soon after). Environments
that run code share the server's sandbox, which is thread-safe, instead of starting one each.
Model-written code never runs here: the environments send it to their sandbox.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

from feedback_gym.errors import ConfigError, require_int
from feedback_gym.serve.config import ServeConfig
from feedback_gym.serve.models import FeedbackAction, FeedbackObservation, FeedbackState
from feedback_gym.serve.wire import ServedEnvError, json_safe, safe_text

T = TypeVar("T")
#: The keyword arguments ``reset`` accepts over the wire (OpenEnv adds ``episode_id``).
RESET_ARGUMENTS = ("seed", "options", "episode_id")


class SharedEnvs:
    """Builds and closes the sessions' environments; code envs share one sandbox per backend.

    A thin lock around the benchmark's :class:`~feedback_gym.benchmarks.play.EnvPool`, which already
    knows which envs take a sandbox and builds each backend once; sessions call it from many threads.
    """

    def __init__(self) -> None:
        from feedback_gym.benchmarks.play import EnvPool

        self._pool = EnvPool(share_sandboxes=True)
        self._lock = threading.Lock()

    def make(self, env_id: str, kwargs: dict[str, Any]) -> Any:
        """A fresh environment (never one another session used)."""
        with self._lock:
            return self._pool.acquire(env_id, kwargs)

    def discard(self, env: Any) -> None:
        """Close one session's environment."""
        with self._lock:
            self._pool.discard(env)

    def close(self) -> None:
        """Close every environment and the shared sandboxes (at server shutdown)."""
        with self._lock:
            self._pool.close()


class GymnasiumEnvironment(Environment[FeedbackAction, FeedbackObservation, FeedbackState]):
    """OpenEnv's ``Environment`` around one Gymnasium env; :func:`environment_class` configures it."""

    SUPPORTS_CONCURRENT_SESSIONS = True
    config: ClassVar[ServeConfig]
    envs: ClassVar[SharedEnvs]
    description: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._env: Any = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="feedback-gym-session")
        self._closed_because: str | None = None
        self._state = FeedbackState(env_id=self.config.env_id)

    # ------------------------------------------------------------------ OpenEnv's async API

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> FeedbackObservation:
        """Start an episode; ``options`` (``task_id``, ``task``, ``task_index``) as in ``env.reset``."""
        return await self._bounded(self.reset, seed=seed, episode_id=episode_id, **kwargs)

    async def step_async(
        self, action: FeedbackAction, timeout_s: float | None = None, **kwargs: Any
    ) -> FeedbackObservation:
        """Judge one action (the server's step bound applies, not a client's ``timeout_s``)."""
        return await self._bounded(self.step, action)

    # ------------------------------------------------------------------ OpenEnv's sync API

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> FeedbackObservation:
        """Build the env on first use, then ``env.reset(seed=..., options=...)``."""
        options = kwargs.pop("options", None)
        if kwargs:
            raise ConfigError(
                f"unknown reset arguments {sorted(kwargs)}; accepted: {', '.join(RESET_ARGUMENTS)}"
            )
        if options is not None and not isinstance(options, dict):
            raise ConfigError(f"options must be a JSON object; got {type(options).__name__}")
        if seed is not None:
            require_int("seed", seed, minimum=0)
        if self._env is None:
            self._env = self.envs.make(self.config.env_id, dict(self.config.env_kwargs))
        text, info = self._env.reset(seed=seed, options=options)
        self._state = FeedbackState(
            env_id=self.config.env_id, episode_id=episode_id, task_id=str(info.get("task_id")), turn=0
        )
        return FeedbackObservation(text=safe_text(text), reward=None, info=json_safe(info))

    def step(
        self, action: FeedbackAction, timeout_s: float | None = None, **kwargs: Any
    ) -> FeedbackObservation:
        """``env.step(action.text)``; ``done`` is ``terminated or truncated``."""
        if self._env is None:
            raise ConfigError("call reset before step: this session has no episode yet")
        text, reward, terminated, truncated, info = self._env.step(action.text)
        self._state.step_count += 1
        self._state.turn = int(info.get("turn", self._state.step_count))
        self._state.done = bool(terminated or truncated)
        return FeedbackObservation(
            text=safe_text(text),
            reward=float(reward),
            done=bool(terminated or truncated),
            terminated=bool(terminated),
            truncated=bool(truncated),
            info=json_safe(info),
        )

    @property
    def state(self) -> FeedbackState:
        """The episode so far; with ``expose_oracle``, a reference action for the current task."""
        self._check_open()
        state = self._state.model_copy()
        if self.config.expose_oracle and self._env is not None and state.task_id is not None:
            try:
                state.oracle_action = str(self._env.unwrapped.oracle_action())
            except Exception:  # noqa: BLE001 - a task without a reference has no oracle; not an error here
                state.oracle_action = None
        return state

    def get_metadata(self) -> EnvironmentMetadata:
        """The id and its one-line description, for OpenEnv's ``/metadata``."""
        from feedback_gym.version import __version__

        return EnvironmentMetadata(
            name=self.config.env_id, description=self.description or self.config.env_id, version=__version__
        )

    def close(self) -> None:
        """Close the session's env after any work still running in its thread; idempotent."""
        if self._closed_because is None:
            self._closed_because = "this session is closed; open a new one"
        env, self._env = self._env, None
        if env is not None:
            self._worker.submit(self.envs.discard, env)
        self._worker.shutdown(wait=False)

    # ------------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._closed_because is not None:
            raise ServedEnvError(f"SessionClosed: {self._closed_because}")

    async def _bounded(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``call`` in the session's thread; overrunning the step bound closes the session."""
        self._check_open()
        limit = self.config.step_timeout_s
        future = asyncio.wrap_future(self._worker.submit(call, *args, **kwargs))
        done, _ = await asyncio.wait({future}, timeout=limit)
        if not done:  # the env's own TimeoutError (if any) is an error of the env, told apart here
            self._closed_because = (
                f"a reset or step ran past the server's {limit:g} s limit (--step-timeout), so this "
                "session was closed; open a new one"
            )
            self.close()
            raise ServedEnvError(f"StepTimeout: {self._closed_because}")
        try:
            return future.result()
        except Exception as err:
            raise ServedEnvError.wrap(err) from err


def environment_class(
    config: ServeConfig, envs: SharedEnvs, description: str = ""
) -> type[GymnasiumEnvironment]:
    """A :class:`GymnasiumEnvironment` subclass bound to ``config`` (OpenEnv's factory is a class)."""
    name = "".join(ch for ch in config.env_id.split(":")[-1] if ch.isalnum()) + "Environment"
    return type(name, (GymnasiumEnvironment,), {"config": config, "envs": envs, "description": description})
