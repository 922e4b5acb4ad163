r"""Deciding whether two maths answers are the same, safely and within a time bound.

The cheap cases are decided here, in the calling process, with exact rational arithmetic: integers,
decimals, fractions, thousands separators, scientific notation, percents, ``x = 2`` against ``2``,
sets (unordered) and tuples (ordered) of such numbers, and plain strings. Anything that needs
algebra (``\frac{\sqrt{3}}{2}`` against ``\sqrt{3}/2``, ``2(x+1)`` against ``2x+2``) is first reduced
to a whitelisted expression string (:mod:`~feedback_gym.envs.math.latex`) and then compared by sympy
in a separate worker process (:mod:`~feedback_gym.envs.math.sympy_worker`), which the caller kills
when it overruns its deadline; answers our own reader cannot parse (intervals, matrices) go to
math-verify in the same worker when it is installed. Nothing here evaluates a model's string, and the
deadline works from any thread because it is a pipe read with a timeout, not a signal.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from feedback_gym.answers import boxed_contents
from feedback_gym.envs.math.latex import to_expression
from feedback_gym.envs.math.numerals import parse_number

#: Default relative tolerance for numbers that are not exactly equal (e.g. ``3.14159265`` vs ``\pi``).
DEFAULT_REL_TOL = 1e-6
#: Default seconds one symbolic comparison may take before its worker is killed.
DEFAULT_TIMEOUT = 5.0
#: Most items compared in a set or tuple answer.
MAX_ITEMS = 32
#: Longest raw answer handed to math-verify.
MAX_RAW_CHARS = 1000
WORKER_SCRIPT = Path(__file__).with_name("sympy_worker.py")


@dataclass(frozen=True)
class Equivalence:
    """The outcome of one comparison.

    ``method`` names what decided it (``string``, ``number``, ``structure``, ``sympy``,
    ``sympy-numeric``, ``math-verify``, ``timeout``, ``unparsed``); ``detail`` explains failures.
    """

    equal: bool
    method: str
    detail: str | None = None


# ---------------------------------------------------------------------------- normalisation


def normalize_answer(text: str) -> str:
    r"""Strip the wrapping that does not change an answer's meaning.

    Removes ``\boxed``, ``$``, ``\left``/``\right``, ``\text{}`` units, degree signs, a trailing
    period, a ``\%`` sign and a leading ``x =``; turns ``\dfrac`` into ``\frac``.

    >>> normalize_answer(r"$\boxed{x = \dfrac{1}{2}}$.")
    '\\frac{1}{2}'
    >>> normalize_answer(r"12\text{ apples}"), normalize_answer("45^\\circ"), normalize_answer("1,000")
    ('12', '45', '1000')
    """
    text = text.strip()
    for _ in range(3):
        boxed = boxed_contents(text)
        if boxed and text.startswith(("\\boxed", "$\\boxed", "\\fbox")):
            text = boxed[-1]
    text = text.strip().strip("$").strip()
    text = re.sub(r"^\\\(|\\\)$|^\\\[|\\\]$", "", text).strip()
    text = text.replace(r"\dfrac", r"\frac").replace(r"\tfrac", r"\frac")
    text = re.sub(r"\\(?:left|right|displaystyle|!|,|;|:)", "", text)
    text = re.sub(r"\\(?:mathrm|mathbf|textbf|operatorname)\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\^\s*\{?\\circ\}?|°|\\degree|\s*degrees?\b", "", text)
    without_text = re.sub(r"\\(?:text|mbox)\{[^{}]*\}", "", text).strip()
    if without_text:
        text = without_text
    else:
        text = re.sub(r"\\(?:text|mbox)\{([^{}]*)\}", r"\1", text)
    text = text.replace(r"\%", "").replace("%", "").strip()
    text = re.sub(r"^\\?\$\s*", "", text)
    text = text.rstrip(".").strip()
    text = re.sub(r"^[A-Za-z](?:_\{?\w+\}?)?\s*=\s*(?!=)", "", text)
    if re.fullmatch(r"-?\d{1,3}(?:(?:,|\{,\})\d{3})+(?:\.\d+)?", text):
        text = text.replace("{,}", "").replace(",", "")
    return text.strip()


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def split_structure(text: str) -> tuple[str, list[str]]:
    r"""Classify a normalised answer as a ``scalar``, an unordered ``set`` or an ordered ``tuple``.

    Braces make a set, matching round or square brackets around commas make a tuple, and bare
    commas make a set (MATH lists several solutions as ``2, 3``).

    >>> split_structure(r"\{1, 2\}"), split_structure("(1, -2)"), split_structure("3, 1")
    (('set', ['1', '2']), ('tuple', ['1', '-2']), ('set', ['3', '1']))
    >>> split_structure("(x+1)")
    ('scalar', ['(x+1)'])
    """
    body = text.strip()
    if body.startswith("\\{") and body.endswith("\\}"):
        return "set", [p for p in _split_top_level(body[2:-2]) if p]
    if body.startswith("{") and body.endswith("}") and _balanced_span(body):
        return "set", [p for p in _split_top_level(body[1:-1]) if p]
    if len(body) > 1 and (body[0], body[-1]) in (("(", ")"), ("[", "]")) and _balanced_span(body):
        inner = _split_top_level(body[1:-1])
        if len(inner) > 1:
            return "tuple", inner
    parts = _split_top_level(body)
    if len(parts) > 1:
        return "set", [p for p in parts if p]
    return "scalar", [body]


def _balanced_span(text: str) -> bool:
    """Whether the first bracket of ``text`` closes at its last character."""
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if depth == 0 and index < len(text) - 1:
            return False
    return depth == 0


def _leading_number(text: str) -> Fraction | None:
    """``12 apples`` -> 12: a number followed only by a few words of units."""
    match = re.fullmatch(r"(\S+)\s+[A-Za-z][A-Za-z .]{0,30}", text)
    return parse_number(match.group(1)) if match else None


def numbers_close(a: Fraction, b: Fraction, rel_tol: float = DEFAULT_REL_TOL) -> bool:
    """Exact equality, or a relative difference within ``rel_tol``.

    >>> numbers_close(Fraction(1, 3), Fraction(333333334, 10**9)), numbers_close(Fraction(1), Fraction(2))
    (True, False)
    """
    if a == b:
        return True
    return abs(a - b) <= Fraction(rel_tol) * max(abs(a), abs(b))


# ---------------------------------------------------------------------------- the worker process


class SymbolicWorker:
    """A sympy worker process, started on first use, killed and restarted after a timeout.

    Thread-safe: one comparison at a time. The process exits by itself when this object's pipe
    closes, and :meth:`close` (also run at interpreter exit) kills it by its process id.
    """

    def __init__(self, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._owner_pid: int | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    def _start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        self._owner_pid = os.getpid()
        self._buffer = b""
        ready = self._read_line(self.startup_timeout)
        if ready is None:
            self._kill()
            raise TimeoutError("the sympy worker did not start")

    def _read_line(self, timeout: float) -> dict[str, Any] | None:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self._process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None or self._owner_pid != os.getpid():
            return
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if process.poll() is None:
            process.kill()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def compare(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request; on timeout or a dead worker, kill it and report ``equal: None``."""
        with self._lock:
            if self._process is not None and self._owner_pid != os.getpid():
                self._process = None  # inherited across fork: leave the parent's worker alone
            try:
                if self._process is None or self._process.poll() is not None:
                    self._kill()
                    self._start()
                assert self._process is not None and self._process.stdin is not None
                request = {**request, "cpu_seconds": timeout + 1}
                self._process.stdin.write((json.dumps(request) + "\n").encode())
                self._process.stdin.flush()
                reply = self._read_line(timeout)
            except (OSError, TimeoutError, ValueError) as err:
                self._kill()
                return {"equal": None, "method": "unparsed", "error": f"symbolic worker failed: {err}"}
            if reply is None:
                self._kill()
                return {"equal": None, "method": "timeout", "error": f"no result within {timeout:g} s"}
            return reply

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        """Stop the worker (idempotent)."""
        with self._lock:
            self._kill()


_WORKER = SymbolicWorker()
atexit.register(_WORKER.close)


def shared_worker() -> SymbolicWorker:
    """The process-wide worker every comparison uses."""
    return _WORKER


# ---------------------------------------------------------------------------- comparison


def _compare_items(candidate: str, reference: str, rel_tol: float, timeout: float) -> Equivalence | None:
    """Compare two scalars; ``None`` when our own reader cannot parse one of them."""
    if candidate.replace(" ", "").lower() == reference.replace(" ", "").lower():
        return Equivalence(True, "string")
    a = parse_number(candidate)
    b = parse_number(reference)
    if a is None and b is not None:
        a = _leading_number(candidate)
    if a is not None and b is not None:
        return Equivalence(numbers_close(a, b, rel_tol), "number")
    expr_a, expr_b = to_expression(candidate), to_expression(reference)
    if expr_a is None or expr_b is None:
        if b is not None and expr_a is None and re.fullmatch(r"[A-Za-z ]+", candidate):
            return Equivalence(False, "string")
        return None
    reply = _WORKER.compare({"a": expr_a, "b": expr_b, "rel_tol": rel_tol}, timeout)
    if reply.get("equal") is None:
        if reply.get("method") == "timeout":
            return Equivalence(False, "timeout", reply.get("error"))
        return None  # sympy could not handle it: let math-verify try
    return Equivalence(bool(reply["equal"]), reply.get("method", "sympy"))


def answers_equal(
    candidate: str,
    reference: str,
    *,
    rel_tol: float = DEFAULT_REL_TOL,
    timeout: float = DEFAULT_TIMEOUT,
    use_math_verify: bool = True,
) -> Equivalence:
    r"""Decide whether the ``candidate`` answer means the same as the ``reference`` answer.

    >>> answers_equal("0.5", r"\frac{1}{2}").equal, answers_equal("x = 2", "2").equal
    (True, True)
    >>> answers_equal("1,000", "1000.0").equal, answers_equal("(1, 2)", "(2, 1)").equal
    (True, False)
    >>> answers_equal(r"\{2, 1\}", r"\{1, 2\}").equal, answers_equal("7", "8").equal
    (True, False)
    """
    if not isinstance(candidate, str) or not isinstance(reference, str):
        return Equivalence(False, "unparsed", "answers must be text")
    a, b = normalize_answer(candidate), normalize_answer(reference)
    if not a:
        return Equivalence(False, "unparsed", "the answer is empty")
    if a.replace(" ", "") == b.replace(" ", ""):
        return Equivalence(True, "string")
    kind_a, items_a = split_structure(a)
    kind_b, items_b = split_structure(b)
    decided: Equivalence | None
    if len(items_a) > MAX_ITEMS or len(items_b) > MAX_ITEMS:
        decided = Equivalence(False, "structure", f"at most {MAX_ITEMS} items are compared")
    elif kind_a != kind_b or len(items_a) != len(items_b):
        decided = Equivalence(False, "structure", f"a {kind_a} of {len(items_a)} against a {kind_b}")
        if kind_a != kind_b and "scalar" in (kind_a, kind_b):
            decided = _via_math_verify(candidate, reference, timeout, use_math_verify) or decided
        return decided
    else:
        decided = _compare_structures(kind_a, items_a, items_b, rel_tol, timeout)
    if decided is None:
        decided = _via_math_verify(candidate, reference, timeout, use_math_verify)
    return decided or Equivalence(False, "unparsed", "the answer could not be read as maths")


def _compare_structures(
    kind: str, items_a: list[str], items_b: list[str], rel_tol: float, timeout: float
) -> Equivalence | None:
    if kind in ("scalar", "tuple"):
        methods = []
        for x, y in zip(items_a, items_b, strict=True):
            result = _compare_items(normalize_answer(x), normalize_answer(y), rel_tol, timeout)
            if result is None or not result.equal:
                return result
            methods.append(result.method)
        return Equivalence(True, methods[0] if kind == "scalar" else "structure")
    unmatched = [normalize_answer(y) for y in items_b]
    for x in items_a:
        for index, y in enumerate(unmatched):
            result = _compare_items(normalize_answer(x), y, rel_tol, timeout)
            if result is None:
                return None
            if result.equal:
                del unmatched[index]
                break
        else:
            return Equivalence(False, "structure", "the sets differ")
    return Equivalence(True, "structure")


def _via_math_verify(candidate: str, reference: str, timeout: float, enabled: bool) -> Equivalence | None:
    if not enabled:
        return None
    if len(candidate) > MAX_RAW_CHARS or len(reference) > MAX_RAW_CHARS:
        return Equivalence(False, "unparsed", f"answers over {MAX_RAW_CHARS} characters are not compared")
    request = {"a": None, "b": None, "raw_a": candidate, "raw_b": reference, "math_verify": True}
    reply = _WORKER.compare(request, timeout)
    if reply.get("equal") is None:
        if reply.get("method") == "timeout":
            return Equivalence(False, "timeout", reply.get("error"))
        return None
    return Equivalence(bool(reply["equal"]), "math-verify")
