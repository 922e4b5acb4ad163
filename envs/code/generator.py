"""A seeded procedural source of Python function tasks, for unlimited training data.

Each task is a small pipeline over a list of integers (filter, then transform, then reduce) or over a
string (a chain of string edits, then an output form). The description, the reference program and
the expected values all come from the same spec, so every generated task is solvable and its tests
are right by construction. Task ``index`` depends only on ``(seed, index)``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from feedback_gym.tasks import GeneratedTaskSource, Task

from .schema import code_task

NAME = "codegen"


@dataclass(frozen=True)
class Step:
    """One step of a pipeline: its English phrase, its Python code, and a function that computes it."""

    phrase: str
    code: str
    apply: Callable


def _int_filters(rng: random.Random) -> Step:
    k = rng.randint(2, 5)
    t = rng.randint(-5, 10)
    choices = [
        Step("keeps only the even numbers", "xs = [x for x in xs if x % 2 == 0]",
             lambda xs: [x for x in xs if x % 2 == 0]),
        Step("keeps only the odd numbers", "xs = [x for x in xs if x % 2 != 0]",
             lambda xs: [x for x in xs if x % 2 != 0]),
        Step(f"keeps only the numbers divisible by {k}", f"xs = [x for x in xs if x % {k} == 0]",
             lambda xs: [x for x in xs if x % k == 0]),
        Step(f"keeps only the numbers greater than {t}", f"xs = [x for x in xs if x > {t}]",
             lambda xs: [x for x in xs if x > t]),
        Step("keeps only the positive numbers", "xs = [x for x in xs if x > 0]",
             lambda xs: [x for x in xs if x > 0]),
        Step("drops the first and the last element (if present)", "xs = xs[1:-1]", lambda xs: xs[1:-1]),
    ]
    return rng.choice(choices)


def _int_maps(rng: random.Random) -> Step:
    a = rng.randint(2, 5)
    b = rng.randint(-5, 5)
    m = rng.randint(3, 9)
    choices = [
        Step(f"multiplies each number by {a} and adds {b}", f"xs = [x * {a} + {b} for x in xs]",
             lambda xs: [x * a + b for x in xs]),
        Step("squares each number", "xs = [x * x for x in xs]", lambda xs: [x * x for x in xs]),
        Step("replaces each number by its absolute value", "xs = [abs(x) for x in xs]",
             lambda xs: [abs(x) for x in xs]),
        Step(f"replaces each number by its remainder modulo {m} (a value in 0..{m - 1})",
             f"xs = [x % {m} for x in xs]", lambda xs: [x % m for x in xs]),
        Step("replaces each number by the sum of its decimal digits (ignoring the sign)",
             "xs = [sum(int(d) for d in str(abs(x))) for x in xs]",
             lambda xs: [sum(int(d) for d in str(abs(x))) for x in xs]),
    ]
    return rng.choice(choices)


INT_REDUCERS = [
    Step("returns their sum (0 if none remain)", "return sum(xs)", sum),
    Step("returns the largest of them, or None if none remain", "return max(xs) if xs else None",
         lambda xs: max(xs) if xs else None),
    Step("returns the smallest of them, or None if none remain", "return min(xs) if xs else None",
         lambda xs: min(xs) if xs else None),
    Step("returns how many remain", "return len(xs)", len),
    Step("returns them sorted in ascending order", "return sorted(xs)", sorted),
    Step("returns them in reverse order", "return xs[::-1]", lambda xs: xs[::-1]),
    Step("returns the distinct values in ascending order", "return sorted(set(xs))",
         lambda xs: sorted(set(xs))),
]


def _string_steps(rng: random.Random) -> Step:
    ch = rng.choice("aeiost")
    repl = rng.choice("*#_-")
    choices = [
        Step("lower-cases it", "s = s.lower()", str.lower),
        Step("upper-cases it", "s = s.upper()", str.upper),
        Step("reverses it", "s = s[::-1]", lambda s: s[::-1]),
        Step("removes every vowel (a, e, i, o, u in either case)",
             "s = ''.join(c for c in s if c.lower() not in 'aeiou')",
             lambda s: "".join(c for c in s if c.lower() not in "aeiou")),
        Step(f"replaces every '{ch}' with '{repl}'", f"s = s.replace({ch!r}, {repl!r})",
             lambda s: s.replace(ch, repl)),
        Step("removes every character that is not a letter", "s = ''.join(c for c in s if c.isalpha())",
             lambda s: "".join(c for c in s if c.isalpha())),
        Step("swaps the case of every letter", "s = s.swapcase()", str.swapcase),
    ]
    return rng.choice(choices)


STRING_OUTPUTS = [
    Step("returns the result", "return s", lambda s: s),
    Step("returns the length of the result", "return len(s)", len),
    Step("returns the number of distinct characters in the result", "return len(set(s))",
         lambda s: len(set(s))),
]

_FUNCTION_NAMES = ("transform", "process", "solve", "compute", "convert", "pipeline")
_WORDS = ("Hello World", "Programming is fun", "aeiou AEIOU", "", "xyz", "The Quick Brown Fox",
          "sass tests it", "Data 2024!", "a-b_c d", "Mississippi")


def _random_list(rng: random.Random) -> list[int]:
    return [rng.randint(-20, 40) for _ in range(rng.randint(0, 9))]


def _random_string(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(_WORDS)
    alphabet = "abcdeiostuxyzABEIOST !1-_"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))


def generate_code_task(rng: random.Random, index: int, *, num_tests: int = 8) -> Task:
    """Build one generated task (the source renames it ``codegen/<seed>/<index>``)."""
    name = f"{rng.choice(_FUNCTION_NAMES)}_{index}"
    if rng.random() < 0.6:
        steps = [_int_filters(rng)] + [_int_maps(rng) for _ in range(rng.randint(0, 2))]
        steps.append(rng.choice(INT_REDUCERS))
        argument, subject, make_input = "xs", "takes a list of integers xs, ", _random_list
        fixed_inputs: list = [[], [0, 1, 2, 3, 4, 5], [-7, 13, 22, -4]]
    else:
        steps = [_string_steps(rng) for _ in range(rng.randint(1, 3))]
        steps.append(rng.choice(STRING_OUTPUTS))
        argument, subject, make_input = "s", "takes a string s, ", _random_string
        fixed_inputs = ["", "Hello World", "aEiOu xyz"]
    phrases = [s.phrase for s in steps]
    joiner = ", and " if len(phrases) > 1 else ""
    description = subject + ", then ".join(phrases[:-1]) + joiner + phrases[-1]
    code = "\n".join([f"def {name}({argument}):", *(f"    {s.code}" for s in steps)]) + "\n"
    inputs = list(fixed_inputs)
    while len(inputs) < num_tests:
        candidate = make_input(rng)
        if candidate not in inputs:
            inputs.append(candidate)
    tests = []
    for value in inputs:
        result = value
        for step in steps:
            result = step.apply(result)
        tests.append(f"assert candidate({value!r}) == {result!r}")
    prompt = (
        f"Write a Python function `{name}({argument})` that {description}.\n\n"
        "Reply with the function in a ```python code block."
    )
    difficulty = ("easy", "medium", "hard")[min(2, len(steps) - 2)]
    return code_task(
        f"{NAME}/{index}", prompt, reference=code, entry_point=name, tests=tests, visible=1,
        source=NAME, difficulty=difficulty,
    )


def generated_source(seed: int = 0) -> GeneratedTaskSource:
    """The unlimited procedural source; task ids are ``codegen/<seed>/<index>``.

    >>> src = generated_source(seed=3)
    >>> src.task(7).prompt == src.get("codegen/3/7").prompt and src.task(7).id
    'codegen/3/7'
    """
    return GeneratedTaskSource(NAME, generate_code_task, seed=seed)
