"""The ``feedback-gym`` command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import subprocess
import sys

import feedback_gym


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedback_gym.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )


def test_version_and_list() -> None:
    assert _cli("version").stdout.strip() == feedback_gym.__version__
    listing = _cli("list").stdout
    for env_id in feedback_gym.registered_ids():
        assert env_id in listing


def test_play_a_wrong_then_the_oracle_answer() -> None:
    result = _cli("play", "Countdown-v0", "--seed", "3", stdin="<answer>1</answer>\n.\n:oracle\n.\n")
    assert result.returncode == 0, result.stderr
    assert "checks passed" in result.stdout
    assert "episode over (solved)" in result.stdout


def test_play_ends_cleanly_on_end_of_input() -> None:
    result = _cli("play", "Countdown-v0", "--kwarg", "max_turns=2", stdin="")
    assert result.returncode == 0 and "end of input" in result.stdout


def test_unknown_env_is_an_error_not_a_traceback_loop() -> None:
    result = _cli("play", "NoSuchEnv-v0", stdin="")
    assert result.returncode != 0 and "NoSuchEnv" in result.stderr
