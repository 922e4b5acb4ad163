"""Procedurally generated maths problems, each with a worked, step-by-step reference solution.

Seven families, each at difficulty 1 (one or two steps, small numbers), 2 or 3 (more steps, larger
numbers, fractions): arithmetic word problems, fractions and percentages, linear equations, linear
systems, quadratics, sequences, and rates and work problems. Every value is computed with exact
rationals while the problem is built, so the worked solution is right by construction and its
intermediate values are machine-readable for the critic. Item ``i`` of seed ``s`` is always the same
problem (:class:`~feedback_gym.tasks.GeneratedTaskSource`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction as F

from feedback_gym.envs.math.numerals import format_number as fmt
from feedback_gym.envs.math.solution import Step, math_task, step
from feedback_gym.errors import ConfigError
from feedback_gym.tasks import GeneratedTaskSource, Task

DIFFICULTIES = (1, 2, 3)


@dataclass(frozen=True)
class Problem:
    """A generated question with its worked steps and final answer."""

    question: str
    steps: tuple[Step, ...]
    answer: str


_NAMES = ("Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam")
_ITEMS = (
    ("pencils", "box"),
    ("apples", "crate"),
    ("cookies", "tray"),
    ("stickers", "sheet"),
    ("bottles", "pack"),
    ("eggs", "carton"),
    ("marbles", "bag"),
    ("cards", "deck"),
)


def arithmetic(rng: random.Random, level: int) -> Problem:
    """A shop or stock word problem: multiply, then subtract and add in order."""
    item, unit = rng.choice(_ITEMS)
    name = rng.choice(_NAMES)
    per = rng.randint(6, 12) if level == 1 else rng.randint(12, 30)
    units = rng.randint(3, 9) if level == 1 else rng.randint(8, 25)
    total = units * per
    sold_1 = rng.randint(total // 6, total // 3)
    steps = [step(f"{item} at the start", f"{units} * {per}", total)]
    question = (
        f"{name} has {units} {unit}es of {item} with {per} {item} in each {unit}. "
        if unit.endswith("x")
        else f"{name} has {units} {unit}s of {item} with {per} {item} in each {unit}. "
    )
    question += f"{name} gives away {sold_1} {item}."
    left = total - sold_1
    steps.append(step(f"{item} left after giving some away", f"{total} - {sold_1}", left))
    if level >= 2:
        sold_2 = rng.randint(left // 5, left // 2)
        question += f" Then {name} sells {sold_2} more."
        steps.append(step(f"{item} left after the sale", f"{left} - {sold_2}", left - sold_2))
        left -= sold_2
    if level >= 3:
        extra_units = rng.randint(2, 6)
        question += f" Finally {name} buys {extra_units} more {unit}{'es' if unit.endswith('x') else 's'}."
        added = extra_units * per
        steps.append(step(f"{item} in the new {unit}s bought", f"{extra_units} * {per}", added))
        steps.append(step(f"{item} at the end", f"{left} + {added}", left + added))
        left += added
    question += f" How many {item} does {name} have now?"
    return Problem(question, tuple(steps), fmt(F(left)))


def fractions_percentages(rng: random.Random, level: int) -> Problem:
    """Spend a percentage of a budget, then a fraction of the rest (and a discount at level 3)."""
    name = rng.choice(_NAMES)
    percent = rng.choice((10, 20, 25, 30, 40, 50, 60, 75))
    money = rng.randint(2, 20) * 20 if level < 3 else rng.randint(20, 60) * 20
    spent = F(money * percent, 100)
    question = f"{name} has ${money}. {name} spends {percent}% of it on books."
    steps = [step("money spent on books", f"{percent}% of {money}", spent)]
    left = money - spent
    steps.append(step("money left after the books", f"{money} - {fmt(spent)}", left))
    if level >= 2:
        num, den = rng.choice(((1, 2), (1, 3), (2, 3), (1, 4), (3, 4), (2, 5), (3, 5), (1, 5)))
        while (left * num) % den:
            money += 20
            spent = F(money * percent, 100)
            left = money - spent
            question = f"{name} has ${money}. {name} spends {percent}% of it on books."
            steps = [
                step("money spent on books", f"{percent}% of {money}", spent),
                step("money left after the books", f"{money} - {fmt(spent)}", left),
            ]
        lunch = left * F(num, den)
        question += f" Then {name} spends {num}/{den} of what is left on lunch."
        steps.append(step("money spent on lunch", f"{num}/{den} of {fmt(left)}", lunch))
        steps.append(step("money left after lunch", f"{fmt(left)} - {fmt(lunch)}", left - lunch))
        left -= lunch
    if level >= 3:
        off = rng.choice((10, 20, 25, 50))
        affordable = int(left / F(100 - off, 100)) // 10  # never spend more than is left
        price = rng.randint(1, max(1, min(affordable, 12))) * 10
        sale = price * F(100 - off, 100)
        question += f" Finally {name} buys a game priced ${price} at {off}% off."
        steps.append(step("price of the game after the discount", f"{price} * {100 - off}/100", sale))
        steps.append(step("money left at the end", f"{fmt(left)} - {fmt(sale)}", left - sale))
        left -= sale
    question += f" How many dollars does {name} have left?"
    return Problem(question, tuple(steps), fmt(left))


def _signed(coefficient: int, name: str, first: bool = False) -> str:
    sign = "-" if coefficient < 0 else ("" if first else "+")
    magnitude = abs(coefficient)
    body = name if magnitude == 1 and name else f"{magnitude}{name}"
    return f"{sign}{body}" if first else f" {sign} {body}"


def p(value: int | F) -> str:
    """Write a number for an expression, in parentheses when negative: ``(-3)``."""
    return f"({fmt(F(value))})" if value < 0 else fmt(F(value))


def linear_equation(rng: random.Random, level: int) -> Problem:
    """Solve ``ax + b = cx + d`` (``c = 0`` at level 1); a fractional solution at level 3."""
    x = F(rng.randint(-9, 12)) if level < 3 else F(rng.randint(-20, 20), rng.choice((2, 3, 4, 5)))
    a = rng.choice([v for v in range(-9, 10) if v not in (0, 1)])
    c = 0 if level == 1 else rng.choice([v for v in range(-6, 7) if v not in (0, a)])
    b = rng.choice([v for v in range(-20, 21) if v])
    k = a - c
    d = k * x + b
    if level == 3:  # keep the constants whole: scale by x's denominator
        scale = x.denominator
        a, b, c = a * scale, b * scale, c * scale
        k = a - c
        d = k * x + b
    d = int(d)
    right = f"{d}" if c == 0 else f"{_signed(c, 'x', True)}{_signed(d, '') if d else ''}"
    left = f"{_signed(a, 'x', True)}{_signed(b, '') if b else ''}"
    question = f"Solve for x: {left} = {right}."
    steps = []
    if c:
        steps.append(
            step(
                "the coefficient of x after moving the x terms to the left",
                f"{a} - {p(c)}",
                k,
                equation=f"{k}x + {b} = {d}",
            )
        )
    rhs = d - b
    steps.append(
        step(
            "the right-hand side after moving the constant to the right",
            f"{d} - {p(b)}",
            rhs,
            equation=f"{k}x = {rhs}",
        )
    )
    steps.append(
        step(
            "the value of x, dividing both sides by the coefficient of x",
            f"{rhs} / {p(k)}",
            x,
            equation=f"x = {fmt(x)}",
        )
    )
    return Problem(question, tuple(steps), fmt(x))


def linear_system(rng: random.Random, level: int) -> Problem:
    """Solve two linear equations in x and y by elimination; the answer is the pair (x, y)."""
    x, y = rng.randint(-8, 12), rng.randint(-8, 12)
    if level == 1:
        a1, b1, a2, b2 = 1, 1, 1, -1
    else:
        span = 5 if level == 2 else 9
        while True:
            a1, b1, a2, b2 = (rng.choice([v for v in range(-span, span + 1) if v]) for _ in range(4))
            if a1 * b2 - a2 * b1 != 0:
                break
    c1, c2 = a1 * x + b1 * y, a2 * x + b2 * y
    eq1 = f"{_signed(a1, 'x', True)}{_signed(b1, 'y')} = {c1}"
    eq2 = f"{_signed(a2, 'x', True)}{_signed(b2, 'y')} = {c2}"
    question = f"Solve the system of equations {eq1} and {eq2}. Give the answer as an ordered pair (x, y)."
    y_coefficient = b1 * a2 - b2 * a1
    y_rhs = c1 * a2 - c2 * a1
    steps = [
        step(
            "the coefficient of y after eliminating x (first equation times the x-coefficient of the "
            "second, minus the second times that of the first)",
            f"{p(b1)} * {p(a2)} - {p(b2)} * {p(a1)}",
            y_coefficient,
        ),
        step(
            "the right-hand side after eliminating x",
            f"{p(c1)} * {p(a2)} - {p(c2)} * {p(a1)}",
            y_rhs,
            equation=f"{y_coefficient}y = {y_rhs}",
        ),
        step(
            "the value of y, dividing by its coefficient",
            f"{y_rhs} / {p(y_coefficient)}",
            y,
            equation=f"y = {y}",
        ),
        step(
            "the value of x, substituting y into the first equation",
            f"({c1} - {p(b1)} * {p(y)}) / {p(a1)}",
            x,
            equation=f"x = {x}",
        ),
    ]
    return Problem(question, tuple(steps), f"({x}, {y})")


def quadratic(rng: random.Random, level: int) -> Problem:
    """Find the real roots of a quadratic with rational roots via the discriminant."""
    r1 = rng.randint(-9, 9)
    r2 = rng.choice([v for v in range(-9, 10) if v != r1])
    lead = 1 if level < 3 else rng.choice((2, 3))
    if level == 3:
        r2 = F(rng.choice([v for v in range(-7, 8) if v]), lead)
        if r2 == r1:
            r2 += 1
    a = lead
    b = -a * (r1 + r2)
    c = a * r1 * r2
    if level == 3 and (b.denominator != 1 or c.denominator != 1):
        b, c = F(b), F(c)
    b, c = int(b), int(c)
    poly = f"{_signed(a, 'x^2', True)}{_signed(b, 'x') if b else ''}{_signed(c, '') if c else ''}"
    question = f"Find all real solutions of {poly} = 0. List them separated by commas."
    disc = b * b - 4 * a * c
    root = F(int(round(disc**0.5)))
    assert root * root == disc
    small, large = sorted((F(r1), F(r2)))
    steps = [
        step("the discriminant of the quadratic", f"({b})^2 - 4*{a}*({c})", disc),
        step("the square root of the discriminant", f"sqrt({disc})", root),
        step("the smaller root from the quadratic formula", f"({-b} - {fmt(root)}) / {2 * a}", small),
        step("the larger root from the quadratic formula", f"({-b} + {fmt(root)}) / {2 * a}", large),
    ]
    return Problem(question, tuple(steps), f"{fmt(small)}, {fmt(large)}")


def sequences(rng: random.Random, level: int) -> Problem:
    """An arithmetic sequence's n-th term (level 1), its partial sum (2), or a geometric sum (3)."""
    if level < 3:
        first, diff = rng.randint(-10, 20), rng.choice([v for v in range(-7, 10) if v])
        n = rng.randint(8, 30)
        question = f"An arithmetic sequence starts {first}, {first + diff}, {first + 2 * diff}, ..."
        steps = [
            step("the number of steps from the first term to the term asked for", f"{n} - 1", n - 1),
            step("the total change over those steps", f"{n - 1} * {p(diff)}", (n - 1) * diff),
            step("the term asked for", f"{first} + {p((n - 1) * diff)}", first + (n - 1) * diff),
        ]
        last = first + (n - 1) * diff
        if level == 1:
            return Problem(question + f" What is term number {n}?", tuple(steps), str(last))
        total = F(n * (first + last), 2)
        steps.append(
            step(
                "the sum of the terms (the number of terms times the average of the first and last term)",
                f"{n} * ({first} + {p(last)}) / 2",
                total,
            )
        )
        return Problem(question + f" What is the sum of the first {n} terms?", tuple(steps), fmt(total))
    ratio = rng.choice((F(2), F(3), F(-2), F(1, 2), F(-1, 2), F(2, 3)))
    n = rng.randint(4, 8)
    first = F(rng.randint(1, 6) * (ratio.denominator ** rng.randint(1, 3)))
    terms = ", ".join(fmt(first * ratio**k) for k in range(3))
    question = f"A geometric sequence starts {terms}, ... What is the sum of the first {n} terms?"
    power = ratio**n
    total = first * (power - 1) / (ratio - 1)
    steps = [
        step("the common ratio raised to the number of terms", f"({fmt(ratio)})^{n}", power),
        step(
            "the first term times (that power minus unity)",
            f"{fmt(first)} * ({fmt(power)} - 1)",
            first * (power - 1),
        ),
        step(
            "the sum, dividing by (the ratio minus unity)",
            f"{p(first * (power - 1))} / ({fmt(ratio)} - 1)",
            total,
        ),
    ]
    return Problem(question, tuple(steps), fmt(total))


def rates_work(rng: random.Random, level: int) -> Problem:
    """Distance from speeds and times (level 1), or two workers sharing a job (levels 2-3)."""
    if level == 1:
        v1, t1, v2, t2 = rng.randint(4, 12) * 5, rng.randint(2, 5), rng.randint(4, 12) * 5, rng.randint(1, 4)
        question = (
            f"A train travels at {v1} km/h for {t1} hours and then at {v2} km/h for {t2} hours. "
            "How many kilometres does it travel in total?"
        )
        steps = (
            step("the distance in the first part", f"{v1} * {t1}", v1 * t1),
            step("the distance in the second part", f"{v2} * {t2}", v2 * t2),
            step("the total distance", f"{v1 * t1} + {v2 * t2}", v1 * t1 + v2 * t2),
        )
        return Problem(question, steps, str(v1 * t1 + v2 * t2))
    a, b = rng.choice(
        ((2, 3), (3, 6), (4, 12), (6, 3), (5, 20), (10, 15), (12, 4), (6, 12), (8, 24), (9, 18))
    )
    names = rng.sample(_NAMES, 2)
    rate_a, rate_b = F(1, a), F(1, b)
    together = rate_a + rate_b
    if level == 2:
        question = (
            f"{names[0]} can paint a fence in {a} hours and {names[1]} can paint it in {b} hours. "
            "Working together, how many hours do they take?"
        )
        steps = (
            step(f"{names[0]}'s share of the fence per hour", f"1/{a}", rate_a),
            step(f"{names[1]}'s share of the fence per hour", f"1/{b}", rate_b),
            step("the share they paint together per hour", f"1/{a} + 1/{b}", together),
            step("the time together", f"1 / ({fmt(together)})", 1 / together),
        )
        return Problem(question, steps, fmt(1 / together))
    alone = rng.randint(1, a - 1) if a > 1 else 1
    done = alone * rate_a
    question = (
        f"{names[0]} can paint a fence in {a} hours and {names[1]} can paint it in {b} hours. "
        f"{names[0]} works alone for {alone} hour{'s' if alone > 1 else ''}, then {names[1]} joins. "
        "How many more hours do they need together to finish?"
    )
    steps = (
        step(f"the share {names[0]} paints alone", f"{alone} * 1/{a}", done),
        step("the share still to paint", f"1 - {fmt(done)}", 1 - done),
        step("the share they paint together per hour", f"1/{a} + 1/{b}", together),
        step("the time still needed", f"({fmt(1 - done)}) / ({fmt(together)})", (1 - done) / together),
    )
    return Problem(question, steps, fmt((1 - done) / together))


#: The families by name.
FAMILIES: dict[str, Callable[[random.Random, int], Problem]] = {
    "arithmetic": arithmetic,
    "fractions_percentages": fractions_percentages,
    "linear_equation": linear_equation,
    "linear_system": linear_system,
    "quadratic": quadratic,
    "sequences": sequences,
    "rates_work": rates_work,
}


def generated_source(
    families: Sequence[str] | None = None, difficulty: int | None = None, seed: int = 0
) -> GeneratedTaskSource:
    """A seeded source over the chosen families and difficulty (``None``: each task draws 1-3).

    >>> source = generated_source(["quadratic"], difficulty=1)
    >>> task = source.task(3)
    >>> task.id, task.metadata["family"], task.reference == source.task(3).reference
    ('math-gen-quadratic-d1/0/3', 'quadratic', True)
    """
    chosen = tuple(families) if families else tuple(FAMILIES)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown or not chosen:
        raise ConfigError(f"unknown problem families {unknown}; accepted: {', '.join(FAMILIES)}")
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise ConfigError(f"difficulty must be None or one of {DIFFICULTIES}; got {difficulty!r}")

    def generate(rng: random.Random, index: int) -> Task:
        family = chosen[index % len(chosen)] if len(chosen) > 1 else chosen[0]
        level = difficulty if difficulty is not None else rng.choice(DIFFICULTIES)
        problem = FAMILIES[family](rng, level)
        return math_task(
            f"math-gen/{seed}/{index}",
            problem.question,
            problem.answer,
            problem.steps,
            source="generated",
            metadata={"family": family, "difficulty": level},
        )

    name = (
        "math-gen" if difficulty is None and chosen == tuple(FAMILIES) else _source_name(chosen, difficulty)
    )
    return GeneratedTaskSource(name, generate, seed=seed)


def _source_name(families: tuple[str, ...], difficulty: int | None) -> str:
    parts = ["math-gen", "+".join(families) if families != tuple(FAMILIES) else "all"]
    if difficulty is not None:
        parts.append(f"d{difficulty}")
    return "-".join(parts)
