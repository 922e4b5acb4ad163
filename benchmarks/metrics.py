"""Episode metrics computed from transcripts, and their aggregation over a set of episodes.

Every function here is pure: it reads what an episode record already holds (the per-turn ``info``
dicts and the policy's token counts) and returns numbers, so a summary can always be recomputed from
``episodes.jsonl``. The definitions follow the multi-turn literature the suite serves:

- success@k: the share of episodes solved within the first ``k`` turns (k = 1 is first-turn
  accuracy; k = the budget is the final success rate). The curve over k is what the plots show.
- repetition rate: the share of retries whose text repeats an earlier action of the episode.
- feedback-friction rate (Feedback Friction, 2025): the share of retries, i.e. attempts made after
  feedback on a wrong answer, whose *answer* is one already judged wrong in the episode (unchanged
  or repeated). Answers are compared on the verifier's parsed answer when it reports one,
  ignoring whitespace.
- tokens per solved task: all tokens the policy spent, divided by the number of tasks it solved.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_SPACE = re.compile(r"\s+")


def solved_turn(solved: Sequence[bool]) -> int | None:
    """The 1-based turn on which the episode was first solved, or ``None``.

    >>> solved_turn([False, True, True])
    2
    >>> solved_turn([False, False]) is None
    True
    """
    return next((turn for turn, ok in enumerate(solved, start=1) if ok), None)


def normalize_answer(text: object) -> str:
    r"""Collapse whitespace so that re-formatting alone does not count as a new answer.

    >>> normalize_answer("  (1 + 2)\n*  8 ")
    '(1 + 2) * 8'
    """
    return _SPACE.sub(" ", str(text)).strip()


def answer_of(turn: Mapping[str, Any]) -> str:
    """The answer a turn gave, for comparing answers across turns.

    The verifier's parsed answer when it reports one, else the action text; whitespace is dropped
    so that ``3*8`` and ``3 * 8`` count as the same answer.

    >>> answer_of({"action": "I think <answer>3 * 8</answer>", "info": {"verdict": {"parsed": "3 * 8"}}})
    '3*8'
    >>> answer_of({"action": "hello  world", "info": {"verdict": None}})
    'helloworld'
    """
    verdict = (turn.get("info") or {}).get("verdict") or {}
    parsed = verdict.get("parsed") if isinstance(verdict, Mapping) else None
    return _SPACE.sub("", str(parsed if parsed not in (None, "") else turn.get("action", "")))


def repetition_rate(actions: Sequence[str]) -> float | None:
    """The share of actions after the first that repeat an earlier action (``None``: no retry).

    >>> repetition_rate(["a", "b", "a", "a"])
    0.6666666666666666
    >>> repetition_rate(["only one"]) is None
    True
    """
    if len(actions) < 2:
        return None
    return repeats(actions) / (len(actions) - 1)


def repeats(items: Sequence[str]) -> int:
    """How many items equal (after whitespace normalisation) an item before them.

    >>> repeats(["x", "y", "x ", "y"])
    2
    """
    seen: set[str] = set()
    count = 0
    for item in items:
        key = normalize_answer(item)
        count += key in seen
        seen.add(key)
    return count


def friction_events(answers: Sequence[str], solved: Sequence[bool]) -> int:
    """Retries whose answer was already judged wrong earlier in the episode.

    ``answers[i]`` and ``solved[i]`` describe turn ``i + 1``. Every turn after the first followed
    feedback on a wrong answer (a solved episode ends), so each later turn is a retry; it is a
    friction event when its answer is unchanged or repeats any earlier wrong answer.

    >>> friction_events(["12", "12", "15", "12", "24"], [False, False, False, False, True])
    2
    >>> friction_events(["24"], [True])
    0
    """
    wrong: set[str] = set()
    count = 0
    for index, (answer, ok) in enumerate(zip(answers, solved, strict=True)):
        if index > 0 and answer in wrong:
            count += 1
        if not ok:
            wrong.add(answer)
    return count


def episode_metrics(turns: Sequence[Mapping[str, Any]], max_turns: int | None = None) -> dict[str, Any]:
    """Per-episode metrics from its turn records (``{"action", "reward", "info", *_tokens}``).

    >>> turns = [
    ...     {"action": "<answer>1+2</answer>", "reward": 0.0, "completion_tokens": 5,
    ...      "info": {"solved": False, "verdict": {"parsed": "1+2"}, "max_turns": 3}},
    ...     {"action": "<answer>1 + 2</answer>", "reward": 0.0, "completion_tokens": 6,
    ...      "info": {"solved": False, "verdict": {"parsed": "1 + 2"}, "max_turns": 3}},
    ...     {"action": "<answer>3*8</answer>", "reward": 1.0, "completion_tokens": 4,
    ...      "info": {"solved": True, "verdict": {"parsed": "3*8"}, "max_turns": 3}},
    ... ]
    >>> m = episode_metrics(turns)
    >>> m["solved"], m["solved_turn"], m["turns"], m["retries"], m["friction_events"], m["return"]
    (True, 3, 3, 2, 1, 1.0)
    >>> m["completion_tokens"], m["prompt_tokens"]
    (15, None)
    """
    solved = [bool((t.get("info") or {}).get("solved")) for t in turns]
    answers = [answer_of(t) for t in turns]
    actions = [str(t.get("action", "")) for t in turns]
    if max_turns is None:
        max_turns = next(((t.get("info") or {}).get("max_turns") for t in turns), None)
    first = solved_turn(solved)
    return {
        "solved": first is not None,
        "solved_turn": first,
        "turns": len(turns),
        "max_turns": max_turns,
        "return": float(sum(float(t.get("reward", 0.0)) for t in turns)),
        "retries": max(len(turns) - 1, 0),
        "repeats": repeats(actions),
        "friction_events": friction_events(answers, solved),
        "prompt_tokens": _token_sum(turns, "prompt_tokens"),
        "completion_tokens": _token_sum(turns, "completion_tokens"),
    }


def _token_sum(turns: Sequence[Mapping[str, Any]], key: str) -> int | None:
    values = [t.get(key) for t in turns]
    if not values or any(v is None for v in values):
        return None
    return int(sum(values))


def success_curve(solved_turns: Sequence[int | None], max_turns: int) -> list[float]:
    """success@k for k = 1..max_turns: the share of episodes solved within k turns.

    >>> success_curve([1, 2, None, 3], 3)
    [0.25, 0.5, 0.75]
    >>> success_curve([], 2)
    [0.0, 0.0]
    """
    n = len(solved_turns)
    if n == 0:
        return [0.0] * max_turns
    return [sum(1 for t in solved_turns if t is not None and t <= k) / n for k in range(1, max_turns + 1)]


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not ``None`` (``None`` when there are none).

    >>> mean([1, None, 2])
    1.5
    >>> mean([None]) is None
    True
    """
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when the denominator is 0.

    >>> ratio(1, 4), ratio(3, 0)
    (0.25, None)
    """
    return numerator / denominator if denominator else None


def aggregate_multi_turn(metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate the :func:`episode_metrics` of a set of multi-turn episodes (one env config).

    Rates over retries (repetition, friction) are pooled: total events over total retries, so long
    episodes weigh in proportion to the retries they contain.

    >>> a = {"solved": True, "solved_turn": 1, "turns": 1, "max_turns": 2, "return": 1.0, "retries": 0,
    ...      "repeats": 0, "friction_events": 0, "prompt_tokens": 10, "completion_tokens": 5}
    >>> b = {"solved": False, "solved_turn": None, "turns": 2, "max_turns": 2, "return": 0.0, "retries": 1,
    ...      "repeats": 1, "friction_events": 1, "prompt_tokens": 30, "completion_tokens": 10}
    >>> s = aggregate_multi_turn([a, b])
    >>> s["success@1"], s["success@k"], s["success_curve"], s["friction_rate"], s["mean_turns"]
    (0.5, 0.5, [0.5, 0.5], 1.0, 1.5)
    >>> s["tokens"], s["tokens_per_solved"]
    (55, 55.0)
    """
    n = len(metrics)
    max_turns = max((int(m["max_turns"]) for m in metrics if m.get("max_turns")), default=1)
    curve = success_curve([m["solved_turn"] for m in metrics], max_turns)
    solved = sum(bool(m["solved"]) for m in metrics)
    retries = sum(int(m["retries"]) for m in metrics)
    tokens = _total_tokens(metrics)
    return {
        "episodes": n,
        "max_turns": max_turns,
        "success@1": curve[0] if n else None,
        "success@k": solved / n if n else None,
        "success_curve": curve,
        "mean_turns": mean(m["turns"] for m in metrics),
        "mean_turns_to_solve": mean(m["solved_turn"] for m in metrics),
        "mean_reward": mean(m["return"] for m in metrics),
        "repetition_rate": ratio(sum(int(m["repeats"]) for m in metrics), retries),
        "friction_rate": ratio(sum(int(m["friction_events"]) for m in metrics), retries),
        "tokens": tokens,
        "tokens_per_episode": ratio(tokens, n) if tokens is not None else None,
        "tokens_per_solved": ratio(tokens, solved) if tokens is not None else None,
    }


def _total_tokens(metrics: Sequence[Mapping[str, Any]]) -> int | None:
    totals = []
    for m in metrics:
        parts = [m.get("prompt_tokens"), m.get("completion_tokens")]
        if all(p is None for p in parts):
            return None
        totals.append(sum(p for p in parts if p is not None))
    return int(sum(totals)) if totals else None


def aggregate_best_of_n(samples_solved: Sequence[Sequence[bool]]) -> dict[str, Any]:
    """Aggregate best-of-n single-turn controls: one list of per-sample outcomes per task.

    ``success@n`` is the share of tasks where any of the n samples solved it; ``sample_accuracy``
    the share of all samples that solved their task (single-turn accuracy).

    >>> s = aggregate_best_of_n([[False, True, False], [False, False, False]])
    >>> s["success@n"], s["n"], round(s["sample_accuracy"], 3)
    (0.5, 3, 0.167)
    """
    tasks = len(samples_solved)
    total = sum(len(s) for s in samples_solved)
    return {
        "episodes": tasks,
        "n": max((len(s) for s in samples_solved), default=0),
        "success@n": ratio(sum(any(s) for s in samples_solved), tasks),
        "sample_accuracy": ratio(sum(sum(s) for s in samples_solved), total),
    }


def macro_average(values: Iterable[float | None]) -> float | None:
    """The unweighted mean over environment configurations (each counts once), ignoring gaps.

    >>> macro_average([0.5, None, 1.0])
    0.75
    """
    result = mean(values)
    return None if result is None or math.isnan(result) else result
