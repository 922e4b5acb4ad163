"""``feedback-gym bench`` on every registered id, through the CLI: one episode per id, one invocation.

The oracle must solve every id's episode (the runner reports what happened, end to end), and the
tiny random model must play every id without an error (its replies are junk, so this walks each
env's feedback path for unreadable actions through the real worker, policy and sandbox). The default
run plays the tiny model on one id of each family (a fixed sample) with 32-token replies; the sweep
job (``pytest -m sweep``) plays it on every id with its default reply budget.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_gym.registration import feedback_gym_ids
from tests.sampling import id_family, sample_per_group

ROOT = Path(__file__).resolve().parents[2]


def every_id_suite(path: Path, ids: list[str]) -> Path:
    entries = [{"env_id": env_id, "tasks": [0], "control": False} for env_id in ids]
    path.write_text(json.dumps({"name": "every-id", "entries": entries}))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "scope"),
    [
        ("oracle", "every"),
        ("tiny-random", "sample"),
        pytest.param("tiny-random", "every", marks=pytest.mark.sweep),
    ],
)
def test_bench_plays_one_episode_of_every_registered_id(tmp_path, policy, scope):
    ids = feedback_gym_ids()
    options = ["--policy", policy]
    if scope == "sample":
        ids = sample_per_group(ids, 1, group=id_family, salt="bench-every-id")
        options += ["--policy-kwarg", "max_new_tokens=32"]
    suite = every_id_suite(tmp_path / "suite.json", ids)
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "feedback_gym.cli", "bench", *options, "--suite", str(suite),
         "--out", str(out), "--no-progress"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["errors"] == 0 and summary["overall"]["episodes"] == len(ids)
    assert sorted(e["env_id"] for e in summary["envs"].values()) == sorted(ids)
    if policy == "oracle":
        unsolved = [label for label, env in summary["envs"].items() if env["multi_turn"]["success@k"] != 1.0]
        assert not unsolved
