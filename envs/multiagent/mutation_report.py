"""How many injected bugs a code family's tests catch: the mutation score behind ``code_critique_v0``.

``code_critique_v0`` only serves bugs that fail the tests; a bug the tests miss (an equivalent mutant,
or a gap in the tests) is skipped. This report runs every candidate bug of every task through the
family's verifier (in its sandbox) and counts, per bug kind, how many the tests kill, with the mean
test score of the killed programs (how much partial credit an erroneous program keeps)::

    python -m feedback_gym.envs.multiagent.mutation_report --family CodeFeedback-v0 [--limit N]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from feedback_gym.env import FeedbackEnv
from feedback_gym.errors import ConfigError

from .bugs import candidate_bugs, extract_program, fence
from .game import make_family


@dataclass
class MutationReport:
    """Counts per bug kind, the tasks with no failing bug, and the time the verifications took."""

    tasks: int = 0
    usable_tasks: int = 0
    total: Counter[str] = field(default_factory=Counter)
    killed: Counter[str] = field(default_factory=Counter)
    killed_scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    survivors: list[tuple[str, str, int]] = field(default_factory=list)  # (task id, kind, line)
    seconds: float = 0.0

    def table(self) -> str:
        """The report as a plain-text table."""
        lines = [
            f"tasks: {self.tasks}, with at least one failing bug (usable): {self.usable_tasks}",
            f"{'kind':16} {'mutants':>8} {'killed':>7} {'survived':>9} {'mean score of killed':>21}",
        ]
        for kind in sorted(self.total):
            scores = self.killed_scores[kind]
            mean = sum(scores) / len(scores) if scores else 0.0
            survived = self.total[kind] - self.killed[kind]
            lines.append(f"{kind:16} {self.total[kind]:8d} {self.killed[kind]:7d} {survived:9d} {mean:21.2f}")
        runs, killed = sum(self.total.values()), sum(self.killed.values())
        lines.append(f"{'all':16} {runs:8d} {killed:7d} {runs - killed:9d}")
        if runs:
            each = 1000 * self.seconds / runs
            lines.append(f"{runs} verifications in {self.seconds:.1f} s ({each:.0f} ms each)")
        return "\n".join(lines)


def mutation_report(family: FeedbackEnv, limit: int | None = None) -> MutationReport:
    """Verify every candidate bug of the first ``limit`` tasks (all when ``None``) of ``family``."""
    size = family.source.size
    if size is None and limit is None:
        raise ConfigError("this family's source is unlimited; give a limit")
    count = size if limit is None else min(limit, size or limit)
    report = MutationReport()
    start = time.perf_counter()
    for index in range(count):
        task = family.source.task(index)
        report.tasks += 1
        usable = False
        for bug in candidate_bugs(extract_program(family.verifier.reference_action(task))):
            verdict = family.verifier.verify(task, fence(bug.program))
            report.total[bug.kind] += 1
            if verdict.solved:
                report.survivors.append((task.id, bug.kind, bug.line))
                continue
            report.killed[bug.kind] += 1
            report.killed_scores[bug.kind].append(verdict.score)
            usable = True
        report.usable_tasks += usable
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    """Print the mutation report of a code family (``--family``, ``--limit``, ``--survivors``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="CodeFeedback-v0", help="a code family's env id")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    parser.add_argument("--survivors", action="store_true", help="list the bugs the tests miss")
    args = parser.parse_args(argv)
    family = make_family(args.family, None)
    try:
        report = mutation_report(family, args.limit)
    finally:
        family.close()
    print(report.table())
    if args.survivors:
        for task_id, kind, line in report.survivors:
            print(f"survived: {task_id} {kind} line {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
