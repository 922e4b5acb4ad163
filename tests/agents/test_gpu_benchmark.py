from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_benchmark_times_both_trainers_on_the_same_task(tmp_path):
    command = [
        sys.executable,
        "-m",
        "feedback_gym.agents.gpu_benchmark",
        "--model",
        "tiny-random",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--steps",
        "2",
        "--tasks-per-step",
        "1",
        "--group-size",
        "2",
        "--max-new-tokens",
        "8",
        "--multi-turn",
        "2",
        "--out",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "benchmark.json").read_text())
    names = [r["trainer"] for r in report["results"]]
    assert names == ["feedback-gym GRPO (1 turn)", "trl GRPOTrainer (1 turn)", "feedback-gym GRPO (2 turns)"]
    for row in report["results"]:
        assert row["seconds_per_step"] > 0 and row["end_to_end_tokens_per_second"] > 0
    assert report["results"][0]["rollout_tokens_per_second"] > 0
    assert report["speedup_seconds_per_step_vs_trl"] > 0


def test_the_benchmark_refuses_a_run_with_nothing_to_time():
    from feedback_gym.agents.gpu_benchmark import main

    with pytest.raises(SystemExit):
        main(["--steps", "1"])
