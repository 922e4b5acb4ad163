"""Learning-curve plots and the Markdown report, drawn from ``results.json`` only.

Nothing here reads a run folder or holds a number of its own: the report is a rendering of the
results (re-render with ``feedback-gym experiment NAME --report-only --out DIR``).

Plots: held-out success against training steps and against generated tokens, one panel per
metric (success@1, success@k), one line per arm (the mean over seeds), the band between the
lowest and highest seed shaded. Matplotlib (the ``bench`` extra) draws with the Agg backend.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from feedback_gym.errors import missing_dependency

PLOTS = {"steps": "success_vs_steps.png", "tokens": "success_vs_tokens.png"}
X_FIELD = {"steps": "step", "tokens": "generated_tokens"}


def write_report(results: Mapping[str, Any], out: Path) -> list[Path]:
    """Draw both plots and write ``report.md`` into ``out``; return the files written."""
    written = [plot_curves(results, out / PLOTS[axis], axis) for axis in PLOTS]
    path = out / "report.md"
    path.write_text(markdown(results))
    return [*written, path]


def curve_points(run: Mapping[str, Any], axis: str, metric: str) -> list[tuple[float, float]]:
    """(x, rate) for each evaluation of one run.

    >>> run = {"evals": [{"step": 0, "generated_tokens": 0, "success@1": {"rate": 0.1}},
    ...                  {"step": 4, "generated_tokens": 900, "success@1": {"rate": 0.3}}]}
    >>> curve_points(run, "tokens", "success@1")
    [(0.0, 0.1), (900.0, 0.3)]
    """
    return [(float(e[X_FIELD[axis]]), float(e[metric]["rate"])) for e in run["evals"]]


def aligned(runs: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """Cut the seeds' curves to one length, always keeping each seed's final point last.

    Seeds of a budget-stopped arm end at different steps (13 and 11), so one may have an
    evaluation more; dropping the surplus from the middle, not the end, keeps the plotted final
    point the mean of the final checkpoints, the number the report's table gives.

    >>> aligned([[(0, 0.0), (4, 0.1), (8, 0.2), (13, 0.3)], [(0, 0.0), (4, 0.1), (11, 0.2)]])
    [[(0, 0.0), (4, 0.1), (13, 0.3)], [(0, 0.0), (4, 0.1), (11, 0.2)]]
    """
    length = min(len(run) for run in runs)
    return [run[: length - 1] + run[-1:] for run in runs]


def plot_curves(results: Mapping[str, Any], path: Path, axis: str) -> Path:
    """One figure: a panel per metric, a line per arm (seed mean), the seeds' range shaded."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        raise missing_dependency("matplotlib", "bench") from None
    k = results["evaluation"]["k"]
    metrics = ("success@1", "success@k")
    figure, panels = plt.subplots(1, len(metrics), figsize=(10, 3.8), squeeze=False)
    for panel, metric in zip(panels[0], metrics, strict=True):
        for arm, record in results["arms"].items():
            runs = aligned([curve_points(run, axis, metric) for run in record["runs"].values()])
            xs = np.array([[p[0] for p in r] for r in runs]).mean(axis=0)
            ys = np.array([[p[1] for p in r] for r in runs])
            (line,) = panel.plot(xs, ys.mean(axis=0), marker="o", label=f"{arm} ({len(runs)} seeds)")
            panel.fill_between(xs, ys.min(axis=0), ys.max(axis=0), color=line.get_color(), alpha=0.2)
        panel.set_title(f"held-out {metric.replace('@k', f'@{k}')}")
        panel.set_xlabel("training steps" if axis == "steps" else "generated tokens (training rollouts)")
        panel.set_ylabel("success rate")
        panel.set_ylim(bottom=0)
        panel.grid(alpha=0.3)
        panel.legend(fontsize=8)
    figure.suptitle(f"{results['experiment']} ({results['model']}, scale {results['scale']['name']})")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _rate(record: Mapping[str, Any]) -> str:
    low, high = record["ci"]
    return f"{record['rate']:.3f} [{low:.3f}, {high:.3f}]"


def _pooled(runs: Mapping[str, Any], index: int, metric: str) -> str:
    """A metric pooled over seeds (Wilson interval on the pooled counts)."""
    from feedback_gym.benchmarks.experiments.stats import wilson

    records = [run["evals"][index][metric] for run in runs.values()]
    successes = round(sum(r["rate"] * r["n"] for r in records))
    trials = sum(r["n"] for r in records)
    low, high = wilson(successes, trials)
    return _rate({"rate": successes / trials if trials else 0.0, "ci": [low, high]})


def markdown(results: Mapping[str, Any]) -> str:
    """The report: question, claim, setup, the table, the verdict, what the scale can show."""
    scale, split, evaluation = results["scale"], results["split"], results["evaluation"]
    claim, verdict, k = results["claim"], results["verdict"], evaluation["k"]
    lines = [
        f"# {results['experiment']}",
        "",
        f"**Question.** {results['question']}",
        "",
        f"**Paper's claim** ({claim['anchor']}, {claim['paper']}): {claim['text']}. "
        f"Setting: {claim['setting']}.",
        "",
        f"**Result at this scale: {verdict['status'].upper()}.** {verdict['summary']}",
        "",
        "## Setup",
        "",
        f"- Model: `{results['model']}`; environment `{results['env']}`; scale `{scale['name']}`: "
        f"{scale['steps']} steps max, {scale['tasks_per_step']} tasks x {scale['group_size']} episodes per "
        f"step, {scale['max_new_tokens']} new tokens per reply, temperature {scale['temperature']}, "
        f"learning rate {scale['learning_rate']}, seeds {list(scale['seeds'])}"
        + (f", {scale['token_budget']} generated tokens per arm and seed" if scale.get("token_budget")
           else "")
        + ".",
        f"- Tasks: {split['train_tasks']} train, {split['validation_tasks']} validation, "
        f"{split['heldout_tasks']} held-out; split {split['method']}. Train/held-out overlap: "
        f"{split['overlap_train_heldout']}.",
        f"- Evaluation: every kept checkpoint plays each held-out task {evaluation['samples_per_task']} "
        f"time(s) with `{evaluation['env_kwargs']}` at temperature {evaluation['temperature']}; "
        f"success@1 = solved on the first attempt, success@{k} = solved within {k} attempts. Rates: "
        f"{evaluation['rate_ci']}. Differences: {evaluation['difference_ci']}.",
        f"- Command: `{results['command']}`",
        f"- Machine: {results['machine']['cpus']} CPUs, load average {results['machine']['load_average']} "
        f"when the results were written, torch threads {results['machine'].get('torch_threads')}, "
        f"GPU {results['machine'].get('gpu')}.",
        "",
        "## Held-out success",
        "",
        f"| arm | seeds | steps | generated tokens | success@1 untrained | success@1 final "
        f"| success@{k} untrained | success@{k} final |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm, record in results["arms"].items():
        runs = record["runs"]
        steps = "/".join(str(run["train"]["steps"]) for run in runs.values())
        tokens = "/".join(str(run["train"]["generated_tokens"]) for run in runs.values())
        lines.append(
            f"| {arm} | {len(runs)} | {steps} | {tokens} | {_pooled(runs, 0, 'success@1')} | "
            f"{_pooled(runs, -1, 'success@1')} | {_pooled(runs, 0, 'success@k')} | "
            f"{_pooled(runs, -1, 'success@k')} |"
        )
    lines.append("")
    for arm, record in results["arms"].items():
        by_seed = ", ".join(
            f"seed {seed}: {run['evals'][0]['success@k']['rate']:.3f} -> "
            f"{run['evals'][-1]['success@k']['rate']:.3f}"
            for seed, run in record["runs"].items()
        )
        lines.append(f"- {arm}, success@{k} by seed (untrained -> final): {by_seed}.")
    lines += ["", "## Comparisons (paired by held-out task)", "",
              "| comparison | metric | difference | 95% CI |", "|---|---|---|---|"]
    for c in verdict.get("comparisons", []):
        metric = c["metric"].replace("@k", f"@{k}")
        lines.append(f"| {c['name']} | {metric} | {c['difference']:+.3f} | "
                     f"[{c['ci_low']:+.3f}, {c['ci_high']:+.3f}] |")
    comparisons = verdict.get("comparisons", [])
    if comparisons:
        half = (comparisons[0]["ci_high"] - comparisons[0]["ci_low"]) / 2
        lines += ["", f"Resolution: the first comparison's interval is +-{half:.3f} wide; at this number of "
                  "held-out tasks and seeds a smaller true difference cannot be told from zero (four times "
                  "the tasks x seeds roughly halve the width). An interval of width 0 means every outcome "
                  "was the same on both sides."]
    lines += [
        "",
        "## Curves",
        "",
        f"![held-out success vs steps]({PLOTS['steps']})",
        "",
        f"![held-out success vs generated tokens]({PLOTS['tokens']})",
        "",
        "## What this scale can and cannot show",
        "",
        results["can_show"],
        "",
    ]
    return "\n".join(lines)


INDEX_START, INDEX_END = "<!-- results:start (generated from */results.json) -->", "<!-- results:end -->"


def index_table(folders: list[Path]) -> str:
    """The results table of the docs index: one row per ``results.json`` in ``folders``."""
    lines = [
        "| experiment | paper's claim | result at this scale | scale run | report |",
        "|---|---|---|---|---|",
    ]
    for folder in folders:
        results = json.loads((folder / "results.json").read_text())
        verdict, claim, scale = results["verdict"], results["claim"], results["scale"]
        main = verdict["comparisons"][0] if verdict.get("comparisons") else None
        k = results["evaluation"]["k"]
        measured = (
            f"{main['name']}, {main['metric'].replace('@k', f'@{k}')}: {main['difference']:+.3f} "
            f"[{main['ci_low']:+.3f}, {main['ci_high']:+.3f}]"
            if main
            else "-"
        )
        budget = scale.get("token_budget")
        steps = f"up to {scale['steps']} steps or {budget} tokens" if budget else f"{scale['steps']} steps"
        lines.append(
            f"| {results['experiment']} | {claim['anchor']}: {claim['text']} | **{verdict['status']}**: "
            f"{measured} | `{scale['name']}`, seeds {list(scale['seeds'])}, {steps}, "
            f"{results['split']['heldout_tasks']} held-out tasks | [report]({folder.name}/report.md) |"
        )
    return "\n".join(lines)


def update_index(index: Path) -> None:
    """Rewrite the generated block of the docs index from the ``results.json`` beside it."""
    text = index.read_text()
    if INDEX_START not in text or INDEX_END not in text:
        raise ValueError(f"{index} has no {INDEX_START!r} ... {INDEX_END!r} block to fill in")
    folders = sorted(p.parent for p in index.parent.glob("*/results.json"))
    head, rest = text.split(INDEX_START, 1)
    _, tail = rest.split(INDEX_END, 1)
    index.write_text(f"{head}{INDEX_START}\n{index_table(folders)}\n{INDEX_END}{tail}")
