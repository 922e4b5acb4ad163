"""The Ray backend against a real local Ray cluster that this module starts and stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_gym.benchmarks.runner import BenchConfig, run_benchmark
from feedback_gym.benchmarks.suites import Suite, SuiteEntry

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SUITE = Suite("ray-t-v0", (
    SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 2}, (0, 1, 2, 3, 4)),
))


@pytest.fixture(scope="module")
def cluster():
    """A 2-CPU Ray cluster on this machine; workers can import the test policies."""
    assert not ray.is_initialized()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), old) if p)
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def test_ray_actors_play_the_suite_and_leave_the_callers_cluster_running(cluster, tmp_path):
    config = BenchConfig("oracle", SUITE, tmp_path, backend="ray", workers=2, batch_size=2)
    summary = run_benchmark(config, progress=False)
    assert summary["overall"]["success@k"] == 1.0 and summary["overall"]["best_of_n"] == 1.0
    assert summary["overall"]["episodes"] == 5 and summary["overall"]["errors"] == 0
    execution = summary["config"]["execution"]
    assert execution["backend"] == "ray" and execution["workers"] == 2
    assert execution["cluster_resources"]["CPU"] == 2.0
    assert ray.is_initialized()  # the runner did not stop a cluster it did not start
    assert not [a for a in ray.util.list_named_actors(all_namespaces=True)]


def test_the_cli_joins_an_existing_cluster_by_address_and_contains_failures(cluster, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "feedback_gym.cli", "bench", "--backend", "ray", "--address", cluster,
         "--policy", "python:tests.benchmarks.policies:FailOnTaskOne", "--suite", "smoke-v0",
         "--out", str(out), "--workers", "2", "--batch-size", "2", "--no-progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1 and "--allow-errors" in proc.stderr, proc.stderr[-3000:]  # a run with errors
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["execution"]["address"] == cluster
    records = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    failed = {r["key"] for r in records if r["error"]}
    assert failed and all("task=1|" in key for key in failed)
    # task 1 of each entry's 4 errored: it counts as not solved
    assert summary["overall"]["errors"] == len(failed) and summary["overall"]["success@k"] == 0.75
