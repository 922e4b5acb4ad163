"""Every command and snippet in the README runs, each in its own process, as the README shows it.

Snippets are read from README.md itself, so an edit there is tested as written. An :data:`ADAPT`
entry is keyed by a piece of text found in exactly one snippet. Where a snippet
names something the reader supplies (``MyEnv``, ``solution_text``...), :data:`ADAPT` defines it
before the snippet runs. Where running it as written would take long or needs what a test must not
use (the hub, a GPU, a server that runs until stopped), :data:`ADAPT` says what is changed or
skipped, and why; every change keeps the code path (same command, same functions, a smaller model or
budget). A snippet the table does not know runs unchanged, and a table entry that matches no
snippet fails, so the two cannot drift apart.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Snippet:
    """One fenced block of the README to run: python code, or shell commands."""

    line: int
    kind: str  # "python" or "shell"
    code: str



@dataclass(frozen=True)
class Adapt:
    """How a snippet runs here: names defined first, text replaced, or a reason it is not run."""

    why: str
    setup: str = ""
    replace: dict[str, str] = field(default_factory=dict)
    skip: str | None = None
    gpu: bool = False


def readme_snippets(text: str) -> list[Snippet]:
    """The ``python`` and ``bash`` blocks, and unlabelled blocks that start with a command."""
    snippets, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        match = re.match(r"^\s*(`{3,})(\w*)\s*$", lines[i])
        if not match:
            i += 1
            continue
        fence, language, start, body = match.group(1), match.group(2), i + 1, []
        i += 1
        while not re.match(rf"^\s*{fence}\s*$", lines[i]):  # a ```` block may hold ``` blocks: text
            body.append(lines[i])
            i += 1
        i += 1
        if len(fence) > 3:
            continue
        code = textwrap.dedent("\n".join(body))
        if language == "python":
            snippets.append(Snippet(start, "python", code))
        elif language == "bash":
            snippets.append(Snippet(start, "shell", code))
        elif not language and re.match(r"^\$? ?python -m |^python examples/", code.strip()):
            snippets.append(Snippet(start, "shell", code.strip().splitlines()[0].removeprefix("$ ")))
    return snippets


SMALL_GRPO = ('max_steps=1, per_device_train_batch_size=4, num_generations=4, max_completion_length=8, '
              'use_cpu=True, report_to="none", save_strategy="no"')

ADAPT: dict[str, Adapt] = {
    "make test    # the whole test suite":
        Adapt("`make test` is this suite itself; `make bench` runs the `feedback-gym bench` command below, "
              "which runs here", skip="runs the suite / the command tested below"),
    "check_all(lambda: MyEnv())":
        Adapt("MyEnv is the reader's env: Countdown with 4 turns",
              setup="from feedback_gym.envs.countdown import CountdownEnv\n"
                    "def MyEnv():\n    return CountdownEnv(max_turns=4)\n"),
    "--out runs/smollm2 --policy-kwarg max_new_tokens=128":
        Adapt("SmolLM2 on quick-v0 takes 5+ minutes on 2 cores; the same command with the tiny "
              "transformers model and 16-token replies takes seconds",
              replace={"--policy smollm2": "--policy tiny-random",
                       "max_new_tokens=128": "max_new_tokens=16"}),
    "python:my_agents:MyPolicy":
        Adapt("my_agents.MyPolicy is the reader's policy: here, the oracle",
              setup="import pathlib\npathlib.Path('my_agents.py').write_text("
                    "'from feedback_gym.agents.policy import OraclePolicy as MyPolicy\\n')\n",
              replace={"tuple(range(20))": "tuple(range(3))"}),
    "ray start --head":
        Adapt("starts a Ray cluster", skip="starts a cluster; the Ray backend is tested in "
              "tests/benchmarks/test_ray.py"),
    'tasks_path="mbpp.jsonl"':
        Adapt("the reader's MBPP file and task record: the test fixture's",
              setup=(
                  "import json, shutil\n"
                  f"shutil.copy({str(ROOT / 'tests/envs/code/fixtures/mbpp_sample.jsonl')!r}, 'mbpp.jsonl')\n"
                  "humaneval_or_mbpp_record = json.loads(open('mbpp.jsonl').readline())\n"
              )),
    "env.step(solution_text)":
        Adapt("the reader's solution: the README's own example below it",
              setup="solution_text = 'Money spent on books: 60% of 420 = 252\\nAnswer: 240'\n"),
    "gym.make(\"MathTryAgain-v0\", feedback=\"reject_previous\")":
        Adapt("continues the snippet before it",
              setup="import gymnasium as gym\nimport feedback_gym\n"
                    "from feedback_gym.envs.retry import RetryUntilSolved\n"),
    "python examples/retry_friction.py":
        Adapt("the example's default policy is SmolLM2 (minutes on a CPU); the tiny model takes seconds",
              replace={"--tasks 10": "--tasks 3",
                       "--modes unary,reject_previous":
                           "--modes unary,reject_previous --policy tiny-random"}),
    "def lookup_rate(currency: str) -> float:":
        Adapt("continues the tool-use snippet before it",
              setup="import gymnasium as gym\nimport feedback_gym\n"),
    "my_policy(agent, info[\"messages\"])":
        Adapt("my_policy is the reader's policy: here, one that always answers 1; the frozen solver is the "
              "tiny model (SmolLM2's 512-token replies take minutes on a CPU)",
              setup="def my_policy(agent, messages):\n    return '<answer>1</answer>'\n",
              replace={'frozen={"solver_0": "smollm2"}': 'frozen={"solver_0": "tiny-random"}'}),
    "feedback_gym.envs.multiagent.mutation_report":
        Adapt("984 verifications, ~800 s", skip="takes ~13 minutes; tests/envs/multiagent/test_bugs.py "
              "checks the mutants"),
    "run_io_tests(box, \"cpp\", cpp_source":
        Adapt("cpp_source is the reader's program",
              setup="cpp_source = '#include <iostream>\\nint main(){long a,b;std::cin>>a>>b;"
                    "std::cout<<a+b;}'\n"),
    "python -m feedback_gym.agents.openai_server --model smollm2 --port 8000":
        Adapt("a server that runs until stopped", skip="serves until stopped; the Python `serve` snippet "
              "below and tests/agents/test_openai_server.py run the same server"),
    "feedback-gym train --env Countdown-v0 --model smollm2 --steps 100":
        Adapt("100 SmolLM2 steps take hours on a CPU: 2 steps of the tiny model, same flags otherwise",
              replace={"--model smollm2 --steps 100": "--model tiny-random --steps 2"}),
    "pytest tests/agents/test_grpo.py":
        Adapt("runs tests of this suite", skip="runs part of this suite"),
    "gpu_benchmark --model tiny-random --device cpu":
        Adapt("the SmolLM2 line takes minutes on a CPU; the tiny-random line runs as written",
              replace={"--model smollm2 --device cpu --threads 1 \\\n    --steps 3":
                       "--model tiny-random --device cpu --threads 1 \\\n    --steps 2"}),
    "gpu_benchmark --model smollm2 --device cuda":
        Adapt("needs a GPU", gpu=True),
    "make_rollout_envs(\"CodeFeedback-v0\"":
        Adapt("32 SmolLM2 episodes of 512-token replies take many minutes on a CPU: the tiny model",
              replace={'make_policy("smollm2")': 'make_policy("tiny-random", max_new_tokens=16)'}),
    "qwen2_5_chat_template":
        Adapt("two full GRPO runs of SmolLM2 take hours: one step of the tiny model, 4 tasks, same calls",
              replace={"smollm2_path": "tiny_random_path", "1000": "4",
                       'output_dir="runs/trl-tools", max_tool_calling_iterations=3':
                           f'output_dir="runs/trl-tools", max_tool_calling_iterations=3, {SMALL_GRPO}',
                       'GRPOConfig(output_dir="runs/trl")':
                           f'GRPOConfig(output_dir="runs/trl", {SMALL_GRPO})'}),
}

SNIPPETS = readme_snippets(README.read_text())


def adaptation(snippet: Snippet) -> Adapt:
    """The one :data:`ADAPT` entry whose key occurs in the snippet, or "run as written"."""
    found = [adapt for key, adapt in ADAPT.items() if key in snippet.code]
    assert len(found) <= 1, f"README line {snippet.line} matches {len(found)} ADAPT entries"
    return found[0] if found else Adapt("runs as written")


def test_every_adaptation_names_exactly_one_snippet_of_the_readme():
    matches = {key: [s.line for s in SNIPPETS if key in s.code] for key in ADAPT}
    assert {key: lines for key, lines in matches.items() if len(lines) != 1} == {}


@pytest.mark.slow
@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: f"line{s.line}")
def test_the_readme_snippet_runs(snippet, tmp_path):
    adapt = adaptation(snippet)
    if adapt.skip:
        pytest.skip(f"not run: {adapt.skip}")
    if adapt.gpu:
        from tests.conftest import cuda_available

        if not cuda_available():
            pytest.skip("needs a CUDA GPU")
    code = snippet.code
    for old, new in adapt.replace.items():
        assert old in code, f"README line {snippet.line} no longer contains {old!r}"
        code = code.replace(old, new)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    if snippet.kind == "python":
        (tmp_path / "snippet.py").write_text(adapt.setup + "\n" + code + "\n")
        command = [sys.executable, "snippet.py"]
    else:
        code = code.replace("python examples/", f"python {ROOT}/examples/")
        command = ["bash", "-euo", "pipefail", "-c", code]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"README line {snippet.line}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
