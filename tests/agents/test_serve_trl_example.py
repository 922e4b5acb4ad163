"""examples/serve_trl.py trains with TRL's GRPOTrainer against a served environment (2 steps, tiny model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("openenv.core")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "serve_trl.py"


@pytest.mark.slow
def test_the_example_trains_two_grpo_steps_on_rewards_from_the_server(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--steps", "2", "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rewards = [
        json.loads(line)["rewards"] for line in result.stdout.splitlines() if line.startswith('{"rewards"')
    ]
    assert len(rewards) == 2 and all(len(values) == 4 for values in rewards)  # one call per GRPO step
    assert "trained 2 GRPO steps on Countdown-v0 served at http://127.0.0.1:" in result.stdout
