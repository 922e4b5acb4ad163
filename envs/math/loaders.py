r"""Task sources for the maths family: the bundled set, GSM8K and MATH files, and user dicts.

GSM8K records are ``{"question", "answer"}`` where the answer is a worked solution with calculator
annotations (``48/2 = <<48/2=24>>24``) and a final ``#### 72`` line: the annotations become the
machine-readable steps. MATH records are ``{"problem", "solution", "level"?, "type"?, "answer"?}``
with the answer in the solution's last ``\boxed{}``; their prose solutions give no step values, so
the critic checks only the answer there. Both load from local JSON/JSONL/Parquet files, or from the
Hugging Face hub when online (``datasets`` is imported only then).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from feedback_gym.answers import boxed_contents
from feedback_gym.envs.math.numerals import find_numbers, parse_number
from feedback_gym.envs.math.solution import Step, math_task
from feedback_gym.errors import ConfigError, InvalidTaskError, missing_dependency
from feedback_gym.tasks import ListTaskSource, Task, read_jsonl

DATA_DIR = Path(__file__).with_name("data")
BUNDLED_FILE = DATA_DIR / "problems.jsonl"
GSM8K_HUB = ("openai/gsm8k", "main")
MATH_HUB = ("HuggingFaceH4/MATH-500", None)

_CALCULATOR = re.compile(r"<<([^<>=]*)=([^<>]*)>>")


# ---------------------------------------------------------------------------- records -> tasks


def gsm8k_steps(solution: str) -> tuple[list[Step], str]:
    r"""Split a GSM8K answer into steps (one per annotated line) and the final answer.

    >>> text = "She sold 48/2 = <<48/2=24>>24 clips.\nIn all 48+24 = <<48+24=72>>72.\n#### 72"
    >>> steps, answer = gsm8k_steps(text)
    >>> [(s.text, str(s.value)) for s in steps], answer
    ([('She sold 48/2 = 24 clips.', '24'), ('In all 48+24 = 72.', '72')], '72')
    """
    body, sep, final = solution.rpartition("####")
    if not sep:
        raise InvalidTaskError("a GSM8K answer must end with '#### <answer>'")
    answer = final.strip().replace(",", "")
    steps = []
    for line in body.splitlines():
        if not line.strip():
            continue
        annotations = _CALCULATOR.findall(line)
        value: Fraction | None = parse_number(annotations[-1][1]) if annotations else None
        text = _CALCULATOR.sub("", line).strip()
        if value is None:
            found = find_numbers(text)
            value = found[-1].value if found else None
        if value is not None:
            steps.append(Step(text, value))
    return steps, answer


def gsm8k_task(record: Mapping[str, Any], task_id: str) -> Task:
    """A task from a GSM8K record ``{"question", "answer"}``."""
    try:
        question, solution = record["question"], record["answer"]
    except (KeyError, TypeError):
        raise InvalidTaskError("a GSM8K record needs 'question' and 'answer'") from None
    steps, answer = gsm8k_steps(str(solution))
    return math_task(task_id, str(question), answer, steps, source="gsm8k")


def math_answer(solution: str) -> str:
    r"""The final answer of a MATH solution: the contents of its last ``\boxed{}``.

    >>> math_answer(r"So $x = \boxed{\frac{1}{2}}$.")
    '\\frac{1}{2}'
    """
    boxed = boxed_contents(solution)
    if not boxed:
        raise InvalidTaskError("a MATH solution must contain \\boxed{<answer>}")
    return boxed[-1]


def math_dataset_task(record: Mapping[str, Any], task_id: str) -> Task:
    """A task from a MATH record ``{"problem", "solution", "answer"?, "level"?, "type"?}``."""
    try:
        problem = record["problem"]
    except (KeyError, TypeError):
        raise InvalidTaskError("a MATH record needs 'problem' and 'solution' (or 'answer')") from None
    answer = record.get("answer") or math_answer(str(record.get("solution", "")))
    metadata = {k: record[k] for k in ("level", "type", "subject") if k in record}
    return math_task(task_id, str(problem), str(answer), source="math", metadata=metadata)


def dict_task(data: Mapping[str, Any], task_id: str) -> Task:
    """A task from a user's dict: ``{"question", "answer", "steps"?}``, or a GSM8K or MATH record.

    ``steps`` is a list of ``{"text", "value", "hint"?}``; without it the critic checks the answer only.
    """
    if "problem" in data:
        return math_dataset_task(data, task_id)
    if "question" not in data or "answer" not in data:
        raise InvalidTaskError(
            "a maths task needs 'question' and 'answer' (optionally 'steps': [{'text', 'value', 'hint'}]), "
            f"or the MATH keys 'problem' and 'solution'; got keys {sorted(data)}"
        )
    answer = str(data["answer"])
    if "####" in answer and "steps" not in data:
        return gsm8k_task(data, task_id)
    steps = data.get("steps") or ()
    if not isinstance(steps, list | tuple):
        raise InvalidTaskError("'steps' must be a list of {'text', 'value', 'hint'} dicts")
    metadata = dict(data.get("metadata") or {})
    return math_task(
        task_id,
        str(data["question"]),
        answer,
        steps,
        source=str(data.get("source", "user")),
        metadata=metadata,
    )


# ---------------------------------------------------------------------------- sources


def bundled_source() -> ListTaskSource:
    """The hand-written problems shipped with the package (each with a worked solution)."""
    records = read_jsonl(BUNDLED_FILE)
    return ListTaskSource("math-bundled", [dict_task({**r, "source": "bundled"}, r["id"]) for r in records])


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Read records from a JSONL, JSON (a list) or Parquet file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"no such data file: {path}")
    if path.suffix in (".jsonl", ".gz"):
        return read_jsonl(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ConfigError(f"{path}: a JSON data file must hold a list of records")
        return data
    if path.suffix == ".parquet":
        datasets = _datasets()
        return list(datasets.load_dataset("parquet", data_files=str(path), split="train"))
    raise ConfigError(f"{path}: data files must be .jsonl, .jsonl.gz, .json or .parquet")


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise missing_dependency("datasets", "trl") from None
    return datasets


def _hub_records(hub: tuple[str, str | None], split: str) -> list[dict[str, Any]]:
    datasets = _datasets()
    name, config = hub
    return list(datasets.load_dataset(name, config, split=split))


def dataset_source(
    kind: str,
    path: str | Path | None = None,
    split: str = "test",
    limit: int | None = None,
    hub_id: str | None = None,
) -> ListTaskSource:
    """A GSM8K (``kind="gsm8k"``) or MATH (``"math"``) source from a local file or, online, the hub."""
    if kind not in ("gsm8k", "math"):
        raise ConfigError(f"dataset kind must be 'gsm8k' or 'math'; got {kind!r}")
    if path is not None:
        records: Iterable[Mapping[str, Any]] = read_records(path)
    else:
        default = GSM8K_HUB if kind == "gsm8k" else MATH_HUB
        records = _hub_records((hub_id, None) if hub_id else default, split)
    build = gsm8k_task if kind == "gsm8k" else math_dataset_task
    tasks = []
    for index, record in enumerate(records):
        if limit is not None and index >= limit:
            break
        tasks.append(
            build(record, str(record.get("id") or record.get("unique_id") or f"{kind}/{split}/{index}"))
        )
    return ListTaskSource(f"math-{kind}", tasks)
