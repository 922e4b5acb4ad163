"""``feedback-gym bench --env-url``: a suite played on an environment server, over loopback."""

from __future__ import annotations

import json
import os

import pytest

from feedback_gym.benchmarks.remote_envs import ENV_URLS_VAR, parse_env_urls
from feedback_gym.errors import ConfigError


def test_env_urls_must_name_an_id_and_an_http_url():
    assert parse_env_urls([]) == {}
    for bad in ("Countdown-v0", "=http://127.0.0.1:1", "Countdown-v0=127.0.0.1:1"):
        with pytest.raises(ConfigError, match="ID=http://"):
            parse_env_urls([bad])


@pytest.mark.slow
def test_a_suite_plays_on_a_served_environment_and_mismatched_kwargs_are_refused(tmp_path):
    pytest.importorskip("openenv.core")
    from feedback_gym.benchmarks.suites import Suite, SuiteEntry
    from feedback_gym.cli import main
    from feedback_gym.serve.process import ServerProcess

    kwargs = {"feedback": "tests", "max_turns": 3}
    suite = Suite("served", (SuiteEntry("Countdown-v0", kwargs, tasks=(0, 1, 2)),))
    suite_file = tmp_path / "suite.json"
    suite_file.write_text(json.dumps(suite.to_dict()))
    served = ["--env-kwargs", json.dumps(kwargs), "--expose-oracle"]
    with ServerProcess("Countdown-v0", served) as server:
        common = [
            "bench",
            "--policy",
            "oracle",
            "--suite",
            str(suite_file),
            "--workers",
            "1",
            "--no-progress",
        ]
        out = tmp_path / "run"
        args = [*common, "--out", str(out), "--no-control", "--env-url", f"Countdown-v0={server.url}"]
        assert main(args) == 0
        assert ENV_URLS_VAR not in os.environ  # scoped to the run: later runs in this process play locally
        records = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
        assert len(records) == 3 and all(r["error"] is None for r in records)
        assert all(r["env"]["class"] == "feedback_gym.remote.RemoteEnv" for r in records)
        assert all(r["turns"][-1]["info"]["solved"] for r in records)
        # The best-of-n control needs max_turns=1, which this server does not serve: refused, not faked.
        mismatched = tmp_path / "mismatched"
        main([*common, "--out", str(mismatched), "--env-url", f"Countdown-v0={server.url}"])
        errors = [
            json.loads(line)["error"] for line in (mismatched / "episodes.jsonl").read_text().splitlines()
        ]
        assert any(e and "max_turns" in e and "--env-kwargs" in e for e in errors)
