"""The AST bug injector: deterministic, one-site, parseable bugs that the stated one-line fix undoes."""

from __future__ import annotations

import ast
import random

import pytest

from feedback_gym.envs.multiagent.baselines import apply_line_instructions
from feedback_gym.envs.multiagent.bugs import BUG_KINDS, candidate_bugs, inject_bug, shuffled_bugs
from feedback_gym.errors import ConfigError

from .scripted import TINY_PROGRAMS

PROGRAMS = [ref for _, ref in TINY_PROGRAMS.values()] + [
    "def mean(xs):\n    if len(xs) == 0:\n        return 0\n    total = 0\n    for x in xs:\n"
    "        total += x\n    return total / len(xs)\n",
    "def both(a, b):\n    return a and b or not a and not b\n",
    "def contains(xs, y):\n    return y in xs\n",
    "def fizz(n):\n    return 'fizz' if n % 3 == 0 else str(n)\n",
]


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_candidate_parses_differs_on_one_line_and_the_stated_fix_restores_it(program):
    bugs = candidate_bugs(program)
    assert bugs
    original = ast.dump(ast.parse(program))
    for bug in bugs:
        assert bug.kind in BUG_KINDS
        assert ast.dump(ast.parse(bug.program)) != original
        assert ast.dump(ast.parse(bug.fixed_program)) == original
        pairs = zip(bug.program.splitlines(), bug.fixed_program.splitlines(), strict=True)
        diff = [i for i, (a, b) in enumerate(pairs) if a != b]
        assert diff == [bug.line - 1]
        repaired = apply_line_instructions(bug.program, f"Line {bug.line}: should be `{bug.fixed_line}`")
        assert ast.dump(ast.parse(repaired)) == original


def test_each_kind_does_what_it_says():
    program = "def f(xs, k):\n    if xs[0] < k:\n        return k + 1\n    return 0\n"
    by_kind = {kind: candidate_bugs(program, (kind,)) for kind in BUG_KINDS}
    assert {b.buggy_line for b in by_kind["flip_comparison"]} == {"if xs[0] > k:"}
    assert {b.buggy_line for b in by_kind["wrong_operator"]} == {"return k - 1"}
    assert {b.buggy_line for b in by_kind["drop_return"]} == {"k + 1", "0"}
    assert {b.buggy_line for b in by_kind["off_by_one"]} == {"if xs[1] < k:", "return k + 2", "return 1"}


def test_draws_are_deterministic_per_seed_and_vary_across_seeds():
    program = PROGRAMS[3]
    assert inject_bug(program, random.Random(11)) == inject_bug(program, random.Random(11))
    assert len({inject_bug(program, random.Random(s)).program for s in range(10)}) > 3
    assert shuffled_bugs(program, random.Random(2)) == shuffled_bugs(program, random.Random(2))


def test_programs_without_sites_or_that_do_not_parse():
    assert candidate_bugs("def f(:\n") == []
    assert candidate_bugs("pass\n") == []
    with pytest.raises(ConfigError, match="no place to inject"):
        inject_bug("pass\n", random.Random(0))
    with pytest.raises(ConfigError, match="unknown bug kinds"):
        candidate_bugs("x = 1\n", ("typo",))


def test_mutation_report_counts_killed_and_surviving_bugs():
    from feedback_gym.envs.multiagent.bugs import candidate_bugs as bugs_of
    from feedback_gym.envs.multiagent.mutation_report import mutation_report

    from .scripted import tiny_code_family

    report = mutation_report(tiny_code_family())
    expected = sum(len(bugs_of(ref)) for _, ref in TINY_PROGRAMS.values())
    assert report.tasks == report.usable_tasks == 3
    assert sum(report.total.values()) == sum(report.killed.values()) == expected  # AST match kills all
    assert "all" in report.table() and report.survivors == []


def test_mutation_report_command_on_the_code_family(capsys):
    from feedback_gym.envs.multiagent.mutation_report import main

    assert main(["--limit", "1", "--survivors"]) == 0
    out = capsys.readouterr().out
    assert "tasks: 1, with at least one failing bug (usable): 1" in out and "verifications in" in out
