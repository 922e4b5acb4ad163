r"""Reading numbers out of text, exactly.

Every part of the maths family that looks at numbers (answer equivalence, the reference-guided critic
that matches an agent's steps to the worked solution, the leak filter) goes through these functions,
so that ``1,250``, ``1250.0``, ``5/4``, ``\frac{5}{4}``, ``1.25e3`` and ``-3`` are read the same way
everywhere. Values are :class:`fractions.Fraction` so no float rounding decides a comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

#: Longest digit run read as a number; longer runs are ignored (no giant integers from junk text).
MAX_DIGITS = 60
#: The largest decimal exponent accepted in scientific notation.
MAX_EXPONENT = 300

_NUMBER = (
    r"(?<![\w.])(?P<sign>[-−]\s?)?"
    r"(?P<body>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?:[eE]|\\times\s?10\^|×\s?10\^|\*\s?10\*\*)\s?\{?(?P<exp>[-+]?\d{1,3})\}?)?"
    r"(?P<pct>\s?(?:\\?%|percent\b))?"
)
_FRACTION = re.compile(
    r"(?P<sign>[-−]\s?)?\\[dt]?frac\s*\{\s*(?P<num>-?\d+(?:\.\d+)?)\s*\}\s*\{\s*(?P<den>-?\d+(?:\.\d+)?)\s*\}"
)
_SLASH = re.compile(r"(?<![\w./])(?P<sign>[-−]\s?)?(?P<num>\d+)\s?/\s?(?P<den>\d+)(?![\w./])")
_SCALAR = re.compile(_NUMBER)


@dataclass(frozen=True)
class NumberMatch:
    """One number found in a text: its exact value and where it sits."""

    value: Fraction
    start: int
    end: int
    text: str


def parse_number(text: str) -> Fraction | None:
    r"""Read ``text`` as a single number, or return ``None`` when it is anything else.

    Accepts integers, decimals, thousands separators, fractions (``a/b``, ``\frac{a}{b}``), scientific
    notation, a trailing percent sign (kept as the number: ``25%`` is 25), a leading ``$`` and
    surrounding ``$...$`` math delimiters.

    >>> parse_number("1,250"), parse_number("-3.5"), parse_number("\\dfrac{3}{4}")
    (Fraction(1250, 1), Fraction(-7, 2), Fraction(3, 4))
    >>> parse_number("1.5e3"), parse_number("7/2"), parse_number("x + 1")
    (Fraction(1500, 1), Fraction(7, 2), None)
    """
    stripped = _strip_wrappers(text)
    if not stripped:
        return None
    for found in find_numbers(stripped):
        if found.start == 0 and found.end == len(stripped):
            return found.value
    return None


def _strip_wrappers(text: str) -> str:
    text = text.strip().strip("$").strip()
    text = re.sub(r"^\\\(|\\\)$", "", text).strip()
    text = re.sub(r"\\[,;!: ]", "", text)  # LaTeX thin spaces inside numbers: 1\,000
    text = text.replace("{,}", ",")
    if text.startswith("\\$"):
        text = text[2:].strip()
    if text.startswith("$"):
        text = text[1:].strip()
    text = re.sub(r"^\\text\{\s*(.*?)\s*\}$", r"\1", text)
    return text.rstrip(".").strip()


def _value(sign: str | None, body: str, exp: str | None = None) -> Fraction | None:
    digits = body.replace(",", "")
    if len(digits) > MAX_DIGITS:
        return None
    value = Fraction(digits)
    if exp is not None:
        power = int(exp)
        if abs(power) > MAX_EXPONENT:
            return None
        value *= Fraction(10) ** power
    return -value if sign else value


def find_numbers(text: str) -> list[NumberMatch]:
    r"""Find every number in ``text``, left to right, fractions counted as one number.

    >>> [str(m.value) for m in find_numbers("48/2 = 24 clips, then 1,000 - \\frac{1}{2}")]
    ['24', '24', '1000', '1/2']
    >>> [str(m.value) for m in find_numbers("step 3: x = -2.5e2")]
    ['3', '-250']
    """
    matches: list[NumberMatch] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_FRACTION, _SLASH):
        for m in pattern.finditer(text):
            try:
                num = _value(None, m.group("num"))
                den = _value(None, m.group("den"))
            except (ValueError, ZeroDivisionError):
                continue
            if num is None or den is None or den == 0:
                continue
            value = num / den
            matches.append(NumberMatch(-value if m.group("sign") else value, m.start(), m.end(), m.group(0)))
            taken.append((m.start(), m.end()))
    for m in _SCALAR.finditer(text):
        if any(start <= m.start() < end for start, end in taken):
            continue
        try:
            value = _value(m.group("sign"), m.group("body"), m.group("exp"))
        except (ValueError, ZeroDivisionError):
            continue
        if value is not None:
            matches.append(NumberMatch(value, m.start(), m.end(), m.group(0)))
    matches.sort(key=lambda found: found.start)
    return _drop_binary_minus(text, matches)


def _drop_binary_minus(text: str, matches: list[NumberMatch]) -> list[NumberMatch]:
    """Read ``5 - 3`` as 5 and 3, not 5 and -3: a minus right after an operand is subtraction.

    >>> [str(m.value) for m in find_numbers("x - 3, it gives -30, and 4 - -2")]
    ['3', '-30', '4', '-2']
    """
    fixed = []
    for found in matches:
        if found.text.lstrip()[:1] in "-−" and found.value < 0:
            before = text[: found.start].rstrip()
            # "x - 3" subtracts; "gives -3" is a sign
            single_letter = re.search(r"(?<![A-Za-z])[A-Za-z]$", before) is not None
            if before and (before[-1].isdigit() or before[-1] in ")}]%" or single_letter):
                body = found.text.lstrip()[1:].lstrip()
                offset = len(found.text) - len(body)
                fixed.append(NumberMatch(-found.value, found.start + offset, found.end, body))
                continue
        fixed.append(found)
    return fixed


def format_number(value: Fraction) -> str:
    """Write a value the way a worked solution would: ``35``, ``2.5``, or ``7/3``.

    >>> format_number(Fraction(35)), format_number(Fraction(5, 2)), format_number(Fraction(7, 3))
    ('35', '2.5', '7/3')
    """
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        text = f"{float(value):.10f}".rstrip("0").rstrip(".")
        if Fraction(text) == value:
            return text
    return f"{value.numerator}/{value.denominator}"


_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_WORD = re.compile(
    r"\b(?:(?P<tens>" + "|".join(_TENS) + r")(?:[\s-]+(?P<unit>" + "|".join(list(_UNITS)[1:10]) + r"))?"
    r"|(?P<single>" + "|".join(_UNITS) + r"))"
    r"(?:\s+(?P<scale>hundred|thousand|million))?\b",
    re.IGNORECASE,
)
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}


def find_number_words(text: str) -> list[NumberMatch]:
    """Find numbers written in words (``thirty-five``, ``seven hundred``) for the leak filter.

    >>> [int(m.value) for m in find_number_words("about thirty-five, or seven hundred apples")]
    [35, 700]
    """
    found = []
    for m in _WORD.finditer(text):
        if m.group("single"):
            value = _UNITS[m.group("single").lower()]
        else:
            unit = m.group("unit")
            value = _TENS[m.group("tens").lower()] + (_UNITS[unit.lower()] if unit else 0)
        if m.group("scale"):
            value *= _SCALES[m.group("scale").lower()]
        found.append(NumberMatch(Fraction(value), m.start(), m.end(), m.group(0)))
    return found
