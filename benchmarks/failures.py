"""Errored episodes in the numbers: they count as not solved, and their cause is said once.

Substituted feedback (a model critic that fell back to the reference critique) is no error, but it
is said as loudly: :func:`fallback_headline` is the sentence reports print for it.

An episode that ended in an error (an environment that could not be built or reset, a step that
raised, a checker that failed, a policy that crashed) has no honest outcome. Leaving it out of the
rates would let a run whose hard episodes all crashed report the easy ones as its score, so every
success rate here counts it as not solved, and the error count travels beside the rates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

#: Rates (shares of episodes or samples that solved their task) of the multi-turn and control results.
SUCCESS_RATES = ("success@1", "success@k", "solve_rate", "first_turn_accuracy", "turn1_to_final_delta",
                 "success@n", "sample_accuracy")
#: Success curves: one rate per turn.
SUCCESS_CURVES = ("success_curve", "success_at_turn")


def count_errors_as_unsolved(result: Mapping[str, Any] | None, errors: int,
                             horizon: int = 1) -> dict[str, Any] | None:
    """Rescale the success rates of ``result`` (over completed episodes) to all episodes.

    ``result`` aggregates the completed episodes (``result["episodes"]`` of them); each of the
    ``errors`` errored episodes counts as not solved. With no completed episode at all the rates are
    0.0 over the errored ones (a curve of ``horizon`` zeros). Other figures (mean turns, reward,
    friction, tokens) stay over completed episodes: an errored episode has none to report.

    >>> r = count_errors_as_unsolved({"episodes": 3, "success@k": 1.0, "success_curve": [0.5, 1.0]}, 1)
    >>> r["success@k"], r["success_curve"], r["episodes"], r["errors"]
    (0.75, [0.375, 0.75], 3, 1)
    >>> count_errors_as_unsolved(None, 2, horizon=2)["success_curve"]
    [0.0, 0.0]
    >>> count_errors_as_unsolved(None, 0) is None
    True
    """
    if result is None:
        if not errors:
            return None
        empty: dict[str, Any] = {"episodes": 0, "errors": errors}
        empty.update({key: 0.0 for key in SUCCESS_RATES})
        empty.update({key: [0.0] * max(1, horizon) for key in SUCCESS_CURVES})
        return empty
    completed = int(result.get("episodes") or 0)
    share = completed / (completed + errors) if completed + errors else 0.0
    scaled = dict(result)
    for key in SUCCESS_RATES:
        if scaled.get(key) is not None:
            scaled[key] = scaled[key] * share
    for key in SUCCESS_CURVES:
        if scaled.get(key) is not None:
            scaled[key] = [value * share for value in scaled[key]]
    scaled["errors"] = errors
    return scaled


def error_causes(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each distinct error of ``records`` with how many episodes it ended, most frequent first.

    >>> error_causes([{"error": "A: x"}, {"error": None}, {"error": "A: x"}, {"error": "B"}])
    {'A: x': 2, 'B': 1}
    """
    counts = Counter(str(r["error"]) for r in records if r.get("error"))
    return dict(counts.most_common())


def single_cause(causes: Mapping[str, int]) -> str | None:
    """The one cause every errored episode shares, or ``None`` (no errors, or several causes).

    >>> single_cause({"SandboxUnavailableError: no engine": 21}), single_cause({"a": 1, "b": 1})
    ('SandboxUnavailableError: no engine', None)
    """
    return next(iter(causes)) if len(causes) == 1 else None


def errors_headline(errors: int, total: int, causes: Mapping[str, int]) -> str | None:
    """The sentence that goes before a run's numbers when it has errors (``None`` when it has none).

    >>> errors_headline(21, 39, {"SandboxUnavailableError: no engine": 21})
    '21 of 39 episodes ended in an error, all with one cause: SandboxUnavailableError: no engine'
    >>> errors_headline(3, 9, {"a": 2, "b": 1})
    '3 of 9 episodes ended in an error, from several causes; the most frequent (2 episodes): a'
    """
    if not errors:
        return None
    head = f"{errors} of {total} episodes ended in an error"
    cause = single_cause(causes)
    if cause is not None:
        return f"{head}, all with one cause: {cause}"
    top, count = next(iter(causes.items()), ("?", 0))
    return f"{head}, from several causes; the most frequent ({count} episodes): {top}"


def fallback_headline(share: Mapping[str, Any] | None) -> str | None:
    """The sentence for a run whose model critic fell back on some turns (``None`` when it never did).

    >>> fallback_headline({"turns": 8, "fell_back": 2, "rate": 0.25})
    'the model critic fell back to the reference-guided critique on 2 of 8 turns (25.0%)'
    >>> fallback_headline({"turns": 8, "fell_back": 0, "rate": 0.0}) is None
    True
    """
    if not share or not share.get("fell_back"):
        return None
    return (f"the model critic fell back to the reference-guided critique on {share['fell_back']} of "
            f"{share['turns']} turns ({100 * share['rate']:.1f}%)")
