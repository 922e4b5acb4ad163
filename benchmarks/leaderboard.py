"""Leaderboards from any number of run summaries: a Markdown table and a sortable HTML page.

Two tables: one row per run (policy x suite, macro-averaged over the suite's environment
configurations), and one row per (run, environment configuration). Each multi-turn success rate
sits next to its compute-matched control: best-of-n single-turn sampling with n = the turn budget.

Errored episodes count as not solved in every rate, their number sits beside the rates, and a run
with errors is never given a rank: its rank cell says how many episodes errored, and a note above
the tables names the cause.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedback_gym.benchmarks.failures import errors_headline, fallback_headline
from feedback_gym.benchmarks.suites import BEST_OF_N, MULTI_TURN


@dataclass(frozen=True)
class Column:
    """A leaderboard column: the row key, its header, a formatter, and a tooltip."""

    key: str
    header: str
    fmt: Callable[[Any], str]
    help: str = ""


def fmt_rate(value: Any) -> str:
    """A rate as a percentage with one decimal; blank when missing.

    >>> fmt_rate(0.4567), fmt_rate(None)
    ('45.7%', '')
    """
    return "" if value is None else f"{100 * float(value):.1f}%"


def fmt_delta(value: Any) -> str:
    """A difference of rates in percentage points, signed.

    >>> fmt_delta(0.125), fmt_delta(-0.05), fmt_delta(None)
    ('+12.5 pp', '-5.0 pp', '')
    """
    return "" if value is None else f"{100 * float(value):+.1f} pp"


def fmt_number(value: Any) -> str:
    """A number with at most two decimals (integers stay integers); blank when missing.

    >>> fmt_number(2), fmt_number(1.23456), fmt_number(None)
    ('2', '1.23', '')
    """
    if value is None:
        return ""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{float(value):.2f}"


def fmt_text(value: Any) -> str:
    """Text as is; blank when missing."""
    return "" if value is None else str(value)


_METRIC_COLUMNS = (
    Column("success@1", "success@1", fmt_rate, "solved on the first turn (single-turn accuracy)"),
    Column("success@k", "success@k", fmt_rate, "solved within the turn budget k"),
    Column("best_of_n", "best-of-n (control)", fmt_rate,
           "compute-matched control: any of n = k single-turn samples solved it"),
    Column("gain", "multi-turn - control", fmt_delta, "success@k minus the best-of-n control"),
    Column("mean_turns", "mean turns", fmt_number, "actions per episode"),
    Column("mean_reward", "reward", fmt_number, "mean episode return"),
    Column("friction_rate", "friction", fmt_rate,
           "retries that repeat an answer already judged wrong (Feedback Friction)"),
    Column("tokens_per_episode", "tokens/episode", fmt_number, "tokens the policy generated per episode"),
    Column("tokens_per_solved", "tokens/solved", fmt_number,
           "tokens the policy generated, over all episodes, per solved task"),
    Column("total_tokens_per_solved", "total tokens/solved", fmt_number,
           "prompt + generated tokens (each turn's whole conversation read), over all episodes, "
           "per solved task"),
    Column("episodes", "episodes", fmt_number, "completed multi-turn episodes"),
    Column("errors", "errors", fmt_number, "episodes that ended in an error (counted as not solved)"),
)
RUN_COLUMNS = (Column("rank", "rank", fmt_text, "by success@k; runs with errors are not ranked"),
               Column("policy", "policy", fmt_text), Column("suite", "suite", fmt_text), *_METRIC_COLUMNS)
ENV_COLUMNS = (Column("policy", "policy", fmt_text), Column("env", "environment", fmt_text), *_METRIC_COLUMNS)


def policy_label(summary: Mapping[str, Any]) -> str:
    """How a run's policy is named on the board: its spec, and the kwargs it was given.

    >>> policy_label({"policy": {"spec": "smollm2"}})
    'smollm2'
    >>> policy_label({"policy": {"spec": "smollm2", "kwargs": {"max_new_tokens": 128}}})
    'smollm2 (max_new_tokens=128)'
    """
    policy = summary.get("policy") or {}
    label = str(policy.get("spec") or (policy.get("identity") or {}).get("name") or "?")
    kwargs = policy.get("kwargs") or {}
    if kwargs:
        label += " (" + ", ".join(f"{key}={value}" for key, value in sorted(kwargs.items())) + ")"
    return label


def _gain(multi: Any, control: Any) -> float | None:
    return None if multi is None or control is None else float(multi) - float(control)


def run_rows(summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per run: ranked runs by multi-turn success, then the runs with errors, unranked.

    >>> clean = {"policy": {"spec": "a"}, "suite": {"name": "s"}, "overall": {"success@k": 0.5, "errors": 0}}
    >>> broken = {"policy": {"spec": "b"}, "suite": {"name": "s"}, "overall": {"success@k": 0.9, "errors": 2}}
    >>> [(r["rank"], r["policy"]) for r in run_rows([broken, clean])]
    [('1', 'a'), ('unranked: 2 errors', 'b')]
    """
    rows = []
    for summary in summaries:
        overall = summary["overall"]
        rows.append({
            "policy": policy_label(summary),
            "suite": summary["suite"]["name"],
            **{c.key: overall.get(c.key) for c in _METRIC_COLUMNS if c.key != "gain"},
            "gain": _gain(overall.get("success@k"), overall.get("best_of_n")),
        })
    rows.sort(key=lambda r: (bool(r["errors"]), -(r["success@k"] or 0.0)))
    rank = 0
    for row in rows:
        if row["errors"]:
            row["rank"] = f"unranked: {row['errors']} error{'s' if row['errors'] != 1 else ''}"
        else:
            rank += 1
            row["rank"] = str(rank)
    return rows


def run_notes(summaries: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``(title, text)`` per run with errors or substituted feedback: what happened, in which run."""
    notes = []
    for summary in summaries:
        overall = summary["overall"]
        run = f"{policy_label(summary)} on {summary['suite']['name']}"
        headline = errors_headline(overall.get("errors") or 0,
                                   (overall.get("episodes") or 0) + (overall.get("control_episodes") or 0),
                                   overall.get("error_causes") or {})
        if headline:
            notes.append(("Errors", f"{run}: {headline}"))
        substituted = fallback_headline(overall.get("feedback_fallback"))
        if substituted:
            notes.append(("Substituted feedback", f"{run}: {substituted}"))
    return notes


def env_rows(summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (run, environment configuration), grouped by environment."""
    rows = []
    for summary in summaries:
        for label, env in summary["envs"].items():
            multi = env.get(MULTI_TURN) or {}
            control = env.get(BEST_OF_N) or {}
            rows.append({
                "policy": policy_label(summary),
                "env": label,
                "success@1": multi.get("success@1"),
                "success@k": multi.get("success@k"),
                "best_of_n": control.get("success@n"),
                "gain": _gain(multi.get("success@k"), control.get("success@n")),
                "mean_turns": multi.get("mean_turns"),
                "mean_reward": multi.get("mean_reward"),
                "friction_rate": multi.get("friction_rate"),
                "tokens_per_episode": multi.get("tokens_per_episode"),
                "tokens_per_solved": multi.get("tokens_per_solved"),
                "total_tokens_per_solved": multi.get("total_tokens_per_solved"),
                "episodes": multi.get("episodes", 0),
                "errors": env.get("errors", 0),
            })
    return sorted(rows, key=lambda r: (r["env"], -(r["success@k"] or 0.0)))


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    r"""A GitHub Markdown table (pipes in cells are escaped).

    >>> print(markdown_table([{"policy": "a|b", "episodes": 3}], RUN_COLUMNS[1:2] + RUN_COLUMNS[-2:-1]))
    | policy | episodes |
    |---|---:|
    | a\|b | 3 |
    """
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(c.header for c in columns) + " |"
    rule = "|" + "|".join("---" if c.fmt is fmt_text else "---:" for c in columns) + "|"
    body = ["| " + " | ".join(cell(c.fmt(row.get(c.key))) for c in columns) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def render_markdown(summaries: Sequence[Mapping[str, Any]], plots: Sequence[str] = ()) -> str:
    """The Markdown leaderboard: runs, then per-environment rows, then the plots."""
    parts = [
        "# feedback-gym leaderboard",
        "",
        "Rates are over all episodes, and an episode that ended in an error counts as not solved; success@k "
        "is within the turn budget k; the best-of-n control samples n = k single-turn answers per task "
        "(same compute, no feedback). Runs with errors are not ranked.",
        "",
        *[f"**{title}.** {text}\n" for title, text in run_notes(summaries)],
        "## Runs",
        "",
        markdown_table(run_rows(summaries), RUN_COLUMNS),
        "",
        "## Per environment",
        "",
        markdown_table(env_rows(summaries), ENV_COLUMNS),
    ]
    if plots:
        parts += ["", "## Success vs turn", ""] + [f"![success vs turn]({p})" for p in plots]
    return "\n".join(parts) + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
table { border-collapse: collapse; margin: 1rem 0 2rem; font-size: 14px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f8fa; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #fafbfc; }
p.note { color: #57606a; max-width: 60rem; }
p.errors { color: #a40e26; background: #ffebe9; padding: 6px 10px; max-width: 60rem; }
img { max-width: 100%; }
"""

_SCRIPT = """
function sortTable(th) {
  const table = th.closest('table');
  const index = Array.from(th.parentNode.children).indexOf(th);
  const ascending = th.getAttribute('aria-sort') !== 'ascending';
  table.querySelectorAll('th').forEach(h => h.removeAttribute('aria-sort'));
  th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const key = row => row.cells[index].dataset.value;
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === '' && y === '') return 0;
    if (x === '') return 1;          // missing values last, whichever the direction
    if (y === '') return -1;
    const nx = Number(x), ny = Number(y);
    const cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
    return ascending ? cmp : -cmp;
  });
  rows.forEach(row => body.appendChild(row));
}
document.querySelectorAll('table.sortable th').forEach(th => {
  th.addEventListener('click', () => sortTable(th));
});
"""


def html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], table_id: str) -> str:
    """A sortable HTML table: each cell carries its raw value in ``data-value`` for sorting."""
    head = "".join(
        f'<th data-key="{html.escape(c.key)}" title="{html.escape(c.help)}">{html.escape(c.header)}</th>'
        for c in columns
    )
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c.key)
            raw = "" if value is None else (str(value) if c.fmt is fmt_text else repr(float(value)))
            css = "" if c.fmt is fmt_text else ' class="num"'
            cells.append(f'<td{css} data-value="{html.escape(raw)}">{html.escape(c.fmt(value))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table id="{table_id}" class="sortable"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def render_html(summaries: Sequence[Mapping[str, Any]], plots: Sequence[str] = ()) -> str:
    """A self-contained HTML page: both tables (click a header to sort) and the plots."""
    configs = {policy_label(s) + " / " + s["suite"]["name"]: s.get("config", {}) for s in summaries}
    images = "".join(f'<img src="{html.escape(p)}" alt="success vs turn">' for p in plots)
    errors = "".join(f'<p class="errors"><strong>{title}.</strong> {html.escape(text)}</p>'
                     for title, text in run_notes(summaries))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>feedback-gym leaderboard</title>
<style>{_STYLE}</style></head>
<body>
<h1>feedback-gym leaderboard</h1>
<p class="note">Rates are over all episodes, and an episode that ended in an error counts as not solved;
success@k is within the turn budget k; the best-of-n control samples n = k single-turn answers per task
(same number of samples, no feedback). Runs with errors are not ranked. Click a column header to sort.</p>
{errors}
<h2>Runs</h2>
{html_table(run_rows(summaries), RUN_COLUMNS, "runs")}
<h2>Per environment</h2>
{html_table(env_rows(summaries), ENV_COLUMNS, "envs")}
{"<h2>Success vs turn</h2>" + images if images else ""}
<details><summary>Run configurations</summary>
<pre>{html.escape(json.dumps(configs, indent=2, default=str))}</pre>
</details>
<script>{_SCRIPT}</script>
</body></html>
"""
