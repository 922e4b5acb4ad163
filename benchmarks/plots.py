"""Plots drawn from run summaries: success vs turn, one panel per environment, one line per policy.

A panel whose runs had errored episodes (counted as not solved in the curves) says how many, in red,
so a curve is never read without them.

Matplotlib runs with the Agg backend (no display needed); it is the ``bench`` extra.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from feedback_gym.benchmarks.leaderboard import policy_label
from feedback_gym.benchmarks.suites import BEST_OF_N, MULTI_TURN
from feedback_gym.errors import missing_dependency

SUCCESS_PLOT = "success_vs_turn.png"


def curves(summaries: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{env label: {policy: {"curve": [success@1..k], "best_of_n": rate, "n": n, "errors": e}}}``.

    >>> s = {"policy": {"spec": "oracle"}, "envs": {"E": {"multi_turn": {"success_curve": [1.0]},
    ...      "best_of_n": {"success@n": 1.0, "n": 1}, "errors": 0}}}
    >>> curves([s])
    {'E': {'oracle': {'curve': [1.0], 'best_of_n': 1.0, 'n': 1, 'errors': 0}}}
    """
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for summary in summaries:
        for label, env in summary["envs"].items():
            multi = env.get(MULTI_TURN)
            if not multi:
                continue
            control = env.get(BEST_OF_N) or {}
            result.setdefault(label, {})[policy_label(summary)] = {
                "curve": list(multi["success_curve"]),
                "best_of_n": control.get("success@n"),
                "n": control.get("n"),
                "errors": int(env.get("errors") or 0),
            }
    return result


def plot_success_vs_turn(summaries: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """Draw success@k against k for every environment and policy; returns the PNG path.

    A cross marks each policy's best-of-n control at k = n (same number of samples). Returns
    ``None`` when no summary has a multi-turn result to draw.
    """
    data = curves(summaries)
    if not data:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise missing_dependency("matplotlib", "bench") from err
    columns = min(3, len(data))
    rows = math.ceil(len(data) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows), squeeze=False)
    policies = sorted({p for per_env in data.values() for p in per_env})
    colors = {p: plt.get_cmap("tab10")(i % 10) for i, p in enumerate(policies)}
    # distinct markers, sizes and dashes, so policies with identical curves stay visible on top of each other
    styles = {p: {"marker": "os^Dv<>ph"[i % 9], "markersize": max(3.0, 8.0 - 1.2 * i),
                  "linestyle": ("-", "--", ":", "-.")[i % 4]} for i, p in enumerate(policies)}
    for ax, (label, per_policy) in zip(axes.flat, sorted(data.items()), strict=False):
        longest = 1
        for policy, values in sorted(per_policy.items()):
            turns = list(range(1, len(values["curve"]) + 1))
            longest = max(longest, len(turns))
            ax.plot(turns, values["curve"], color=colors[policy], label=policy, **styles[policy])
            if values["best_of_n"] is not None and values["n"]:
                ax.plot([values["n"]], [values["best_of_n"]], marker="x", markersize=10,
                        linestyle="none", color=colors[policy])
        errored = [f"{policy}: {values['errors']}" for policy, values in sorted(per_policy.items())
                   if values["errors"]]
        if errored:
            ax.text(0.02, 0.02, "errors (counted as not solved): " + ", ".join(errored), color="#a40e26",
                    fontsize=7, transform=ax.transAxes, wrap=True)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("turn k")
        ax.set_ylabel("success@k")
        ax.set_xticks(range(1, longest + 1))
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(data):]:
        ax.axis("off")
    legend: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(name, handle)
    labels = sorted(legend)
    fig.legend([legend[name] for name in labels], labels, loc="lower center", ncol=min(len(labels), 6),
               frameon=False)
    fig.suptitle("success within k turns (x: best-of-n single-turn control, n = budget)", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
