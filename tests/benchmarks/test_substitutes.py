"""Nothing silently substitutes: a model critic that falls back is an error, or a reported fallback."""

from __future__ import annotations

from feedback_gym.benchmarks.runner import BenchConfig, run_benchmark
from feedback_gym.benchmarks.suites import Suite, SuiteEntry

CRITIC = "python:tests.benchmarks.policies:SilentCritic"


def suite(**options):
    kwargs = {"feedback": "model", "feedback_options": {"critic": CRITIC, **options}, "max_turns": 2}
    return Suite("critic-v0", (SuiteEntry("MathCritique-v0", kwargs, (0, 1), control=False),))


def run(tmp_path, **options):
    config = BenchConfig("python:tests.benchmarks.policies:WrongThenOracle", suite(**options), tmp_path,
                         workers=1, control=False)
    return run_benchmark(config, progress=False)


def test_a_model_critic_that_says_nothing_is_an_error_by_default(tmp_path):
    summary = run(tmp_path)
    overall = summary["overall"]
    assert overall["errors"] == 2 and overall["success@k"] == 0.0
    assert overall["error_cause"].startswith(f"CriticFailedError: the critic model {CRITIC!r} gave no usable")


def test_an_asked_for_fallback_is_counted_in_the_summary_and_shown_on_the_board(tmp_path):
    summary = run(tmp_path, fallback=True)
    # turn 1 is wrong (critiqued: the silent critic falls back), turn 2 solves it (no critique needed)
    share = {"turns": 4, "fell_back": 2, "rate": 0.5}
    assert summary["overall"]["feedback_fallback"] == share
    assert summary["envs"]["MathCritique-v0[model]"]["feedback_fallback"] == share
    assert summary["overall"]["errors"] == 0 and summary["overall"]["success@k"] == 1.0
    board = (tmp_path / "leaderboard.md").read_text()
    assert "**Substituted feedback.**" in board and "on 2 of 4 turns (50.0%)" in board
