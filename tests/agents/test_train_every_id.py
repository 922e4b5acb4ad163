"""``feedback-gym train`` on every registered id, through the CLI, in one subprocess.

The measured failure: ``feedback-gym train --env MathCritique-v0 --model tiny-random --steps 2 --out
OUT`` died in the position embedding (a left-padded batch plus ``max_new_tokens`` ran past the
model's 2048 positions). That command runs here exactly, with every default. The other ids run the
same command with one task and a group of two per step (the defaults, 4 tasks x 8 episodes, cost
~20 s a step on 2 cores); the reply budget (256 tokens), turn budgets and transcript limit stay at
their defaults, since they are what can push a sequence past the context.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_gym.registration import feedback_gym_ids

ROOT = Path(__file__).resolve().parents[2]
MEASURED = "MathCritique-v0"
SMALL_BATCH = ["--tasks-per-step", "1", "--group-size", "2"]

SCRIPT = """
import contextlib, io, json, sys, time, traceback
from feedback_gym.cli import main

results = {}
for env_id, out, extra in json.loads(sys.argv[1]):
    args = ["train", "--env", env_id, "--model", "tiny-random", "--steps", "2", "--out", out, *extra]
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            results[env_id] = {"code": main(args)}
    except BaseException as err:  # noqa: BLE001 - reported per id, the loop goes on
        results[env_id] = {"code": None, "error": "".join(traceback.format_exception(err))[-3000:]}
    results[env_id]["seconds"] = round(time.perf_counter() - started, 1)
print("RESULTS " + json.dumps(results))
"""


@pytest.mark.slow
def test_train_runs_two_steps_on_every_registered_id(tmp_path):
    runs = [(env_id, str(tmp_path / env_id), [] if env_id == MEASURED else SMALL_BATCH)
            for env_id in feedback_gym_ids()]
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(runs)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0 and "RESULTS " in proc.stdout, proc.stderr[-3000:]
    results = json.loads(proc.stdout.split("RESULTS ", 1)[1])
    failed = {env_id: r.get("error") for env_id, r in results.items() if r["code"] != 0}
    assert not failed, "\n".join(f"{env_id}:\n{error}" for env_id, error in failed.items())
    assert sorted(results) == sorted(feedback_gym_ids())
    for env_id, _, _ in runs:
        out = tmp_path / env_id
        metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        assert [m["step"] for m in metrics] == [1, 2], env_id
        assert all(m["policy_tokens"] > 0 for m in metrics), env_id  # the policy did reply
        assert (out / "final" / "config.json").exists(), env_id
    defaults = json.loads((tmp_path / MEASURED / "args.json").read_text())
    assert (defaults["tasks_per_step"], defaults["group_size"], defaults["max_new_tokens"]) == (4, 8, 256)
