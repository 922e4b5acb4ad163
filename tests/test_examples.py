"""Every ``examples/*.py`` runs for real with the CI budget and prints the figures it claims to.

Each example is run in a subprocess from an empty folder with ``FEEDBACK_GYM_EXAMPLE_TINY=1`` (a
tiny-random or scripted policy, a couple of tasks) and must report its figures as a JSON object (the
last one it prints); by the contract in ``examples/README.md`` that object's ``example`` is its file
name. The examples are found by a glob, so a new one is run without editing this file; the ones
listed in ``CHECKS`` also have their figures checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
#: Examples that train or serve: they need the trl/serve extras and take a minute or more.
SLOW = {"serve_trl"}


def _fraction(value: Any) -> bool:
    return isinstance(value, int | float) and 0.0 <= value <= 1.0


def _curve(values: list[float], turns: int) -> bool:
    return len(values) == turns and all(map(_fraction, values)) and values == sorted(values)


def _ufo(out: dict, folder: Path) -> None:
    assert (out["episodes"], out["errors"]) == (2, 0) and _curve(out["success_at_turn"], 3)
    assert _fraction(out["mean_return"]) and out["mean_return"] <= out["success_at_turn"][-1]


def _rise(out: dict, folder: Path) -> None:
    for mode in ("binary", "critique"):
        result = out["modes"][mode]
        assert (result["episodes"], result["errors"]) == (2, 0) and _curve(result["success_at_turn"], 2)
    written = (folder / "rise_data.jsonl").read_text().splitlines()
    assert len(written) == out["improving_episodes"]


def _leti_rltf(out: dict, folder: Path) -> None:
    for result in out["modes"].values():
        assert _fraction(result["solve_rate"]) and _fraction(result["mean_return"])
        assert result["solve_rate"] == 1.0 or result["feedback_seen"].startswith("Incorrect")
    assert set(out["modes"]) == {"full", "binary"}


def _coffee_gym(out: dict, folder: Path) -> None:
    assert out["tasks"] == 2 and out["oracle_mean_reward"] > 0  # the oracle's feedback fixes the bugs
    assert -1.0 <= out["mean_reward"] <= 1.0


def _steptool(out: dict, folder: Path) -> None:
    oracle = out["oracle_result"]["components"]
    assert oracle["success"] == 2.0 and oracle["step_reward"] > 0 and oracle["call_cost"] < 0
    assert set(out["policy_result"]["components"]) >= {"success"}


def _alpacafarm(out: dict, folder: Path) -> None:
    for name, rewards in out["rewards"].items():
        assert len(rewards) == 2 and set(rewards) <= {0.0, 0.5, 1.0}
        assert out["win_rate"][name] == sum(rewards) / 2


def _dataenvgym(out: dict, folder: Path) -> None:
    assert out["oracle_result"]["mean_return"] > 0 and out["oracle_result"]["student_final"] == [1.0]
    assert out["teacher_result"]["valid_proposals"] >= 0 and _fraction(out["teacher_result"]["mean_return"])


def _custom_feedback_mode(out: dict, folder: Path) -> None:
    assert out["feedback_kind"] == "step_hint" and out["details"]["status"] in ("step", "no_work", "final")
    assert out["wrong_feedback"].startswith("Incorrect. Check the step where you compute ")
    assert (out["right_feedback"], out["reward"], out["terminated"]) == ("Correct.", 1.0, True)


def _retry_friction(out: dict, folder: Path) -> None:
    assert set(out["modes"]) == {"unary", "reject_previous"}
    assert all(m["episodes"] == 2 and _curve(m["success_at_turn"], 2) for m in out["modes"].values())


def _serve_trl(out: dict, folder: Path) -> None:
    assert out["steps"] == 2 and out["env_id"] == "Countdown-v0" and out["url"].startswith("http://127.0.0.1:")


CHECKS: dict[str, Callable[[dict, Path], None]] = {
    "ufo": _ufo, "rise": _rise, "leti_rltf": _leti_rltf, "coffee_gym": _coffee_gym, "steptool": _steptool,
    "alpacafarm": _alpacafarm, "dataenvgym": _dataenvgym, "custom_feedback_mode": _custom_feedback_mode,
    "retry_friction": _retry_friction, "serve_trl": _serve_trl,
}


def last_json_object(stdout: str) -> dict | None:
    """The last JSON object printed (one line, an indented block, or a line followed by other text)."""
    decoder, found, offset = json.JSONDecoder(), None, 0
    for line in stdout.splitlines(keepends=True):
        start = offset + len(line) - len(line.lstrip())
        if line.lstrip().startswith("{"):
            try:
                value = decoder.raw_decode(stdout, start)[0]
            except ValueError:
                value = None
            if isinstance(value, dict):
                found = value
        offset += len(line)
    return found


def _param(path: Path) -> Any:
    marks = [pytest.mark.slow] if path.stem in SLOW else []
    return pytest.param(path, id=path.stem, marks=marks)


def test_the_examples_are_found() -> None:
    assert {"ufo", "dataenvgym", "alpacafarm", "retry_friction"} <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("path", [_param(p) for p in EXAMPLES])
def test_example_runs_with_the_ci_budget_and_reports(path: Path, tmp_path: Path) -> None:
    if path.stem in SLOW:
        pytest.importorskip("trl")
        pytest.importorskip("openenv.core")
    env = {**os.environ, "FEEDBACK_GYM_EXAMPLE_TINY": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = last_json_object(result.stdout)
    assert report, f"{path.name} printed no JSON report: {result.stdout[-1000:]!r}"
    check = CHECKS.get(path.stem)
    if check is not None:
        assert report["example"] == path.stem, "the last JSON object must be the example's report"
        check(report, tmp_path)
