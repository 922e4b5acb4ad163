"""The runner end to end on the local process pool: files, summary, errors, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedback_gym.benchmarks.runner import EPISODES_FILE, BenchConfig, EpisodeLog, run_benchmark
from feedback_gym.benchmarks.suites import Suite, SuiteEntry
from feedback_gym.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
P = "python:tests.benchmarks.policies:"
SUITE = Suite("t-v0", (
    SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 3}, (0, 1, 2, 3)),
    SuiteEntry("Countdown-v0", {"feedback": "unary", "max_turns": 2}, (0, 1), seeds=(0, 1)),
))


def run(policy, out, suite=SUITE, **kw):
    return run_benchmark(BenchConfig(policy, suite, out, workers=1, batch_size=3, **kw), progress=False)


def lines(path):
    return [json.loads(line) for line in (path / EPISODES_FILE).read_text().splitlines()]


def test_a_run_writes_every_artifact_with_metrics_and_config(tmp_path):
    summary = run(P + "WrongThenOracle", tmp_path)
    records = lines(tmp_path)
    assert len(records) == 2 * (4 + 4)  # multi-turn + control for both entries
    assert {p.name for p in tmp_path.iterdir()} >= {
        "episodes.jsonl", "summary.json", "leaderboard.md", "leaderboard.html", "success_vs_turn.png",
        "run.json"}
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(json.dumps(summary))
    tests_env = summary["envs"]["Countdown-v0[tests]"]
    assert tests_env["multi_turn"]["success_curve"] == [0.0, 1.0, 1.0]
    assert tests_env["multi_turn"]["success@1"] == 0.0 and tests_env["multi_turn"]["success@k"] == 1.0
    assert tests_env["multi_turn"]["mean_turns"] == 2.0
    assert tests_env["multi_turn"]["tokens_per_solved"] == 10.0  # 5 generated tokens a turn, 2 turns
    assert tests_env["best_of_n"]["n"] == 3 and tests_env["best_of_n"]["success@n"] == 0.0
    assert summary["envs"]["Countdown-v0[unary]"]["best_of_n"]["n"] == 2
    overall = summary["overall"]
    assert overall["success@k"] == 1.0 and overall["best_of_n"] == 0.0 and overall["errors"] == 0
    config = summary["config"]
    assert summary["policy"]["identity"] == {"name": "wrong-then-oracle", "policy": "wrong-then-oracle"}
    assert config["packages"]["gymnasium"] and config["seeds"] == [0, 1]
    assert config["execution"]["backend"] == "local" and tests_env["env"]["feedback_kind"] == "tests"
    assert summary["suite"]["entries"][1]["seeds"] == [0, 1]
    board = (tmp_path / "leaderboard.md").read_text()
    assert f"| {P}WrongThenOracle | Countdown-v0[tests] | 0.0% | 100.0% | 0.0% | +100.0 pp |" in board


def test_a_failing_episode_is_recorded_and_the_run_goes_on(tmp_path):
    summary = run(P + "FailOnTaskOne", tmp_path, control=False)
    errors = [r for r in lines(tmp_path) if r["error"]]
    assert {r["task"] for r in errors} == {1} and len(errors) == 3  # task 1 in both entries, 2 seeds
    assert all("cannot handle task 1" in r["error"] for r in errors)
    # the errored episodes count as not solved: 3 of 4 [tests] episodes solved, 2 of 4 [unary] ones
    assert summary["overall"]["errors"] == 3 and summary["overall"]["success@k"] == (0.75 + 0.5) / 2
    tests_env = summary["envs"]["Countdown-v0[tests]"]["multi_turn"]
    assert tests_env["episodes"] == 3 and tests_env["errors"] == 1 and tests_env["success@k"] == 0.75
    assert summary["overall"]["error_cause"] == "RuntimeError: this policy cannot handle task 1"


def test_a_worker_that_dies_loses_only_its_batch(tmp_path):
    summary = run(P + "DieOnTaskTwo", tmp_path, control=False)
    records = lines(tmp_path)
    lost = {r["key"] for r in records if r["error"]}
    # batches of 3 in suite order: only the batch holding task 2 ([tests] tasks 0, 1, 2) is lost,
    # after one retry on a fresh pool; the other batches were played normally
    assert lost == {f"Countdown-v0[tests]|task={t}|seed=0|multi_turn" for t in (0, 1, 2)}
    assert all(r["error"].startswith("BrokenProcessPool") for r in records if r["error"])
    assert summary["overall"]["episodes"] == 8 and summary["overall"]["errors"] == 3
    assert sum(bool(r["metrics"] and r["metrics"]["solved"]) for r in records) == 5
    assert summary["envs"]["Countdown-v0[tests]"]["multi_turn"]["success@k"] == 0.25  # 1 of 4: 3 lost


def test_resume_skips_recorded_episodes_and_repairs_a_torn_line(tmp_path):
    run("oracle", tmp_path)
    log = tmp_path / EPISODES_FILE
    kept = log.read_text().splitlines(keepends=True)[:5]
    log.write_text("".join(kept) + '{"key": "torn')
    summary = run("oracle", tmp_path)
    records = lines(tmp_path)
    assert len(records) == 16 and len({r["key"] for r in records}) == 16
    assert summary["config"]["resumed_episodes"] == 5
    assert summary["overall"]["success@k"] == 1.0


def test_retry_errors_replays_only_the_failed_episodes(tmp_path):
    run(P + "FailOnTaskOne", tmp_path, control=False)
    # same folder, same policy: a plain resume plays nothing, --retry-errors replays the 3 errors
    assert run(P + "FailOnTaskOne", tmp_path, control=False)["config"]["resumed_episodes"] == 8
    summary = run(P + "FailOnTaskOne", tmp_path, control=False, retry_errors=True)
    assert summary["config"]["resumed_episodes"] == 5 and len(lines(tmp_path)) == 8 + 3


def test_a_folder_holding_another_run_is_refused(tmp_path):
    run("oracle", tmp_path, control=False)
    with pytest.raises(ConfigError, match="already holds a different run"):
        run("random", tmp_path, control=False)


def test_unregistered_ids_and_unbuildable_policies_stop_before_any_episode(tmp_path):
    with pytest.raises(ConfigError, match="not registered.*Later-v0"):
        run("oracle", tmp_path / "a", suite=Suite("s", (SuiteEntry("Later-v0"),)))
    assert not (tmp_path / "a").exists()
    with pytest.raises(ConfigError, match="could not build policy.*weights not found"):
        run(P + "BrokenConstructor", tmp_path / "b")
    assert not (tmp_path / "b" / EPISODES_FILE).exists()


def test_episode_log_keeps_complete_lines_only(tmp_path):
    log = EpisodeLog(tmp_path / "e.jsonl")
    log.append([{"key": "a"}, {"key": "b"}])
    with (tmp_path / "e.jsonl").open("a") as handle:
        handle.write('{"key": "c", "x": [1, 2')
    assert [r["key"] for r in log.read()] == ["a", "b"]
    log.append([{"key": "d"}])
    assert [r["key"] for r in log.read()] == ["a", "b", "d"]


def cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "feedback_gym.cli", "bench", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_the_cli_stops_at_once_when_interrupted_and_resumes(tmp_path, how):
    psutil = pytest.importorskip("psutil")
    suite_file = tmp_path / "suite.json"
    suite_file.write_text(json.dumps({"name": "slow-v0", "entries": [
        {"env_id": "Countdown-v0", "kwargs": {"max_turns": 2}, "tasks": {"range": 24}}]}))
    out = tmp_path / "run"
    args = ["--policy", P + "SlowOracle", "--suite", str(suite_file), "--out", str(out), "--batch-size", "2",
            "--workers", "1", "--no-control", "--no-progress"]
    proc = cli(*args, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_read_lines(out)) < 2:
        time.sleep(0.1)
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert workers
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the runner and its workers
    else:
        proc.send_signal(signal.SIGTERM)  # the runner alone: it must stop its workers itself
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "resume" in err
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    done = len(_read_lines(out))
    assert 2 <= done < 24
    proc = cli(*args)
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["resumed_episodes"] == done
    assert summary["config"]["wall_s"] > summary["config"]["wall_s_this_invocation"] > 0  # both runs count
    assert summary["overall"]["episodes"] == 24 and summary["overall"]["success@k"] == 1.0
    assert len(_read_lines(out)) == 24


def _read_lines(out):
    path = out / EPISODES_FILE
    return path.read_text().splitlines() if path.exists() else []


def test_cli_errors_are_clear_and_exit_2(tmp_path):
    proc = cli("--policy", "oracle", "--suite", "quick", "--out", str(tmp_path))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "unknown suite 'quick'" in err and "quick-v0" in err
    proc = cli("--policy", "nonsense", "--suite", "smoke-v0", "--out", str(tmp_path / "x"))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "unknown policy spec 'nonsense'" in err
    proc = cli("--list-suites")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "quick-v0" in out and "core-v0" in out


def test_cli_merges_summaries_into_one_leaderboard(tmp_path):
    run("oracle", tmp_path / "runs" / "oracle", control=False)
    run("random", tmp_path / "runs" / "random", control=False)
    proc = cli("--leaderboard", str(tmp_path / "runs"), "--out", str(tmp_path / "board"))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    board = (tmp_path / "board" / "leaderboard.md").read_text()
    assert board.count("| oracle | t-v0 |") == 1 and board.count("| random | t-v0 |") == 1
    assert (tmp_path / "board" / "success_vs_turn.png").stat().st_size > 10_000


def test_a_torch_policy_runs_in_the_workers_never_in_the_runner(tmp_path):
    pytest.importorskip("torch")
    suite_file = tmp_path / "suite.json"
    suite_file.write_text(json.dumps({"name": "one-v0", "entries": [
        {"env_id": "Countdown-v0", "kwargs": {"max_turns": 2}, "tasks": [0, 1]}]}))
    script = (
        "import sys\n"
        "from feedback_gym.cli import main\n"
        f"code = main(['bench', '--policy', 'tiny-random', '--suite', {str(suite_file)!r}, '--out', "
        f"{str(tmp_path / 'run')!r}, '--no-progress'])\n"
        "assert code == 0, code\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'model in the runner'\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    identity = summary["policy"]["identity"]
    assert identity["policy"] == "transformers" and identity["parameters"] > 0  # built in a worker
    records = lines(tmp_path / "run")
    assert all(t["completion_tokens"] for r in records for s in (r["samples"] or [r]) for t in s["turns"])
