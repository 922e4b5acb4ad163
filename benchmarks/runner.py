"""The benchmark runner: (policy, suite) -> transcripts, summary, leaderboard and plots in one folder.

``run_benchmark`` checks the suite against the installed ids, skips the episodes already recorded
in ``OUT/episodes.jsonl`` (so an interrupted run resumes where it stopped), sends the rest in
batches to a backend (local processes or Ray), appends each finished episode to the transcript
file as it arrives, and finally writes ``summary.json``, ``leaderboard.md``, ``leaderboard.html``
and ``success_vs_turn.png``. The policy never runs in this process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from feedback_gym.benchmarks.backends import Backend, chunk, make_backend
from feedback_gym.benchmarks.leaderboard import render_html, render_markdown
from feedback_gym.benchmarks.play import error_text
from feedback_gym.benchmarks.plots import SUCCESS_PLOT, plot_success_vs_turn
from feedback_gym.benchmarks.suites import MULTI_TURN, EpisodeSpec, Suite
from feedback_gym.benchmarks.summary import (
    environment_facts,
    load_summaries,
    package_versions,
    summarize,
    write_json,
)
from feedback_gym.errors import ConfigError, require_int

EPISODES_FILE = "episodes.jsonl"
RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"


@dataclass
class BenchConfig:
    """Everything one benchmark run needs.

    Args:
        policy: a policy spec for :func:`~feedback_gym.agents.policy.make_policy`.
        suite: the suite to play.
        out: the output folder (created; reused to resume).
        backend: ``"local"`` (process pool) or ``"ray"``.
        address: a Ray cluster address (``ray`` backend only).
        workers: worker processes/actors, each with its own copy of the policy.
        batch_size: episodes per batch; a worker asks the policy for all of a batch's replies at once.
        control: also play the best-of-n single-turn control.
        policy_kwargs: extra arguments for ``make_policy``.
        retry_errors: on resume, play again the episodes that ended in an error.
        compare: other summaries (files or run folders) to put on this run's leaderboard.
        gpus_per_worker: GPUs each Ray actor reserves (``ray`` backend only).
    """

    policy: str
    suite: Suite
    out: Path
    backend: str = "local"
    address: str | None = None
    workers: int | None = None
    batch_size: int = 16
    control: bool = True
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    retry_errors: bool = False
    compare: Sequence[str | Path] = ()
    gpus_per_worker: float = 0

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if not isinstance(self.policy, str) or not self.policy:
            raise ConfigError(f"policy must be a spec string; got {self.policy!r}")
        require_int("batch_size", self.batch_size, minimum=1)

    def identity(self) -> dict[str, Any]:
        """What must match for a folder's episodes to be resumed by this configuration."""
        return {"policy": self.policy, "policy_kwargs": self.policy_kwargs, "suite": self.suite.to_dict(),
                "control": self.control}


class EpisodeLog:
    """``episodes.jsonl``: one JSON record per finished episode, appended and flushed as they come.

    Reading tolerates a torn last line (a run killed mid-write): the file is cut back to its last
    complete record before anything is appended.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict[str, Any]]:
        """Every complete record; repairs a torn tail in place."""
        if not self.path.exists():
            return []
        records, good_bytes = [], 0
        with self.path.open("rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
                good_bytes += len(line)
        if good_bytes != self.path.stat().st_size:
            with self.path.open("r+b") as handle:
                handle.truncate(good_bytes)
        return records

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records (one line each) and flush them to disk."""
        with self.path.open("a", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
            handle.flush()


def latest_by_key(records: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The last record of each episode key (a retried episode supersedes its earlier error).

    >>> sorted(latest_by_key([{"key": "a", "error": "x"}, {"key": "a", "error": None}]).items())
    [('a', {'key': 'a', 'error': None})]
    """
    latest: dict[str, Mapping[str, Any]] = {}
    for record in records:
        latest[record["key"]] = record
    return latest


def _check_run_file(out: Path, config: BenchConfig) -> dict[str, Any]:
    path = out / RUN_FILE
    wanted = config.identity()
    if path.exists():
        stored = json.loads(path.read_text())
        if stored.get("run") != json.loads(json.dumps(wanted, default=str)):
            raise ConfigError(
                f"{out} already holds a different run ({stored.get('run', {}).get('policy')!r} on suite "
                f"{stored.get('run', {}).get('suite', {}).get('name')!r}); resume it with the same "
                "--policy/--suite/--no-control, or choose another --out"
            )
        return stored
    stored = {"run": wanted, "policy_identity": None, "created": _now()}
    write_json(path, stored)
    return stored


def _add_wall_time(out: Path, stored: dict[str, Any], seconds: float) -> None:
    """Add the seconds an invocation spent playing to the run's total (kept across resumes)."""
    stored["wall_s"] = stored.get("wall_s", 0.0) + seconds
    write_json(out / RUN_FILE, stored)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _error_records(batch: Sequence[Mapping[str, Any]], err: BaseException) -> list[dict[str, Any]]:
    """Records for the episodes of a batch that was lost as a whole (a dead worker)."""
    records = []
    for data in batch:
        spec = EpisodeSpec.from_dict(data)
        records.append({"key": spec.key, **spec.to_dict(), "task_id": None, "error": error_text(err),
                        "env": None, "turns": [], "messages": [], "samples": None, "metrics": None})
    return records


def run_benchmark(config: BenchConfig, *, progress: bool = True,
                  backend: Backend | None = None) -> dict[str, Any]:
    """Play every episode of the suite not yet in ``OUT/episodes.jsonl``, then write the reports.

    Returns the summary. Raises :class:`ConfigError` before playing anything when the suite needs
    ids that are not registered, the policy cannot be built, or ``OUT`` holds a different run.
    """
    config.suite.check_registered()
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    stored = _check_run_file(out, config)
    log = EpisodeLog(out / EPISODES_FILE)
    wanted = config.suite.episodes(control=config.control)
    done = latest_by_key(log.read())
    if config.retry_errors:
        done = {key: r for key, r in done.items() if not r.get("error")}
    pending = [spec for spec in wanted if spec.key not in done]
    started = time.perf_counter()
    backend = backend or make_backend(config.backend, config.policy, config.policy_kwargs,
                                      workers=config.workers, address=config.address,
                                      gpus_per_worker=config.gpus_per_worker)
    backend_info: dict[str, Any] = {"backend": config.backend}
    if pending:
        stored["policy_identity"] = backend.start()
        try:
            write_json(out / RUN_FILE, stored)
            backend_info = backend.describe()
            _play(backend, pending, config.batch_size, log, progress)
        except BaseException:  # an interrupt: stop now, the finished episodes are on disk
            backend.abort()
            _add_wall_time(out, stored, time.perf_counter() - started)
            raise
        backend.close()
    wall = time.perf_counter() - started
    if pending:
        _add_wall_time(out, stored, wall)
    records = [r for key, r in latest_by_key(log.read()).items() if key in {s.key for s in wanted}]
    order = {spec.key: i for i, spec in enumerate(wanted)}
    records.sort(key=lambda r: order[r["key"]])
    summary = summarize(records, config.suite, {
        "policy": {"spec": config.policy, "kwargs": config.policy_kwargs,
                   "identity": stored.get("policy_identity")},
        "control": config.control,
        "batch_size": config.batch_size,
        "execution": backend_info,
        "seeds": sorted({s for entry in config.suite.entries for s in entry.seeds}),
        "packages": package_versions(),
        "machine": environment_facts(),
        "started": stored.get("created"),
        "finished": _now(),
        "wall_s": round(stored.get("wall_s", 0.0), 2),
        "wall_s_this_invocation": round(wall, 2),
        "resumed_episodes": len(wanted) - len(pending),
        "policy_s": round(sum(r.get("policy_s") or 0.0 for r in records), 2),
        "env_s": round(sum(r.get("env_s") or 0.0 for r in records), 2),
    })
    write_json(out / SUMMARY_FILE, summary)
    write_reports([summary, *load_summaries(config.compare)], out)
    return summary


def _play(backend: Backend, pending: Sequence[EpisodeSpec], batch_size: int, log: EpisodeLog,
          progress: bool) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    batches = chunk([spec.to_dict() for spec in pending], batch_size)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("solved {task.fields[solved]} errors {task.fields[errors]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task("episodes", total=len(pending), solved=0, errors=0)
        solved = errors = 0
        for batch, result in backend.run(batches):
            records = _error_records(batch, result) if isinstance(result, BaseException) else result
            log.append(records)
            errors += sum(1 for r in records if r.get("error"))
            solved += sum(1 for r in records
                          if r.get("mode") == MULTI_TURN and (r.get("metrics") or {}).get("solved"))
            bar.update(task, advance=len(records), solved=solved, errors=errors)


def write_reports(summaries: Sequence[Mapping[str, Any]], out: Path) -> list[Path]:
    """Write ``leaderboard.md``, ``leaderboard.html`` and the success plot for ``summaries`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_success_vs_turn(summaries, out / SUCCESS_PLOT)
    plots = [plot.name] if plot else []
    (out / "leaderboard.md").write_text(render_markdown(summaries, plots))
    (out / "leaderboard.html").write_text(render_html(summaries, plots))
    return [out / "leaderboard.md", out / "leaderboard.html", *([plot] if plot else [])]
