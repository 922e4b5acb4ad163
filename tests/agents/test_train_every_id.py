"""``feedback-gym train`` on registered ids, through the CLI, one subprocess per id.

The measured failure: ``feedback-gym train --env MathCritique-v0 --model tiny-random --steps 2 --out
OUT`` died in the position embedding (a left-padded batch plus ``max_new_tokens`` ran past the
model's 2048 positions). The sweep job (``pytest -m sweep``) runs that command exactly, with every
default, and the same command on every other id with one task and a group of two per step (the
defaults, 4 tasks x 8 episodes, cost ~20 s a step on 2 cores); the reply budget (256 tokens), turn
budgets and transcript limit stay at their defaults, since they are what can push a sequence past
the context. The default run trains on a fixed sample of ids, MathCritique-v0 among them, with the
small batch and 32-token replies: the CLI's whole path at the smallest size (the context bound
itself is tested in ``test_policies.py`` and ``test_rollout.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_gym.registration import feedback_gym_ids
from tests.sampling import sample, sweep_params

ROOT = Path(__file__).resolve().parents[2]
MEASURED = "MathCritique-v0"
SMALL_BATCH = ["--tasks-per-step", "1", "--group-size", "2"]
SHORT_REPLIES = ["--max-new-tokens", "32"]

#: Ids trained in the default run, with the small batch and 32-token replies.
SAMPLED = [MEASURED, *sample([i for i in feedback_gym_ids() if i != MEASURED], 1, salt="train")]
SHORT = [(env_id, "short") for env_id in SAMPLED]
CASES = [*SHORT, *((env_id, "small") for env_id in feedback_gym_ids()), (MEASURED, "defaults")]


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize(
    ("env_id", "batch"),
    sweep_params(CASES, SHORT, ids=lambda case: "-".join(case)),
)
def test_train_runs_two_steps(tmp_path, env_id, batch):
    out = tmp_path / env_id
    command = ["train", "--env", env_id, "--model", "tiny-random", "--steps", "2", "--out", str(out)]
    command += {"defaults": [], "small": SMALL_BATCH, "short": SMALL_BATCH + SHORT_REPLIES}[batch]
    proc = subprocess.run([sys.executable, "-m", "feedback_gym.cli", *command], cwd=ROOT, capture_output=True,
                          text=True, timeout=1100)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    assert all(m["policy_tokens"] > 0 for m in metrics)  # the policy did reply
    assert (out / "final" / "config.json").exists()
    args = json.loads((out / "args.json").read_text())
    expected = {"defaults": (4, 8, 256), "small": (1, 2, 256), "short": (1, 2, 32)}[batch]
    assert (args["tasks_per_step"], args["group_size"], args["max_new_tokens"]) == expected
