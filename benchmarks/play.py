"""Playing episodes in a worker: many environments stepped in lockstep, one policy call per turn.

This module runs inside benchmark workers (a local process or a Ray actor), never in the runner's
own process: the policy (possibly a torch model) is built once per worker by :class:`Worker`, and a
batch of episodes is played by :func:`play_batch`, which asks the policy for all pending replies of
a turn at once so a transformers policy generates in batches. Model-written code runs only where
the environments run it: in their sandboxes. The policy sees the conversation of
:mod:`feedback_gym.conversation`, built from the observations (so a wrapper's feedback reaches
it), exactly as the trainer's rollout shows it.

Failures are contained per episode: an environment that cannot be built or reset, a step that
raises, a step whose checker failed (an ``internal_error`` verdict: the zero it scores is not the
agent's), or a policy that fails on one conversation marks that episode as an error and the rest of
the batch goes on.

In-place edit feedback (``info["assistant_prefix"]``) is continued by policies that say they can
(``continues_prefix = True``: the transformers and endpoint policies): the next conversation ends
with the prefix as an unfinished assistant turn and the env is sent prefix + continuation. Other
policies (oracle, scripted) see the edited text in the observation and reply in full.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from feedback_gym.benchmarks.metrics import record_metrics, turn_tokens
from feedback_gym.benchmarks.suites import BEST_OF_N, EpisodeSpec
from feedback_gym.conversation import assistant_prefix, continued, opening, to_continue
from feedback_gym.errors import CheckerFailedError
from feedback_gym.verdict import INTERNAL_ERROR

#: ``info`` keys that are not copied into each turn record (the conversation is stored once).
_HEAVY_INFO_KEYS = ("messages",)


def error_text(err: BaseException) -> str:
    """A one-line description of an exception: its type and message.

    >>> error_text(ValueError("bad thing"))
    'ValueError: bad thing'
    """
    message = str(err).strip().splitlines()
    return f"{type(err).__name__}: {message[0] if message else ''}".rstrip(": ")


class EnvPool:
    """Environment instances kept across episodes, one free list per (id, kwargs).

    Building an environment may start a sandbox or load data; a pool builds each configuration
    only as many times as there are episodes of it in flight at once, and closes them all at the end.
    Environments that run code share one sandbox per backend name (``"local"``, ``"docker"``) instead
    of starting one each: a batch of 24 code episodes then costs one set of fork servers, not 24.
    """

    def __init__(self, share_sandboxes: bool = True) -> None:
        self._free: dict[str, list[Any]] = {}
        self._all: list[Any] = []
        self.share_sandboxes = share_sandboxes
        self._sandboxes: dict[str, Any] = {}

    def _shared_sandbox(self, env_id: str, kwargs: Mapping[str, Any]) -> Any:
        """The worker's sandbox for this env's backend, when it takes one named by a string."""
        from feedback_gym.benchmarks.suites import env_takes, sandbox_backend

        if not self.share_sandboxes or not env_takes(env_id, "sandbox"):
            return None
        name = sandbox_backend(env_id, kwargs)
        if not isinstance(name, str):
            return None  # a config object or a ready sandbox: the env's own business
        if name not in self._sandboxes:
            from feedback_gym.sandboxes.config import make_sandbox

            self._sandboxes[name] = make_sandbox(name)
        return self._sandboxes[name]

    @staticmethod
    def _key(env_id: str, kwargs: Mapping[str, Any]) -> str:
        return env_id + json.dumps(dict(kwargs), sort_keys=True, default=str)

    def acquire(self, env_id: str, kwargs: Mapping[str, Any]) -> Any:
        """A free environment of this configuration, built if none is free."""
        free = self._free.setdefault(self._key(env_id, kwargs), [])
        if free:
            return free.pop()
        import gymnasium as gym

        import feedback_gym  # noqa: F401  (registers the ids)
        from feedback_gym.benchmarks.remote_envs import remote_env

        env = remote_env(env_id, kwargs)  # --env-url: this id runs on an environment server
        if env is None:
            sandbox = self._shared_sandbox(env_id, kwargs)
            env = gym.make(env_id, **{**kwargs, **({"sandbox": sandbox} if sandbox is not None else {})})
        env.unwrapped._bench_pool_key = self._key(env_id, kwargs)
        self._all.append(env)
        return env

    def release(self, env: Any) -> None:
        """Give an environment back for the next episode of its configuration."""
        self._free.setdefault(env.unwrapped._bench_pool_key, []).append(env)

    def discard(self, env: Any) -> None:
        """Close an environment that misbehaved instead of reusing it."""
        if env in self._all:
            self._all.remove(env)
        _close_quietly(env)

    def close(self) -> None:
        """Close every environment the pool built, then the shared sandboxes (idempotent)."""
        while self._all:
            _close_quietly(self._all.pop())
        self._free.clear()
        while self._sandboxes:
            _close_quietly(self._sandboxes.popitem()[1])


def _close_quietly(env: Any) -> None:
    try:
        env.close()
    except Exception:  # noqa: BLE001 - closing is best effort; the episode result is already recorded
        pass


def describe_env(env: Any) -> dict[str, Any]:
    """What identifies an environment's judging: family, class, turn budget, feedback, critic, sandbox.

    A feedback-gym env describes itself (:meth:`~feedback_gym.env.FeedbackEnv.describe`); any other
    env (a remote one, a multi-agent seat, a user's own) is recorded by its class.
    """
    from feedback_gym.env import FeedbackEnv

    core = env.unwrapped
    if isinstance(core, FeedbackEnv):
        return core.describe()
    return {"class": f"{type(core).__module__}.{type(core).__qualname__}",
            "max_turns": getattr(core, "max_turns", None)}


@dataclass
class _Slot:
    """One environment being played: a multi-turn episode, or one sample of a best-of-n control."""

    record: dict[str, Any]
    env: Any
    messages: list[dict[str, str]]
    turns: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    prefix: str = ""  # an in-place edit the next reply continues (policies that continue prefixes)
    pooled: Any = None  # the pool's env when ``env`` wraps it (a memory); released instead of ``env``
    spec: EpisodeSpec | None = None
    continues_prefix: bool = False  # whether the policy continues an unfinished assistant turn
    trials: list[dict[str, Any]] = field(default_factory=list)  # finished trials (Reflexion)

    def next_trial(self) -> bool:
        """After an unsolved end with trials left: open the task's next trial (with its reflections)."""
        memory = self.spec.memory if self.spec is not None else None
        if memory is None or not self.done or not self.turns:
            return False
        solved = bool(self.turns[-1]["info"].get("solved"))
        self.trials.append({"turns": len(self.turns), "solved": solved,
                            "reflection": self.turns[-1]["info"].get("reflection")})
        if solved or len(self.trials) >= int(memory["trials"]):
            return False
        observation, _ = self.env.reset(seed=self.spec.seed, options=self.spec.reset_options())
        self.record.setdefault("earlier_trials", []).append(self.turns)
        self.messages, self.turns, self.done, self.prefix = opening(observation), [], False, ""
        return True


def _new_record(spec: EpisodeSpec) -> dict[str, Any]:
    return {"key": spec.key, **spec.to_dict(), "task_id": None, "error": None, "env": None,
            "turns": [], "messages": [], "samples": None, "metrics": None, "policy_s": 0.0, "env_s": 0.0}


def _with_memory(env: Any, memory: Mapping[str, Any], policy: Any) -> Any:
    """The env wrapped in Reflexion's memory; ``"self"`` makes the policy under test the reflector."""
    from feedback_gym.agents.memory import ReflectionMemory

    reflector = policy if memory.get("reflector") == "self" else memory.get("reflector")
    return ReflectionMemory(env, reflector=reflector, max_reflections=int(memory.get("max_reflections", 3)))


def _open_slots(spec: EpisodeSpec, record: dict[str, Any], pool: EnvPool, policy: Any = None) -> list[_Slot]:
    """Build and reset the environment(s) of one episode; best-of-n needs n single-turn copies."""
    if spec.mode == BEST_OF_N:
        probe = pool.acquire(spec.env_id, spec.kwargs)
        n = int(getattr(probe.unwrapped, "max_turns", 1))
        record["env"] = describe_env(probe)
        pool.release(probe)
        kwargs = {**spec.kwargs, "max_turns": 1}
        envs = [pool.acquire(spec.env_id, kwargs) for _ in range(n)]
    else:
        envs = [pool.acquire(spec.env_id, spec.kwargs)]
        record["env"] = describe_env(envs[0])
    slots = []
    try:
        for env in envs:
            played = _with_memory(env, spec.memory, policy) if spec.memory is not None else env
            observation, info = played.reset(seed=spec.seed, options=spec.reset_options())
            record["task_id"] = info.get("task_id")
            slots.append(_Slot(record, played, opening(observation), pooled=env, spec=spec,
                               continues_prefix=bool(getattr(policy, "continues_prefix", False))))
    except Exception:
        for env in envs:  # an env that failed to reset is not trusted with the next episode
            pool.discard(env)
        raise
    return slots


def _act(policy: Any, slots: Sequence[_Slot]) -> list[Any]:
    """One batched policy call; if it fails, retry one conversation at a time to isolate failures.

    Returns a reply or the exception per slot.
    """
    conversations = [to_continue(slot.messages, slot.prefix) for slot in slots]
    envs = [slot.env.unwrapped for slot in slots]
    try:
        replies = list(policy.act(conversations, envs=envs))
        if len(replies) != len(slots):
            raise RuntimeError(f"the policy returned {len(replies)} replies for {len(slots)} conversations")
        return replies
    except Exception as err:  # noqa: BLE001 - fall back to per-conversation calls to find the culprit
        if len(slots) == 1:
            return [err]
    results: list[Any] = []
    for conversation, env in zip(conversations, envs, strict=True):
        try:
            (reply,) = policy.act([conversation], envs=[env])
            results.append(reply)
        except Exception as err:  # noqa: BLE001 - recorded as this episode's error
            results.append(err)
    return results


def _step(slot: _Slot, reply: Any) -> float:
    """Apply one reply; returns the seconds the environment took."""
    text = slot.prefix + getattr(reply, "text", reply)
    start = time.perf_counter()
    obs, reward, terminated, truncated, info = slot.env.step(text)
    elapsed = time.perf_counter() - start
    slot.messages = continued(slot.messages, text, obs)
    slot.turns.append({
        "action": text,
        "observation": obs,
        "reward": float(reward),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
        "info": {k: v for k, v in info.items() if k not in _HEAVY_INFO_KEYS},
        "prompt_tokens": getattr(reply, "prompt_tokens", None),
        "completion_tokens": getattr(reply, "completion_tokens", None),
        "continued_prefix": slot.prefix or None,
    })
    slot.done = bool(terminated or truncated)
    slot.prefix = assistant_prefix(info) if slot.continues_prefix and not slot.done else ""
    if info.get("error_kind") == INTERNAL_ERROR:
        message = (info.get("verdict") or {}).get("message") or "the environment's checker failed"
        raise CheckerFailedError(message)
    return elapsed


def _fail(record: dict[str, Any], err: BaseException) -> None:
    if record["error"] is None:
        record["error"] = error_text(err)
        record["traceback"] = "".join(traceback.format_exception(type(err), err, err.__traceback__))[-4000:]


def play_batch(policy: Any, specs: Sequence[EpisodeSpec], pool: EnvPool) -> list[dict[str, Any]]:
    """Play every episode of ``specs`` to its end and return one JSON-ready record per episode.

    All unfinished conversations of a turn go to the policy in one ``act`` call. A failure of one
    episode (environment, step, or the policy on its conversation) is recorded in its ``error``
    field and never stops the others.
    """
    records = [_new_record(spec) for spec in specs]
    slots: list[_Slot] = []
    for spec, record in zip(specs, records, strict=True):
        try:
            slots.extend(_open_slots(spec, record, pool, policy))
        except Exception as err:  # noqa: BLE001 - this episode is an error; the batch goes on
            _fail(record, err)
    broken: set[int] = set()
    while True:
        active = [s for s in slots if not s.done and s.record["error"] is None]
        if not active:
            break
        start = time.perf_counter()
        replies = _act(policy, active)
        share = (time.perf_counter() - start) / len(active)
        for slot, reply in zip(active, replies, strict=True):
            slot.record["policy_s"] += share
            if isinstance(reply, BaseException):
                _fail(slot.record, reply)
                continue
            try:
                slot.record["env_s"] += _step(slot, reply)
                slot.next_trial()
            except Exception as err:  # noqa: BLE001 - recorded; the environment is not reused
                _fail(slot.record, err)
                broken.add(id(slot.env))
    for slot in slots:
        (pool.discard if id(slot.env) in broken else pool.release)(slot.pooled or slot.env)
    by_record: dict[int, list[_Slot]] = {}
    for slot in slots:
        by_record.setdefault(id(slot.record), []).append(slot)
    for spec, record in zip(specs, records, strict=True):
        _finish(spec, record, by_record.get(id(record), []))
    return records


def _finish(spec: EpisodeSpec, record: dict[str, Any], slots: Sequence[_Slot]) -> None:
    """Fill in the transcript and metrics of a record once its slots are done."""
    record["policy_s"] = round(record["policy_s"], 4)
    record["env_s"] = round(record["env_s"], 4)
    if not slots:
        return
    if spec.mode == BEST_OF_N:
        record["samples"] = [
            {"turns": s.turns, "solved": bool(s.turns and s.turns[-1]["info"].get("solved"))} for s in slots
        ]
        record["messages"] = slots[0].messages[:1]
        record["metrics"] = {"n": len(slots), "solved": [s["solved"] for s in record["samples"]],
                             "tokens": _sample_tokens(slots)}
    else:
        (slot,) = slots
        record["turns"] = slot.turns
        record["messages"] = slot.messages
        record["metrics"] = record_metrics(slot.turns) if slot.turns else None
        if slot.trials and record["metrics"] is not None:  # Reflexion: the last trial's metrics, each outcome
            record["trials"] = slot.trials
            record["metrics"]["trials"] = [bool(t["solved"]) for t in slot.trials]
            every_turn = [turn for trial in record.get("earlier_trials", ()) for turn in trial] + slot.turns
            record["metrics"].update(turn_tokens(every_turn))  # tokens count every trial, not only the last


def _sample_tokens(slots: Sequence[_Slot]) -> int | None:
    """The generated tokens of all samples (``None`` unless the policy reported every count)."""
    counts = [turn.get("completion_tokens") for slot in slots for turn in slot.turns]
    return None if not counts or any(c is None for c in counts) else int(sum(counts))


class Worker:
    """A benchmark worker's state: the policy (built once) and its environment pool.

    Used as is by the local process pool (one per process) and wrapped as a Ray actor.
    """

    def __init__(self, policy_spec: str, policy_kwargs: Mapping[str, Any] | None = None) -> None:
        from feedback_gym.agents.policy import make_policy

        self.policy = make_policy(policy_spec, **dict(policy_kwargs or {}))
        self.pool = EnvPool()

    def identity(self) -> dict[str, Any]:
        """The policy's identity, as JSON-ready data."""
        return json.loads(json.dumps({"name": self.policy.name, **self.policy.identity()}, default=str))

    def play(self, specs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Play a batch of episodes given as :meth:`EpisodeSpec.to_dict` dicts."""
        return play_batch(self.policy, [EpisodeSpec.from_dict(s) for s in specs], self.pool)

    def close(self) -> None:
        """Close the environments (and with them their sandboxes)."""
        self.pool.close()
