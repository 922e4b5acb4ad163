"""Per-episode metrics of multi-turn feedback episodes, and their aggregation over many episodes.

The environments put :func:`episode_metrics` into ``info["episode_metrics"]`` when an episode ends
(and :func:`running_counters` into ``info["counters"]`` on every step); the benchmark runner
aggregates them with :func:`aggregate_metrics`. Both use these same pure functions, so a figure on
the leaderboard means exactly what the docstrings here say.

An episode is a sequence of :class:`TurnRecord` (one per action). Token counts are not known to an
environment: a policy reports them (``Reply.completion_tokens``) to whoever drives the episode, who
passes them per turn to :func:`episode_metrics` (``tokens=``) or adds them afterwards with
:func:`with_tokens`.

Definitions (turn numbers start at 1):

- ``success_at_turn[k-1]``: 1.0 if the episode was solved on turn k or earlier (the success@turn-k
  curve; averaged over episodes it is the share solved within k turns).
- ``first_turn_solved`` / ``turns_to_solve``: solved on turn 1 / the turn it was solved on.
- ``repetitions``: turns after the first whose answer equals an answer given earlier in the episode;
  ``repetition_rate`` = repetitions / retries, where retries = turns after the first.
- ``friction_events``: turns that follow feedback on a wrong answer and either leave the answer
  unchanged or go back to an earlier wrong answer (Feedback Friction); ``friction_rate`` =
  friction events / turns that followed feedback. With ``feedback="none"`` no feedback is given,
  so there are no such turns.
- ``regressions``: turns that break some of what the previous turn got right (passing checks that
  now fail, or a lower score when there are no named checks).
- ``tokens``: the policy's tokens over the episode (``None`` unless every turn's count is known);
  aggregated as ``tokens_per_solved`` = all tokens spent / tasks solved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedback_gym.feedback import answer_key
from feedback_gym.rewards import lost_fraction
from feedback_gym.verdict import Verdict


@dataclass(frozen=True)
class TurnRecord:
    """What the metrics need to know about one turn.

    Attributes:
        answer: The normalised answer (:func:`~feedback_gym.feedback.answer_key`), ``None`` if empty.
        solved: The turn solved the task.
        score: The verdict's score in [0, 1].
        feedback_given: Feedback on this turn's answer was shown to the agent (false in ``none``
            mode, and when the agent gave up).
        passed_checks: Names of the checks that passed on this turn.
        tokens: The policy's token count for this turn, when known.
    """

    answer: str | None
    solved: bool
    score: float = 0.0
    feedback_given: bool = True
    passed_checks: frozenset[str] = frozenset()
    tokens: int | None = None


def record_turn(
    action: str, verdict: Verdict, *, feedback_given: bool = True, tokens: int | None = None
) -> TurnRecord:
    """Build the :class:`TurnRecord` of one judged action.

    >>> record_turn("<answer>3*8</answer>", Verdict(True, 1.0, parsed="3*8")).answer
    '3*8'
    """
    return TurnRecord(
        answer=answer_key(action, verdict),
        solved=verdict.solved,
        score=verdict.score,
        feedback_given=feedback_given,
        passed_checks=frozenset(c.name for c in verdict.checks if c.passed),
        tokens=tokens,
    )


def record_from_info(action: str, info: Mapping[str, Any], tokens: int | None = None) -> TurnRecord:
    """Build a :class:`TurnRecord` from a step's ``info`` (for drivers that keep transcripts).

    Reads ``solved``, ``score``, ``feedback_kind`` and the public ``verdict`` (parsed answer and
    check names) that every feedback-gym env reports.

    >>> info = {"solved": False, "score": 0.5, "feedback_kind": "unary",
    ...         "verdict": {"parsed": "1 + 2", "checks": [{"name": "t1", "passed": True}]}}
    >>> r = record_from_info("<answer>1 + 2</answer>", info, tokens=12)
    >>> r.answer, r.passed_checks, r.feedback_given, r.tokens
    ('1+2', frozenset({'t1'}), True, 12)
    """
    public = info.get("verdict") if isinstance(info.get("verdict"), Mapping) else {}
    parsed = public.get("parsed")
    passed = [c.get("name") for c in public.get("checks") or () if isinstance(c, Mapping) and c.get("passed")]
    return TurnRecord(
        answer=answer_key(action, Verdict(False, 0.0, parsed=parsed if isinstance(parsed, str) else None)),
        solved=bool(info.get("solved")),
        score=float(info.get("score") or 0.0),
        feedback_given=info.get("feedback_kind") != "none" and info.get("error_kind") != "gave_up",
        passed_checks=frozenset(str(name) for name in passed),
        tokens=tokens,
    )


def turns_to_solve(turns: Sequence[TurnRecord]) -> int | None:
    """The turn (1-based) that solved the task, or ``None`` if none did.

    >>> turns_to_solve([TurnRecord("a", False), TurnRecord("b", True)])
    2
    >>> turns_to_solve([TurnRecord("a", False)]) is None
    True
    """
    return next((i for i, turn in enumerate(turns, start=1) if turn.solved), None)


def success_at_turn(turns: Sequence[TurnRecord], max_turns: int) -> list[float]:
    """The success@turn-k curve of one episode, for k = 1..max_turns.

    >>> success_at_turn([TurnRecord("a", False), TurnRecord("b", True)], 4)
    [0.0, 1.0, 1.0, 1.0]
    """
    solved_on = turns_to_solve(turns)
    return [1.0 if solved_on is not None and solved_on <= k else 0.0 for k in range(1, max_turns + 1)]


def repetitions(turns: Sequence[TurnRecord]) -> int:
    """Turns whose answer equals an answer given earlier in the episode.

    >>> repetitions([TurnRecord("a", False), TurnRecord("b", False), TurnRecord("a", False)])
    1
    >>> repetitions([TurnRecord(None, False), TurnRecord(None, False)])
    0
    """
    seen: set[str] = set()
    count = 0
    for turn in turns:
        if turn.answer is not None:
            count += turn.answer in seen
            seen.add(turn.answer)
    return count


def feedback_turns(turns: Sequence[TurnRecord]) -> int:
    """Turns that came after feedback on a wrong answer (the chances to act on feedback).

    >>> feedback_turns([TurnRecord("a", False), TurnRecord("b", False), TurnRecord("c", True)])
    2
    >>> feedback_turns([TurnRecord("a", False, feedback_given=False), TurnRecord("b", True)])
    0
    """
    return sum(1 for before in turns[:-1] if before.feedback_given and not before.solved)


def friction_events(turns: Sequence[TurnRecord]) -> int:
    """Turns after feedback whose answer is unchanged or an earlier wrong answer given again.

    >>> friction_events([TurnRecord("a", False), TurnRecord("a", False),
    ...                  TurnRecord("b", False), TurnRecord("a", False), TurnRecord("c", True)])
    2
    """
    count = 0
    wrong: set[str] = set()
    for before, turn in zip(turns, turns[1:], strict=False):
        if before.answer is not None and not before.solved:
            wrong.add(before.answer)
        if before.feedback_given and not before.solved and turn.answer is not None:
            count += turn.answer in wrong
    return count


def regressions(turns: Sequence[TurnRecord]) -> int:
    """Turns that break part of what the previous turn got right (see :func:`lost_fraction`).

    >>> regressions([TurnRecord("a", False, 0.5, passed_checks=frozenset({"t1"})),
    ...              TurnRecord("b", False, 0.5, passed_checks=frozenset({"t2"}))])
    1
    """
    return sum(
        lost_fraction(before.passed_checks, turn.passed_checks, before.score, turn.score) > 0
        for before, turn in zip(turns, turns[1:], strict=False)
    )


def episode_tokens(token_counts: Iterable[int | None]) -> int | None:
    """The tokens an episode cost, or ``None`` when any turn's count is unknown.

    >>> episode_tokens([120, 80]), episode_tokens([120, None]), episode_tokens([])
    (200, None, None)
    """
    counts = list(token_counts)
    if not counts or any(c is None for c in counts):
        return None
    return int(sum(counts))  # type: ignore[arg-type]


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def running_counters(turns: Sequence[TurnRecord]) -> dict[str, int]:
    """The counts of an episode so far (for ``info["counters"]`` on every step).

    >>> running_counters([TurnRecord("a", False), TurnRecord("a", False)])
    {'turns': 2, 'repetitions': 1, 'friction_events': 1, 'feedback_turns': 1, 'regressions': 0}
    """
    return {
        "turns": len(turns),
        "repetitions": repetitions(turns),
        "friction_events": friction_events(turns),
        "feedback_turns": feedback_turns(turns),
        "regressions": regressions(turns),
    }


def episode_metrics(
    turns: Sequence[TurnRecord], max_turns: int, tokens: Sequence[int | None] | None = None
) -> dict[str, Any]:
    """All metrics of one finished episode, as a JSON-friendly dict.

    ``tokens`` (one count per turn) overrides the counts in the records.

    >>> m = episode_metrics([TurnRecord("7", False, 0.0), TurnRecord("7", False, 0.0),
    ...                      TurnRecord("9", True, 1.0)], max_turns=4, tokens=[50, 40, 30])
    >>> m["success_at_turn"], m["turns_to_solve"], m["friction_rate"], m["tokens"]
    ([0.0, 0.0, 1.0, 1.0], 3, 0.5, 120)
    """
    if tokens is not None and len(tokens) != len(turns):
        raise ValueError(f"tokens must have one count per turn ({len(turns)}); got {len(tokens)}")
    counts = tokens if tokens is not None else [turn.tokens for turn in turns]
    counters = running_counters(turns)
    retries = max(0, len(turns) - 1)
    solved_on = turns_to_solve(turns)
    scores = [turn.score for turn in turns]
    return {
        **counters,
        "max_turns": max_turns,
        "solved": solved_on is not None,
        "turns_to_solve": solved_on,
        "first_turn_solved": bool(turns) and turns[0].solved,
        "success_at_turn": success_at_turn(turns, max_turns),
        "first_score": scores[0] if scores else 0.0,
        "final_score": scores[-1] if scores else 0.0,
        "best_score": max(scores, default=0.0),
        "retries": retries,
        "repetition_rate": _rate(counters["repetitions"], retries),
        "friction_rate": _rate(counters["friction_events"], counters["feedback_turns"]),
        "regression_rate": _rate(counters["regressions"], retries),
        "tokens": episode_tokens(counts),
    }


def with_tokens(metrics: Mapping[str, Any], token_counts: Sequence[int | None]) -> dict[str, Any]:
    """A copy of an episode's metrics with the policy's per-turn token counts filled in.

    This is how a driver that knows the token counts (the benchmark runner, a trainer) adds them
    to the ``info["episode_metrics"]`` an environment produced without them.

    >>> with_tokens({"turns": 2, "tokens": None}, [10, 20])["tokens"]
    30
    """
    if len(token_counts) != metrics["turns"]:
        raise ValueError(f"need one token count per turn ({metrics['turns']}); got {len(token_counts)}")
    return {**metrics, "tokens": episode_tokens(token_counts)}


def tokens_per_solved(tokens: Sequence[int | None], solved: Sequence[bool]) -> float | None:
    """All tokens spent over all episodes (failed ones included) per task solved.

    ``None`` when some episode's count is unknown or nothing was solved.

    >>> tokens_per_solved([100, 300, 200], [True, False, True])
    300.0
    """
    if not solved or any(t is None for t in tokens) or not any(solved):
        return None
    return sum(tokens) / sum(solved)  # type: ignore[arg-type]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate_metrics(episodes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate :func:`episode_metrics` dicts over many episodes.

    Rates over turns are pooled (total events / total opportunities), so long episodes weigh
    more; the success curve is extended to the longest budget (a solved episode stays solved).

    >>> a = episode_metrics([TurnRecord("1", True, 1.0)], 2, tokens=[10])
    >>> b = episode_metrics([TurnRecord("1", False), TurnRecord("1", False)], 2, tokens=[10, 10])
    >>> agg = aggregate_metrics([a, b])
    >>> agg["success_at_turn"], agg["first_turn_accuracy"], agg["friction_rate"], agg["tokens_per_solved"]
    ([0.5, 0.5], 0.5, 1.0, 30.0)
    """
    if not episodes:
        return {"episodes": 0}
    horizon = max(len(e["success_at_turn"]) for e in episodes)
    curves = [
        list(e["success_at_turn"]) + [e["success_at_turn"][-1] if e["success_at_turn"] else 0.0]
        * (horizon - len(e["success_at_turn"]))
        for e in episodes
    ]
    solved = [bool(e["solved"]) for e in episodes]
    first = [bool(e["first_turn_solved"]) for e in episodes]
    total = {key: sum(e[key] for e in episodes)
             for key in ("retries", "repetitions", "friction_events", "feedback_turns", "regressions")}
    solve_rate = sum(solved) / len(episodes)
    first_turn_accuracy = sum(first) / len(episodes)
    return {
        "episodes": len(episodes),
        "solve_rate": solve_rate,
        "first_turn_accuracy": first_turn_accuracy,
        "turn1_to_final_delta": solve_rate - first_turn_accuracy,
        "success_at_turn": [sum(c[k] for c in curves) / len(curves) for k in range(horizon)],
        "mean_turns_to_solve": _mean([e["turns_to_solve"] for e in episodes if e["solved"]]),
        "mean_turns": sum(e["turns"] for e in episodes) / len(episodes),
        "repetition_rate": _rate(total["repetitions"], total["retries"]),
        "friction_rate": _rate(total["friction_events"], total["feedback_turns"]),
        "regression_rate": _rate(total["regressions"], total["retries"]),
        "tokens_per_solved": tokens_per_solved([e.get("tokens") for e in episodes], solved),
        **{f"total_{key}": value for key, value in total.items()},
    }
