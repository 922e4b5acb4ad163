"""The retry reward structures: turn discount, repetition penalty, regression penalty."""

from __future__ import annotations

import pytest

from feedback_gym.errors import ConfigError
from feedback_gym.feedback import Attempt
from feedback_gym.rewards import RewardConfig
from feedback_gym.verdict import CheckResult, Verdict

WRONG = Verdict(False, 0.0, parsed="1+2")
RIGHT = Verdict(True, 1.0, parsed="3*8")


def _checks(*passed: bool) -> tuple[CheckResult, ...]:
    return tuple(CheckResult(f"test_{i}", ok) for i, ok in enumerate(passed))


def test_defaults_keep_the_old_components() -> None:
    parts = RewardConfig().components(RIGHT, 3, [Attempt("1+2", WRONG)] * 2, action="3*8")
    assert parts == {"success": 1.0}


@pytest.mark.parametrize(("turn", "expected"), [(1, 1.0), (2, 0.5), (3, 0.25)])
def test_turn_discount_makes_late_success_worth_less(turn: int, expected: float) -> None:
    parts = RewardConfig(turn_discount=0.5).components(RIGHT, turn, [])
    assert sum(parts.values()) == pytest.approx(expected)
    assert parts["success"] == 1.0  # the raw success stays auditable


def test_turn_discount_never_rewards_a_failure() -> None:
    parts = RewardConfig(turn_discount=0.5).components(WRONG, 3, [])
    assert sum(parts.values()) == 0.0


def test_turn_penalty_and_discount_compose() -> None:
    parts = RewardConfig(turn_discount=0.9, turn_penalty=0.1).components(RIGHT, 2, [])
    assert sum(parts.values()) == pytest.approx(0.9 - 0.1)


def test_repetition_penalty_charges_a_repeated_answer_only() -> None:
    config = RewardConfig(repetition_penalty=0.3)
    history = [Attempt("<answer>1 + 2</answer>", WRONG)]
    repeated = config.components(Verdict(False, 0.0, parsed="1 +2"), 2, history, action="x")
    fresh = config.components(Verdict(False, 0.0, parsed="2+1"), 2, history, action="y")
    assert repeated["repetition_penalty"] == -0.3
    assert fresh["repetition_penalty"] == 0.0


def test_repetition_penalty_uses_the_action_when_nothing_was_parsed() -> None:
    config = RewardConfig(repetition_penalty=0.3)
    history = [Attempt("forty two", Verdict(False, 0.0))]
    parts = config.components(Verdict(False, 0.0), 2, history, action="  forty   two ")
    assert parts["repetition_penalty"] == -0.3


def test_regression_penalty_counts_broken_checks_by_name() -> None:
    config = RewardConfig(regression_penalty=1.0)
    before = Verdict(False, 0.75, checks=_checks(True, True, True, False))
    after = Verdict(False, 0.5, checks=_checks(True, False, True, True))  # breaks test_1
    parts = config.components(after, 2, [Attempt("v1", before)])
    assert parts["regression_penalty"] == pytest.approx(-1 / 3)


def test_regression_penalty_is_zero_for_a_pure_improvement() -> None:
    config = RewardConfig(regression_penalty=1.0)
    before = Verdict(False, 0.5, checks=_checks(True, False))
    after = Verdict(True, 1.0, checks=_checks(True, True))
    assert config.components(after, 2, [Attempt("v1", before)])["regression_penalty"] == 0.0


def test_regression_penalty_without_checks_uses_the_score() -> None:
    config = RewardConfig(regression_penalty=1.0)
    parts = config.components(Verdict(False, 0.2), 2, [Attempt("v1", Verdict(False, 0.8))])
    assert parts["regression_penalty"] == pytest.approx(-0.75)


def test_regression_compares_with_the_previous_turn_not_the_best() -> None:
    config = RewardConfig(regression_penalty=1.0)
    history = [Attempt("v1", Verdict(False, 0.5, checks=_checks(True, False))),
               Attempt("v2", Verdict(False, 0.0, checks=_checks(False, False)))]
    parts = config.components(Verdict(False, 0.0, checks=_checks(False, False)), 3, history)
    assert parts["regression_penalty"] == 0.0


def test_coerce_accepts_the_new_fields_by_name() -> None:
    config = RewardConfig.coerce({"turn_discount": 0.8, "repetition_penalty": 0.1, "regression_penalty": 0.2})
    assert (config.turn_discount, config.repetition_penalty, config.regression_penalty) == (0.8, 0.1, 0.2)


@pytest.mark.parametrize(
    "fields",
    [{"turn_discount": 0.0}, {"turn_discount": 1.5}, {"turn_discount": float("nan")},
     {"repetition_penalty": -0.1}, {"regression_penalty": float("inf")}, {"turn_discount": True}],
)
def test_bad_values_are_refused_with_a_clear_error(fields: dict) -> None:
    with pytest.raises(ConfigError):
        RewardConfig(**fields)


def test_unknown_option_lists_the_accepted_ones() -> None:
    with pytest.raises(ConfigError, match="turn_discount"):
        RewardConfig.coerce({"discount": 0.5})
