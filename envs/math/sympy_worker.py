"""A separate process that parses and compares expressions with sympy (and math-verify).

Run as a script (``python -I sympy_worker.py``) by :mod:`feedback_gym.envs.math.equivalence`. It reads
one JSON request per line on stdin and writes one JSON reply per line on stdout, and exits when stdin
closes. It lives in its own process because symbolic maths on hostile input can run for ever or eat
all memory (``10**10**10``): the parent kills it on a deadline, and it caps its own address space.
It imports nothing from feedback-gym, so it starts quickly and cannot touch the environment's state.

Requests: ``{"a": expr, "b": expr, "rel_tol": float, "raw_a": str, "raw_b": str, "math_verify": bool}``
where ``a``/``b`` are whitelisted expression strings (or null) and ``raw_*`` the original answers for
math-verify. Reply: ``{"equal": true|false|null, "method": str, "error": str|null}``.
"""

from __future__ import annotations

import json
import random
import sys

MEMORY_LIMIT_BYTES = 2 * 1024**3


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    except (ImportError, ValueError, OSError):
        pass


def _parse(expression: str):
    import sympy
    from sympy.parsing.sympy_parser import auto_number, auto_symbol, parse_expr

    names = {
        "Symbol": sympy.Symbol,
        "Integer": sympy.Integer,
        "Float": sympy.Float,
        "Rational": sympy.Rational,
        "sqrt": sympy.sqrt,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "log": sympy.log,
        "exp": sympy.exp,
        "Abs": sympy.Abs,
        "pi": sympy.pi,
        "oo": sympy.oo,
        "__builtins__": {},
    }
    return parse_expr(
        expression, local_dict={}, global_dict=names, transformations=(auto_symbol, auto_number)
    )


def _close(x, y, rel_tol: float) -> bool:
    """Relative closeness on sympy (mpmath) numbers, which do not overflow like floats."""
    import sympy

    if not (x.is_number and y.is_number) or sympy.nan in (x, y) or sympy.zoo in (x, y):
        return False
    if x.has(sympy.oo, -sympy.oo) or y.has(sympy.oo, -sympy.oo):
        return bool(x == y)
    difference = abs(sympy.N(x - y, 30))
    scale = max(abs(x), abs(y))
    return bool(difference <= rel_tol * scale or difference < sympy.Float("1e-12"))


def compare_sympy(a: str, b: str, rel_tol: float) -> tuple[bool, str]:
    """Compare two whitelisted expressions: exact difference, simplification, then sampling."""
    import sympy

    left, right = _parse(a), _parse(b)
    difference = sympy.simplify(left - right)
    if difference == 0:
        return True, "sympy"
    symbols = sorted(left.free_symbols | right.free_symbols, key=str)
    rng = random.Random(0)
    for _ in range(4 if symbols else 1):
        point = {
            s: sympy.Rational(rng.randint(-97, 97), rng.randint(1, 13)) + sympy.Rational(1, 7)
            for s in symbols
        }
        x = sympy.N(left.subs(point), 30)
        y = sympy.N(right.subs(point), 30)
        if not _close(x, y, rel_tol):
            return False, "sympy"
    return True, "sympy-numeric"


def compare_math_verify(raw_a: str, raw_b: str) -> bool:
    """Ask math-verify (run here, in this process's main thread, so its alarms work)."""
    from math_verify import parse, verify

    gold = parse(f"${raw_b}$", parsing_timeout=None)
    target = parse(f"${raw_a}$", parsing_timeout=None)
    if not gold or not target:
        raise ValueError("math-verify could not read one of the answers")
    return bool(verify(gold, target, timeout_seconds=None))


def handle(request: dict) -> dict:
    """Answer one comparison request; never raises."""
    try:
        if request.get("a") is not None and request.get("b") is not None:
            equal, method = compare_sympy(request["a"], request["b"], float(request.get("rel_tol", 1e-6)))
            return {"equal": equal, "method": method, "error": None}
        if request.get("math_verify"):
            try:
                import math_verify  # noqa: F401
            except ImportError:
                return {"equal": None, "method": "none", "error": "math-verify is not installed"}
            return {
                "equal": compare_math_verify(request["raw_a"], request["raw_b"]),
                "method": "math-verify",
                "error": None,
            }
        return {"equal": None, "method": "none", "error": "unreadable expression"}
    except MemoryError:
        return {"equal": None, "method": "none", "error": "out of memory"}
    except Exception as err:  # noqa: BLE001 - a reply must always come back
        return {"equal": None, "method": "none", "error": f"{type(err).__name__}: {err}"[:300]}


def _limit_cpu(seconds: float) -> None:
    """Let this request use at most ``seconds`` more CPU time; past it the kernel kills the worker.

    The parent kills the worker on its own deadline too; this bound also holds when the parent is
    gone, or when a computation holds the interpreter lock so no thread of ours could run.
    """
    try:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = used.ru_utime + used.ru_stime
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = int(spent + seconds) + 1
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass


def _exit_with_parent() -> None:
    """Exit at once if the parent dies mid-computation (stdin EOF is only seen between requests)."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    """Serve requests until stdin closes (or the parent goes away)."""
    _limit_memory()
    _exit_with_parent()
    sys.setrecursionlimit(5000)
    import sympy  # noqa: F401 - warm the import before the first request

    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            reply = {"equal": None, "method": "none", "error": "bad request"}
        else:
            _limit_cpu(float(request.get("cpu_seconds", 30)))
            reply = handle(request)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
