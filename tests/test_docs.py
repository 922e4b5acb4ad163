"""Every code block of the README and of the docs site works as the page shows it.

Blocks are read from ``README.md`` and ``docs/**/*.md`` themselves, so an edit there is tested as
written (the convention is described in ``docs/development.md``):

- a ``python`` block runs in its own process (``slow``);
- each command of a ``bash``/``sh``/``console`` block is checked by the rule for its program
  (:func:`command_rule`): cheap ``feedback-gym`` commands run; other ``feedback-gym``, ``python -m`` and
  ``python script.py`` commands are parsed by their own argument parser without running; ``make
  TARGET`` is dry-run; ``pytest`` paths must exist; ``pip install`` extras must exist; a few system
  programs (apt-get, sysctl, ray, mkdocs...) are not checked. A program with no rule fails the test;
- ``text``, ``json`` and other blocks are output, never run.

A block preceded by ``<!-- not run: REASON -->`` is skipped with that reason. Where a python block
names something the reader supplies (``MyEnv``, ``solution_text``...) or would take long as written
(SmolLM2 on a CPU, hours of training), an :data:`ADAPT` entry, keyed by a piece of text found in
exactly one block, defines the names first or swaps in a smaller model or budget, keeping the code
path. A table entry that matches no block fails, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BIN = Path(sys.executable).parent

FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w-]*)[^`]*$")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(\S.*?)\s*-->$")
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
#: Commands cheap enough to run for real (a second or two each).
CHEAP = re.compile(r"^feedback-gym (list|version)\b|\s--help\b|^feedback-gym bench --list-suites\b")
#: Programs documented for the reader's own system that a test cannot check here.
NOT_CHECKED = {"apt-get", "sysctl", "ray", "mkdocs", "cd", "source", "export", "git", "docker"}


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: where it is, its language, its text and a not-run reason."""

    page: Path
    line: int
    language: str
    code: str
    not_run: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Adapt:
    """How a python block runs here: names defined first, text replaced, or a GPU needed."""

    why: str
    setup: str = ""
    replace: dict[str, str] = field(default_factory=dict)
    gpu: bool = False


def page_blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page; blocks nested in a longer fence are part of that block's text."""
    lines, blocks, i = page.read_text().split("\n"), [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, language = match.group(1), match.group(2), match.group(3)
        before = next((line.strip() for line in reversed(lines[:i]) if line.strip()), "")
        note = NOT_RUN.match(before)
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not re.match(rf"^\s*{fence}\s*$", lines[i]):
            body.append(lines[i].removeprefix(indent))
            i += 1
        i += 1
        if len(fence) == 3:
            blocks.append(Block(page, start, language, textwrap.dedent("\n".join(body)),
                                note.group(1) if note else None))
    return blocks


def without_substitutions(line: str) -> str:
    """``$(...)`` (balanced, possibly nested) replaced by a placeholder: it stands for a value.

    >>> without_substitutions("A=$(python -c 'print(f(1))') run")
    'A=SUBSTITUTED run'
    """
    while "$(" in line:
        start = line.index("$(")
        depth, end = 0, start + 1
        for end in range(start + 1, len(line)):
            depth += {"(": 1, ")": -1}.get(line[end], 0)
            if depth == 0:
                break
        line = line[:start] + "SUBSTITUTED" + line[end + 1:]
    return line


def shell_commands(block: Block) -> list[str]:
    """The commands of a shell block: continuations joined, comments and prompts dropped."""
    text = block.code.replace("\\\n", " ")
    if block.language == "console":
        text = "\n".join(line[2:] for line in text.split("\n") if line.startswith("$ "))
    commands = []
    for line in text.split("\n"):
        line = without_substitutions(line)
        tokens = shlex.split(line, comments=True)
        command: list[str] = []
        for token in [*tokens, "&&"]:
            if token in ("&&", ";", "||"):
                if command:
                    commands.append(shlex.join(command))
                command = []
            else:
                command.append(token)
    return commands


BLOCKS = [block for page in PAGES for block in page_blocks(page)]
PYTHON = [b for b in BLOCKS if b.language == "python"]
COMMANDS = [(b, c) for b in BLOCKS if b.language in SHELL_LANGUAGES for c in shell_commands(b)]

SMALL_GRPO = ('max_steps=1, per_device_train_batch_size=4, num_generations=4, max_completion_length=8, '
              'use_cpu=True, report_to="none", save_strategy="no"')
START_SERVER = (
    "import atexit\n"
    "from feedback_gym.serve.process import ServerProcess\n"
    "server = ServerProcess('CodeFeedback-v0')\n"
    "atexit.register(server.stop)\n"
)

ADAPT: dict[str, Adapt] = {
    "check_all(lambda: MyEnv())":
        Adapt("MyEnv is the reader's env: Countdown with 4 turns",
              setup="from feedback_gym.envs.countdown import CountdownEnv\n"
                    "def MyEnv():\n    return CountdownEnv(max_turns=4)\n"),
    "python:my_agents:MyPolicy":
        Adapt("my_agents.MyPolicy is the reader's policy: here, the oracle",
              setup="import pathlib\npathlib.Path('my_agents.py').write_text("
                    "'from feedback_gym.agents.policy import OraclePolicy as MyPolicy\\n')\n",
              replace={"tuple(range(20))": "tuple(range(3))"}),
    'tasks_path="mbpp.jsonl"':
        Adapt("the reader's MBPP file and task record: the test fixture's",
              setup=(
                  "import json, shutil\n"
                  f"shutil.copy({str(ROOT / 'tests/envs/code/fixtures/mbpp_sample.jsonl')!r}, 'mbpp.jsonl')\n"
                  "humaneval_or_mbpp_record = json.loads(open('mbpp.jsonl').readline())\n"
              )),
    "env.step(solution_text)":
        Adapt("the reader's solution: the page's own example below it",
              setup="solution_text = 'Money spent on books: 60% of 420 = 252\\nAnswer: 240'\n"),
    "gym.make(\"MathTryAgain-v0\", feedback=\"reject_previous\")":
        Adapt("continues the block before it",
              setup="import gymnasium as gym\nimport feedback_gym\n"
                    "from feedback_gym.envs.retry import RetryUntilSolved\n"),
    "def lookup_rate(currency: str) -> float:":
        Adapt("continues the tool-use block before it",
              setup="import gymnasium as gym\nimport feedback_gym\n"),
    "my_policy(agent, info[\"messages\"])":
        Adapt("my_policy is the reader's policy: here, one that always answers 1; the frozen solver is the "
              "tiny model (SmolLM2's 512-token replies take minutes on a CPU)",
              setup="def my_policy(agent, messages):\n    return '<answer>1</answer>'\n",
              replace={'frozen={"solver_0": "smollm2"}': 'frozen={"solver_0": "tiny-random"}'}),
    "run_io_tests(box, \"cpp\", cpp_source":
        Adapt("cpp_source is the reader's program",
              setup="cpp_source = '#include <iostream>\\nint main(){long a,b;std::cin>>a>>b;"
                    "std::cout<<a+b;}'\n"),
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
    "env = RemoteEnv(\"http://127.0.0.1:8000\")":
        Adapt("needs a running server: one is started on a free port; program_text is the reader's program",
              setup=START_SERVER + "program_text = '```python\\nprint(1)\\n```'\n",
              replace={'"http://127.0.0.1:8000"': "server.url"}),
    "GenericEnvClient(base_url=\"http://127.0.0.1:8000\")":
        Adapt("needs a running server: one is started on a free port",
              setup=START_SERVER, replace={'"http://127.0.0.1:8000"': "server.url"}),
    "handle = serve(make_policy(\"smollm2\"))":
        Adapt("the '...' stands for the reader's requests; SmolLM2 loads in seconds but the tiny model is "
              "enough to serve", replace={'make_policy("smollm2")': 'make_policy("tiny-random")'}),
}


def adaptation(block: Block) -> Adapt:
    """The one :data:`ADAPT` entry whose key occurs in the block, or "run as written"."""
    found = [adapt for key, adapt in ADAPT.items() if key in block.code]
    assert len(found) <= 1, f"{block.where} matches {len(found)} ADAPT entries"
    return found[0] if found else Adapt("runs as written")


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def test_every_adaptation_names_exactly_one_python_block():
    matches = {key: [b.where for b in PYTHON if key in b.code] for key in ADAPT}
    assert {key: where for key, where in matches.items() if len(where) != 1} == {}


def test_the_pages_have_blocks_to_check():
    """A parser that silently finds nothing would pass every test below."""
    assert len(PYTHON) >= 15 and len(COMMANDS) >= 20


def test_blocks_are_read_as_the_convention_says(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent("""\
        <!-- not run: needs a server -->
        ```python
        serve()
        ```
        ````markdown
        ```python
        inside_a_longer_fence()
        ```
        ````
        1. A list item:

           ```bash
           feedback-gym bench --policy oracle \\
               --out runs/x   # a comment
           A=$(python -c 'print(f(1))') feedback-gym list && make test
           ```
        ```console
        $ feedback-gym version
        feedback-gym 0.1.0
        ```
        """))
    python, bash, console = page_blocks(page)  # the ```` block is an example: neither it nor its inside
    assert (python.language, python.code, python.not_run) == ("python", "serve()", "needs a server")
    assert bash.not_run is None and console.not_run is None
    assert shell_commands(bash) == ["feedback-gym bench --policy oracle --out runs/x",
                                    "A=SUBSTITUTED feedback-gym list", "make test"]
    assert shell_commands(console) == ["feedback-gym version"]
    assert [command_rule(c) for c in shell_commands(bash)] == ["parse", "run", "make"]
    assert command_rule("frobnicate --all") == "none"


@pytest.mark.slow
@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.where)
def test_the_python_block_runs(block, tmp_path):
    if block.not_run:
        pytest.skip(f"not run: {block.not_run}")
    adapt = adaptation(block)
    if adapt.gpu:
        from tests.conftest import cuda_available

        if not cuda_available():
            pytest.skip("needs a CUDA GPU")
    code = block.code
    for old, new in adapt.replace.items():
        assert old in code, f"{block.where} no longer contains {old!r}"
        code = code.replace(old, new)
    (tmp_path / "snippet.py").write_text(adapt.setup + "\n" + code + "\n")
    proc = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, env=subprocess_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{block.where}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"


# ----------------------------------------------------------------------------------- shell commands


def program_and_args(command: str) -> tuple[str, list[str]]:
    """The program a command runs and its arguments, past ``VAR=value`` prefixes, ``time`` and ``sudo``."""
    tokens = shlex.split(command)
    while tokens and (re.match(r"^\w+=", tokens[0]) or tokens[0] in ("time", "sudo")):
        tokens.pop(0)
    return (tokens[0], tokens[1:]) if tokens else ("", [])


def command_rule(command: str) -> str:
    """Which check a command gets: run, parse, make, script, pytest, pip, not-checked, or none."""
    program, args = program_and_args(command)
    if program in NOT_CHECKED or (program.startswith("python") and args[:2] == ["-m", "venv"]):
        return "not-checked"
    if program == "feedback-gym":
        return "run" if CHEAP.search(shlex.join([program, *args])) else "parse"
    if program == "pytest" or (program.startswith("python") and args[:2] == ["-m", "pytest"]):
        return "pytest"
    if program.startswith("python") and args and (args[0] == "-m" or args[0].endswith(".py")):
        return "parse"
    if program == "make":
        return "make"
    if program == "bash" and args and args[0].endswith(".sh"):
        return "script"
    if program == "pip" or (program.startswith("python") and args[:2] == ["-m", "pip"]):
        return "pip"
    return "none"


PARSE_ONLY = """
import argparse, json, runpy, sys, traceback
class Parsed(BaseException):
    pass
def parse_args(self, args=None, namespace=None):
    original(self, args, namespace)
    raise Parsed()
original = argparse.ArgumentParser.parse_args
argparse.ArgumentParser.parse_args = parse_args
results = {}
for target, *rest in json.loads(sys.argv[1]):
    sys.argv = [target, *rest]
    key = " ".join([target, *rest])
    try:
        if target.endswith(".py"):
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        results[key] = "ran to its end without parsing arguments"
    except Parsed:
        results[key] = None
    except SystemExit as exit_:
        results[key] = f"the parser exited with {exit_.code}"
    except BaseException:
        results[key] = traceback.format_exc()[-2000:]
print(json.dumps(results))
"""


def python_target(command: str) -> tuple[str, list[str], Path]:
    """``python -m MODULE ARGS`` or ``python SCRIPT ARGS``: the module or script, its args, its source."""
    _, args = program_and_args(command)
    if args[0] == "-m":
        return args[1], args[2:], Path(importlib.util.find_spec(args[1]).origin)
    return str(ROOT / args[0]), args[1:], ROOT / args[0]


@pytest.fixture(scope="module")
def parsed_python_commands() -> dict[str, str | None]:
    """Every ``python`` command to parse, parsed in one child process (torch is imported once).

    Each module or script runs as ``__main__`` with argparse patched to stop right after parsing.
    Maps ``"TARGET ARGS"`` to ``None`` (accepted) or what went wrong.
    """
    jobs = []
    for _, command in COMMANDS:
        if command_rule(command) == "parse" and program_and_args(command)[0] != "feedback-gym":
            target, rest, source = python_target(command)
            if source.is_file() and "ArgumentParser" in source.read_text():
                jobs.append([target, *rest])
    if not jobs:
        return {}
    return parse_in_child(jobs)


def parse_in_child(jobs: list[list[str]]) -> dict[str, str | None]:
    """Run :data:`PARSE_ONLY` on ``[[target, *args], ...]`` in a child process."""
    proc = subprocess.run([sys.executable, "-c", PARSE_ONLY, json.dumps(jobs)], cwd=ROOT,
                          env=subprocess_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().split("\n")[-1])


def check_parses(command: str, parsed: dict[str, str | None]) -> None:
    """The command's own argument parser accepts its flags; nothing else of it runs."""
    program, args = program_and_args(command)
    if program == "feedback-gym":
        from feedback_gym.cli import build_parser

        try:
            build_parser().parse_args(args)
        except SystemExit as exit_:
            pytest.fail(f"`{command}` is refused by its parser (exit {exit_.code})")
        return
    target, rest, source = python_target(command)
    assert source.is_file(), f"`{command}`: {source} does not exist"
    if "ArgumentParser" not in source.read_text():
        assert not rest, f"`{command}`: {source.name} takes no arguments"
        return
    problem = parsed[" ".join([target, *rest])]
    assert problem is None, f"`{command}` is not accepted: {problem}"


def check_pytest_paths(command: str) -> None:
    _, args = program_and_args(command)
    args = args[2:] if args[:2] == ["-m", "pytest"] else args
    paths, skip_next = [], False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg in ("-k", "-m", "-p", "-n", "--dist"):  # options that take a value
            skip_next = True
        elif not arg.startswith("-"):
            paths.append(arg.split("::")[0])
    assert paths and all((ROOT / p).exists() for p in paths), f"`{command}` names paths that do not exist"


def check_pip_extras(command: str) -> None:
    extras = set(metadata.metadata("feedback-gym").get_all("Provides-Extra") or ())
    _, args = program_and_args(command)
    for arg in args:
        match = re.match(r"^(?:\.|feedback-gym)\[([\w,-]+)\]$", arg)
        if match:
            missing = set(match.group(1).split(",")) - extras
            assert not missing, f"`{command}`: no extra {sorted(missing)} (pyproject.toml)"


def test_the_parse_check_refuses_a_flag_the_parser_does_not_know():
    with pytest.raises(pytest.fail.Exception, match="refused by its parser"):
        check_parses("feedback-gym bench --policy oracle --no-such-flag", {})
    script = str(ROOT / "examples/retry_friction.py")
    results = parse_in_child([[script, "--tasks", "1"], [script, "--no-such-flag"]])
    assert results[f"{script} --tasks 1"] is None
    assert "exited with 2" in results[f"{script} --no-such-flag"]


@pytest.mark.parametrize(("block", "command"), COMMANDS, ids=[f"{b.where}:{c[:40]}" for b, c in COMMANDS])
def test_the_shell_command_is_right(block, command, tmp_path, parsed_python_commands):
    if block.not_run:
        pytest.skip(f"not run: {block.not_run}")
    rule = command_rule(command)
    if rule == "run":
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path, env=subprocess_env(),
                              capture_output=True, text=True, timeout=300)
        output = f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        assert proc.returncode == 0, f"{block.where} `{command}`:\n{output}"
    elif rule == "parse":
        check_parses(command, parsed_python_commands)
    elif rule == "make":
        _, targets = program_and_args(command)
        proc = subprocess.run(["make", "-n", *targets], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{block.where} `{command}`: {proc.stderr}"
    elif rule == "script":
        _, args = program_and_args(command)
        proc = subprocess.run(["bash", "-n", args[0]], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{block.where} `{command}`: {proc.stderr or 'no such script'}"
    elif rule == "pytest":
        check_pytest_paths(command)
    elif rule == "pip":
        check_pip_extras(command)
    else:
        assert rule == "not-checked", (
            f"{block.where}: no rule checks `{command}`; add one to command_rule, or mark the block "
            "<!-- not run: REASON -->")


# ------------------------------------------------------------------------------ summary.json schema

#: Objects of summary.json whose keys are data (options, versions, identities), not schema.
OPEN_OBJECTS = {"policy.kwargs", "policy.identity", "suite.entries[].kwargs", "config.packages",
                "config.execution.cluster_resources", "envs.LABEL.kwargs", "envs.LABEL.env.feedback_identity",
                "envs.LABEL.env.wrapped", "overall.error_causes"}


def documented_summary_keys() -> set[str]:
    """The key paths listed in the first column of ``docs/summary-json.md``'s tables."""
    text = (ROOT / "docs" / "summary-json.md").read_text()
    return set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.MULTILINE))


def undocumented_keys(value: object, path: str, documented: set[str]) -> list[str]:
    """Key paths of ``value`` (under ``path``) that the schema page does not list."""
    missing = []
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = "envs.LABEL" if path == "envs" else f"{path}.{key}" if path else key
            if child_path in documented:
                missing += undocumented_keys(child, child_path, documented)
            elif path not in OPEN_OBJECTS:
                missing.append(child_path)
    elif isinstance(value, list):
        for item in value:
            missing += undocumented_keys(item, f"{path}[]", documented)
    return missing


@pytest.mark.slow
def test_every_key_a_real_summary_holds_is_documented(tmp_path):
    from feedback_gym.benchmarks.runner import BenchConfig, run_benchmark
    from feedback_gym.benchmarks.suites import Suite, SuiteEntry

    suite = Suite("docs-v0", (SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 2}, tasks=(0, 1)),
                              SuiteEntry("CodeTryAgain-v0", {"max_turns": 2}, tasks=(0,))))
    summary = run_benchmark(BenchConfig("oracle", suite, tmp_path / "run", workers=1), progress=False)
    documented = documented_summary_keys()
    assert undocumented_keys(summary, "", documented) == []
    assert {"envs.LABEL.multi_turn.success@k", "overall.tokens_per_solved"} <= documented
