"""Per-episode metrics and their aggregation (the functions the benchmark runner also uses)."""

from __future__ import annotations

import pytest

from feedback_gym.metrics import (
    TurnRecord,
    aggregate_metrics,
    episode_metrics,
    feedback_turns,
    friction_events,
    record_turn,
    repetitions,
    tokens_per_solved,
    with_tokens,
)
from feedback_gym.verdict import CheckResult, Verdict


def _wrong(answer: str | None, **kw: object) -> TurnRecord:
    return TurnRecord(answer, False, **kw)  # type: ignore[arg-type]


def test_success_curve_first_turn_and_turns_to_solve() -> None:
    m = episode_metrics([_wrong("a"), _wrong("b"), TurnRecord("c", True, 1.0)], max_turns=5)
    assert m["success_at_turn"] == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert m["turns_to_solve"] == 3 and m["solved"] and not m["first_turn_solved"]


def test_all_wrong_episode_has_a_flat_zero_curve() -> None:
    m = episode_metrics([_wrong("a"), _wrong("b"), _wrong("c")], max_turns=3)
    assert m["success_at_turn"] == [0.0, 0.0, 0.0]
    assert m["turns_to_solve"] is None and not m["solved"]


def test_repetition_counts_any_earlier_answer_not_just_the_previous() -> None:
    turns = [_wrong("a"), _wrong("b"), _wrong("a"), _wrong("b"), _wrong(None), _wrong(None)]
    assert repetitions(turns) == 2
    assert episode_metrics(turns, 6)["repetition_rate"] == pytest.approx(2 / 5)


def test_friction_needs_feedback_to_have_been_given() -> None:
    silent = [_wrong("a", feedback_given=False), _wrong("a", feedback_given=False), _wrong("a")]
    assert friction_events(silent) == 0 and feedback_turns(silent) == 0
    assert episode_metrics(silent, 3)["friction_rate"] is None
    assert repetitions(silent) == 2  # the answer still repeated


def test_friction_counts_unchanged_and_returned_to_answers() -> None:
    turns = [_wrong("a"), _wrong("a"), _wrong("b"), _wrong("a"), _wrong("c")]
    assert friction_events(turns) == 2
    assert episode_metrics(turns, 5)["friction_rate"] == pytest.approx(2 / 4)


def test_regressions_by_check_name() -> None:
    v1 = record_turn("v1", Verdict(False, 0.5, checks=(CheckResult("t1", True), CheckResult("t2", False))))
    v2 = record_turn("v2", Verdict(False, 0.5, checks=(CheckResult("t1", False), CheckResult("t2", True))))
    v3 = record_turn("v3", Verdict(True, 1.0, checks=(CheckResult("t1", True), CheckResult("t2", True))))
    m = episode_metrics([v1, v2, v3], 3)
    assert m["regressions"] == 1 and m["regression_rate"] == 0.5


def test_tokens_come_from_the_policy_per_turn() -> None:
    turns = [_wrong("a"), TurnRecord("b", True, 1.0)]
    assert episode_metrics(turns, 2)["tokens"] is None
    assert episode_metrics(turns, 2, tokens=[30, 12])["tokens"] == 42
    assert with_tokens(episode_metrics(turns, 2), [5, 5])["tokens"] == 10
    with pytest.raises(ValueError, match="one"):
        episode_metrics(turns, 2, tokens=[1])


def test_tokens_per_solved_counts_failed_episodes_cost() -> None:
    assert tokens_per_solved([100, 50, 50], [True, False, False]) == 200.0
    assert tokens_per_solved([100, None], [True, True]) is None
    assert tokens_per_solved([100], [False]) is None


def test_aggregate_pools_rates_and_extends_short_curves() -> None:
    short = episode_metrics([TurnRecord("x", True, 1.0)], max_turns=1)
    long = episode_metrics([_wrong("a"), _wrong("a"), TurnRecord("b", True, 1.0)], max_turns=4)
    agg = aggregate_metrics([short, long])
    assert agg["success_at_turn"] == [0.5, 0.5, 1.0, 1.0]
    assert agg["first_turn_accuracy"] == 0.5 and agg["solve_rate"] == 1.0
    assert agg["turn1_to_final_delta"] == 0.5
    assert agg["mean_turns_to_solve"] == 2.0
    assert agg["friction_rate"] == 0.5 and agg["repetition_rate"] == 0.5
    assert aggregate_metrics([]) == {"episodes": 0}


def test_records_rebuilt_from_info_give_the_same_metrics_as_the_env() -> None:
    import gymnasium as gym

    import feedback_gym  # noqa: F401
    from feedback_gym.metrics import record_from_info

    env = gym.make("Countdown-v0", feedback="unary", max_turns=4)
    env.reset(seed=3)
    actions = ["<answer>1 + 1</answer>", "<answer>1+1</answer>", "<answer>2 * 2</answer>",
               env.unwrapped.oracle_action()]
    records = []
    for action in actions:
        *_, info = env.step(action)
        records.append(record_from_info(action, info))
    assert episode_metrics(records, 4) == info["episode_metrics"]
