"""Checking a final answer against the task's reference: numbers within a tolerance, text normalised.

Pure functions, so the reward of any episode can be recomputed from its transcript.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_NUMBER = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+−]?\.\d+")


def parse_number(text: str) -> float | None:
    """Read one number from an answer; ``None`` unless there is exactly one.

    Thousands separators, a currency sign, a percent sign and trailing units are ignored.

    >>> parse_number("$12,591.90"), parse_number("17.5 %"), parse_number("about 3 km")
    (12591.9, 17.5, 3.0)
    >>> parse_number("between 3 and 4") is None, parse_number("none") is None
    (True, True)
    """
    found = _NUMBER.findall(text)
    if len(found) != 1:
        return None
    try:
        value = float(found[0].replace(",", "").replace("−", "-"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def normalize_text(text: str) -> str:
    """Lower-case, collapse spaces, drop surrounding punctuation and a leading article.

    >>> normalize_text("  The Rain   Gauge. ")
    'rain gauge'
    """
    text = " ".join(text.casefold().split()).strip(" .,;:!?\"'`")
    return re.sub(r"^(the|a|an) ", "", text)


def number_matches(given: float, expected: float, tolerance: float) -> bool:
    """Whether ``given`` is within ``tolerance`` of ``expected`` (plus a relative 1e-9 for floats).

    >>> number_matches(12591.9, 12591.90, 0.005), number_matches(3.0, 4.0, 0.5)
    (True, False)
    """
    return abs(given - expected) <= tolerance + 1e-9 * max(1.0, abs(expected))


def check_answer(given: str, expected: str | float | Sequence[str], kind: str, tolerance: float = 0.0
                 ) -> tuple[bool, str | None]:
    """Judge a final answer; return (correct, a problem to report or ``None``).

    The problem never states the expected answer.

    >>> check_answer("1,283", 1283, "number")
    (True, None)
    >>> check_answer("twelve", 12, "number")
    (False, "the answer should be a single number; got 'twelve'")
    >>> check_answer("rain gauge", ["rain gauge", "raingauge"], "text")
    (True, None)
    """
    if kind == "number":
        value = parse_number(given)
        if value is None:
            return False, f"the answer should be a single number; got {given[:80]!r}"
        return number_matches(value, float(expected), tolerance), None  # type: ignore[arg-type]
    accepted = [expected] if isinstance(expected, str | int | float) else list(expected)
    return normalize_text(given) in {normalize_text(str(a)) for a in accepted}, None


def numbers_in(text: str) -> list[float]:
    """Every number that appears in ``text`` (for finding which facts a tool output revealed).

    >>> numbers_in("83,181 inhabitants on 35.2 km2 since 1664")
    [83181.0, 35.2, 2.0, 1664.0]
    """
    out = []
    for token in _NUMBER.findall(text):
        try:
            out.append(float(token.replace(",", "").replace("−", "-")))
        except ValueError:
            continue
    return out
