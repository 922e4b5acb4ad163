"""Print timing figures for the maths checker and critic: ``python -m feedback_gym.envs.math.bench``.

Figures are per call, with the exact-number fast path as the baseline measured in the same run, so
ratios stay meaningful on a loaded or slow machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from feedback_gym.envs.math.critic import critique
from feedback_gym.envs.math.equivalence import answers_equal, shared_worker
from feedback_gym.envs.math.generators import generated_source
from feedback_gym.envs.math.verifier import MathVerifier


def per_call_ms(fn: Callable[[], object], repeats: int) -> float:
    """Mean milliseconds per call of ``fn`` after one warm-up call."""
    fn()
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats * 1e3


def main(tasks: int = 200) -> None:
    """Measure and print the figures."""
    shared_worker().close()
    started = time.perf_counter()
    answers_equal("2(x+1)", "2x+2")
    startup = time.perf_counter() - started
    baseline = per_call_ms(lambda: answers_equal("1,000", "1000.0"), 2000)
    rows = [
        ("numbers: '1,000' vs '1000.0' (baseline)", baseline),
        (
            "fraction: '0.5' vs '\\frac{1}{2}'",
            per_call_ms(lambda: answers_equal("0.5", r"\frac{1}{2}"), 2000),
        ),
        ("sympy worker: '2(x+1)' vs '2x+2'", per_call_ms(lambda: answers_equal("2(x+1)", "2x+2"), 100)),
        ("math-verify: '(1,2]' vs '[1,2)'", per_call_ms(lambda: answers_equal("(1,2]", "[1,2)"), 50)),
    ]
    source, verifier = generated_source(seed=0), MathVerifier()
    sample = [source.task(i) for i in range(tasks)]
    attempts = []
    for task in sample:
        lines = verifier.reference_action(task).splitlines()
        wrong = lines[1].rsplit("=", 1)[0] + "= 99999" if len(lines) > 2 else "99999"
        attempts.append("\n".join([lines[0], wrong, "Answer: 99999"]))
    verdicts = [verifier.verify(t, a) for t, a in zip(sample, attempts, strict=True)]
    started = time.perf_counter()
    for task, attempt, verdict in zip(sample, attempts, verdicts, strict=True):
        critique(task, attempt, verdict)
    rows.append(
        (f"critique (diagnosis + leak filter), {tasks} tasks", (time.perf_counter() - started) / tasks * 1e3)
    )
    print(f"symbolic worker start-up: {startup:.2f} s")
    for name, ms in rows:
        print(f"{name:<48} {ms:8.3f} ms  ({ms / baseline:6.1f}x baseline)")


if __name__ == "__main__":
    main()
