"""The ``feedback-gym`` command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import feedback_gym


def _cli(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedback_gym.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
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


BAD_ARGUMENTS = {
    "unknown experiment": (["experiment", "learns-v9"], "accepted: learns-v0"),
    "unknown scale setting": (["experiment", "learns-v0", "--set", "stepz=2"], "accepted: steps"),
    "a wrongly typed setting": (["experiment", "learns-v0", "--set", "steps=abc"], "steps must be an int"),
    "a setting twice": (["experiment", "learns-v0", "--steps", "2", "--set", "steps=3"], "give it once"),
    "unknown arm": (["experiment", "learns-v0", "--arm", "nope"], "accepted: grpo"),
    "unknown env to train on": (["train", "--env", "NoSuchEnv-v0"], "feedback-gym list"),
    "bad trainer setting": (["train", "--steps", "0"], "steps must be an int >= 1"),
    "unknown env to play": (["play", "NoSuchEnv-v0"], "NoSuchEnv"),
    "unknown device to train on": (["train", "--device", "tpu"], "accepted: auto, cpu, cuda"),
    "unknown device to experiment on": (["experiment", "learns-v0", "--device", "tpu"], "auto, cpu"),
    "no threads": (["experiment", "learns-v0", "--threads", "0"], "--threads must be an int >= 1"),
    "a report of nothing": (["experiment", "learns-v0", "--report-only"], "run the experiment first"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_a_bad_argument_is_one_error_line_not_a_traceback(tmp_path, case: str) -> None:
    # Every subcommand: exit 2, "feedback-gym CMD: error: ..." naming what is accepted, nothing written.
    argv, expected = BAD_ARGUMENTS[case]
    if argv[0] in ("experiment", "train"):
        argv = [*argv, "--out", str(tmp_path / "out")]
    result = _cli(*argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert f"feedback-gym {argv[0]}: error:" in result.stderr and expected in result.stderr, result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
