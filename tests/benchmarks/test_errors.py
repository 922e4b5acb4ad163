"""Errors are never scores: an errored episode counts as not solved and is reported beside the rates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_gym.benchmarks.leaderboard import render_html, render_markdown, run_rows
from feedback_gym.benchmarks.play import EnvPool, play_batch
from feedback_gym.benchmarks.suites import EpisodeSpec
from feedback_gym.sandboxes.base import ExecResult

ROOT = Path(__file__).resolve().parents[2]


class RefusingSandbox:
    """A sandbox that refuses every job, as one does for a user it cannot isolate."""

    name = "refusing"

    def run(self, job) -> ExecResult:
        raise RuntimeError("the sandbox refused the job")

    def run_many(self, jobs):
        return [self.run(job) for job in jobs]

    def close(self) -> None:
        pass


def test_a_step_whose_checker_failed_is_an_error_not_a_zero():
    from feedback_gym.agents.policy import OraclePolicy

    pool = EnvPool()
    try:
        spec = EpisodeSpec("code", "CodeFeedback-v0", {"sandbox": RefusingSandbox(), "max_turns": 2}, 0, 0)
        (record,) = play_batch(OraclePolicy(), [spec], pool)
    finally:
        pool.close()
    assert record["error"].startswith("CheckerFailedError: the checker failed")
    assert "the sandbox refused the job" in record["error"]


def bench(*args, env=None):
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "feedback_gym.cli", "bench", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=300)


def test_a_run_whose_code_episodes_all_errored_does_not_report_100_percent(tmp_path):
    """The measured failure: oracle on quick-v0 with no sandbox printed success@1 100% and exited 0."""
    out = tmp_path / "run"
    no_engine = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}  # nothing listens there
    args = ["--policy", "oracle", "--suite", "quick-v0", "--sandbox", "docker", "--out", str(out),
            "--workers", "1", "--no-progress"]
    proc = bench(*args, env=no_engine)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "--allow-errors" in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    overall = summary["overall"]
    code = summary["envs"]["CodeFeedback-v0[tests]"]
    assert code["errors"] == 6 and code["multi_turn"]["success@k"] == 0.0
    assert code["best_of_n"]["success@n"] == 0.0
    assert overall["errors"] == 21
    # four of seven configurations errored throughout: the oracle solves the other three
    assert overall["success@k"] == pytest.approx(3 / 7) and overall["success@1"] == pytest.approx(3 / 7)
    cause = overall["error_cause"]
    assert cause and cause.startswith("SandboxUnavailableError") and "Docker" in cause
    # the cause is said once, before the numbers
    first = proc.stdout.splitlines()[0]
    assert first.startswith("ERRORS: 21 of 39 episodes ended in an error, all with one cause: Sandbox")
    assert proc.stdout.count(cause) == 1
    assert "success@1 42.9%" in proc.stdout
    board = (out / "leaderboard.md").read_text()
    assert "| unranked: 21 errors | oracle | quick-v0 |" in board
    assert "**Errors.** oracle on quick-v0: 21 of 39" in board
    assert "unranked: 21 errors" in (out / "leaderboard.html").read_text()
    # the same run, allowed: the same numbers, exit 0
    allowed = bench(*args, "--allow-errors", env=no_engine)
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert json.loads((out / "summary.json").read_text())["overall"]["success@k"] == overall["success@k"]


def summary_of(policy, success, errors, cause=None):
    return {"policy": {"spec": policy}, "suite": {"name": "s"}, "envs": {},
            "overall": {"success@k": success, "episodes": 10, "control_episodes": 0, "errors": errors,
                        "error_causes": {cause: errors} if errors else {}}}


def test_a_leaderboard_never_ranks_a_run_with_errors():
    summaries = [summary_of("broken", 0.9, 3, "RuntimeError: boom"), summary_of("a", 0.5, 0),
                 summary_of("b", 0.7, 0)]
    assert [(r["rank"], r["policy"]) for r in run_rows(summaries)] == [
        ("1", "b"), ("2", "a"), ("unranked: 3 errors", "broken")]
    text = render_markdown(summaries)
    assert ("**Errors.** broken on s: 3 of 10 episodes ended in an error, all with one cause: "
            "RuntimeError: boom") in text
    assert "| 1 | b | s |" in text and "| unranked: 3 errors | broken | s |" in text
    page = render_html(summaries)
    assert 'class="errors"' in page and "RuntimeError: boom" in page
