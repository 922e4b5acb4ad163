"""Write the bundled code tasks (``bundled_python.jsonl``, ``bundled_c_cpp.jsonl``) from their specs.

Run from the repository root: ``python -m feedback_gym.envs.code.data.build_bundled`` (or the file).
It runs every trusted reference written in ``tasks_python_functions.py`` / ``tasks_io.py`` on its
inputs to produce the expected values, and refuses to write anything if a C/C++ reference disagrees
with the Python reference of the same task. This is build-time tooling for data we wrote ourselves;
agent-written code is never run this way (it goes through a sandbox).
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tasks_io import IO_TASKS  # noqa: E402
from tasks_python_functions import FUNCTIONS  # noqa: E402

CASES_PER_IO_TASK = 8
TESTS_VISIBLE = 1
COMPILERS = {"c": ["gcc", "-std=c11", "-O2", "-x", "c"], "cpp": ["g++", "-std=c++17", "-O2", "-x", "c++"]}
LANGUAGE_TITLE = {"python": "Python 3", "c": "C (C11)", "cpp": "C++ (C++17)"}


def normalise(text: str) -> str:
    """Outputs are compared line by line with trailing whitespace removed (as the harness does)."""
    return "\n".join(line.rstrip() for line in text.rstrip().split("\n"))


def signature(source: str, name: str) -> str:
    """The signature shown in the prompt, read off the reference's ``def`` line."""
    line = next(line for line in source.splitlines() if line.startswith(f"def {name}("))
    return line[len("def "):].rstrip(":")


def function_records() -> list[dict]:
    """Records of the function tasks, with expected values computed by each reference."""
    records = []
    for name, difficulty, description, source, inputs in FUNCTIONS:
        namespace: dict = {}
        exec(compile(source, f"<{name}>", "exec"), namespace)
        func = namespace[name]
        tests = []
        for args in inputs:
            expected = func(*[_copy(a) for a in args])
            call = ", ".join(repr(a) for a in args)
            tests.append(f"assert candidate({call}) == {expected!r}")
        if len(set(tests)) < 5:
            raise SystemExit(f"{name}: fewer than 5 distinct tests")
        prompt = (
            f"Write a Python function `{signature(source, name)}`.\n\n{description}\n\n"
            "Reply with the function in a ```python code block."
        )
        records.append({
            "id": f"bundled/py/{name}", "language": "python", "style": "function", "difficulty": difficulty,
            "prompt": prompt, "entry_point": name, "solution": source, "tests": tests,
            "visible": TESTS_VISIBLE,
        })
    return records


def _copy(value):
    """A private copy, so a reference that mutates its argument cannot change the test's input."""
    return copy.deepcopy(value)


def sudoku_inputs(rng: random.Random) -> list[str]:
    """Valid grids (shuffled from a base pattern) and near misses (swapped cells, a duplicate, bad boxes)."""
    base = [[(r * 3 + r // 3 + c) % 9 + 1 for c in range(9)] for r in range(9)]

    def render(grid):
        return "".join(" ".join(map(str, row)) + "\n" for row in grid)

    def shuffled():
        digits = list(range(1, 10))
        rng.shuffle(digits)
        grid = [[digits[v - 1] for v in row] for row in base]
        bands = [0, 1, 2]
        rng.shuffle(bands)
        rows = [b * 3 + r for b in bands for r in rng.sample(range(3), 3)]
        return [grid[r] for r in rows]

    valid = [shuffled() for _ in range(4)]
    swapped = [row[:] for row in valid[0]]
    swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]
    duplicate = [row[:] for row in valid[1]]
    duplicate[4][4] = duplicate[4][5]
    latin_only = [[(r + c) % 9 + 1 for c in range(9)] for r in range(9)]  # rows/cols fine, boxes not
    return [render(g) for g in (*valid, swapped, duplicate, latin_only, base)]


def run_python(source: str, stdin: str) -> str:
    """Run one of our Python references on ``stdin`` and return its output."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    try:
        done = subprocess.run([sys.executable, "-I", handle.name], input=stdin, capture_output=True,
                              text=True, timeout=20, check=True)
    finally:
        Path(handle.name).unlink()
    return done.stdout


def compile_and_run(language: str, source: str, inputs: list[str]) -> list[str]:
    """Compile one of our C/C++ references and run it on every input."""
    workdir = Path(tempfile.mkdtemp())
    try:
        binary = workdir / "prog"
        done = subprocess.run([*COMPILERS[language], "-", "-o", str(binary)], input=source, text=True,
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"compile failed:\n{done.stderr}")
        return [subprocess.run([str(binary)], input=i, capture_output=True, text=True, timeout=20,
                               check=True).stdout for i in inputs]
    finally:
        shutil.rmtree(workdir)


def io_prompt(statement: str, language: str) -> str:
    """The prompt of a stdin/stdout task."""
    return (
        f"Write a {LANGUAGE_TITLE[language]} program that reads standard input and writes standard "
        f"output.\n\n{statement}\n\nReply with the program in a ```{language} code block."
    )


def io_records() -> tuple[list[dict], list[dict]]:
    """Records of the stdin/stdout tasks: Python ones, and C/C++ ones checked against Python."""
    python, compiled = [], []
    for slug, difficulty, statement, reference, others, inputs, generator in IO_TASKS:
        rng = random.Random(f"bundled-io:{slug}")
        if inputs is None:
            inputs = sudoku_inputs(rng)
        else:
            inputs = list(inputs)
            seen = set(inputs)
            while len(inputs) < CASES_PER_IO_TASK:
                extra = generator(rng)
                if extra not in seen:
                    seen.add(extra)
                    inputs.append(extra)
        outputs = [run_python(reference, i) for i in inputs]
        if len({normalise(o) for o in outputs}) < 2:
            raise SystemExit(f"{slug}: every case has the same output; the tests would not discriminate")
        cases = [[i, o] for i, o in zip(inputs, outputs, strict=True)]
        python.append({
            "id": f"bundled/py-io/{slug}", "language": "python", "style": "io", "difficulty": difficulty,
            "prompt": io_prompt(statement, "python"), "solution": reference, "cases": cases, "visible": 1,
        })
        for language, source in others.items():
            got = compile_and_run(language, source, inputs)
            for i, (want, have) in enumerate(zip(outputs, got, strict=True)):
                if normalise(want) != normalise(have):
                    raise SystemExit(f"{slug} [{language}] case {i}: {have!r} != {want!r}")
            compiled.append({
                "id": f"bundled/{language}/{slug}", "language": language, "style": "io",
                "difficulty": difficulty, "prompt": io_prompt(statement, language), "solution": source,
                "cases": cases, "visible": 1,
            })
    return python, compiled


def write(path: Path, records: list[dict]) -> None:
    """Write records as sorted-key JSON lines."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {len(records)} tasks to {path.name}")


def main() -> None:
    """Build and write both files."""
    functions = function_records()
    python_io, compiled = io_records()
    write(HERE / "bundled_python.jsonl", functions + python_io)
    write(HERE / "bundled_c_cpp.jsonl", compiled)


if __name__ == "__main__":
    main()
