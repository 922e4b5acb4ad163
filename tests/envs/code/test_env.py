"""CodeFeedback-v0 and CppCompilerFeedback-v0 end to end, on the local sandbox."""

from __future__ import annotations

import json
import re
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.envs.code import CodeFeedbackEnv, CppCompilerFeedbackEnv
from feedback_gym.envs.code.loaders import humaneval_path
from feedback_gym.envs.code.mutants import wrong_answer_program
from feedback_gym.errors import ConfigError, EpisodeEndedError, InvalidTaskError, SandboxClosedError
from feedback_gym.sandboxes import Job, Limits, make_sandbox
from feedback_gym.tasks import read_jsonl

CODE_IDS = ["CodeFeedback-v0", "CppCompilerFeedback-v0", "HumanEval-v0"]
WRONG_TWO_SUM = "```python\ndef two_sum(nums, target):\n    return [0, 1]\n```"
CRASHING_TWO_SUM = "```python\ndef two_sum(nums, target):\n    return nums[10]\n```"


def fence(code: str, language: str = "python") -> str:
    return f"```{language}\n{code}\n```"


@pytest.fixture
def sandbox(local_sandbox):
    """The session's local sandbox (tests/conftest.py)."""
    return local_sandbox


@pytest.mark.parametrize("env_id", CODE_IDS)
def test_check_env_strict(env_id: str) -> None:
    env = gym.make(env_id)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


@pytest.mark.parametrize("env_id", CODE_IDS)
def test_registered_oracle_solves_and_junk_is_harmless(env_id: str) -> None:
    env = gym.make(env_id)
    try:
        junk_actions = ["", "x" * 1_000_000, "\x00\x01 ```", "\ud800 print(1)", "```python\ndef f(:", b"\xff"]
        for junk in junk_actions:
            env.reset(seed=3)
            obs, reward, terminated, _, info = env.step(junk)
            assert reward == 0.0 and not terminated and obs
            assert env.observation_space.contains(obs)
        env.reset(seed=3)
        obs, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
        assert (reward, terminated, truncated, info["solved"]) == (1.0, True, False, True)
        with pytest.raises(EpisodeEndedError):
            env.step("print(1)")
    finally:
        env.close()


def test_same_seed_same_task() -> None:
    env = gym.make("CodeFeedback-v0")
    try:
        assert env.reset(seed=11)[0] == env.reset(seed=11)[0]
        assert {env.reset(seed=s)[1]["task_id"] for s in range(8)} != {env.reset(seed=11)[1]["task_id"]}
    finally:
        env.close()


def test_failing_then_fixed_program(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox, max_turns=3)
    obs, info = env.reset(options={"task_id": "bundled/py/two_sum"})
    assert "two_sum(nums, target)" in obs and "3 attempts" in obs
    obs, reward, terminated, truncated, info = env.step(WRONG_TWO_SUM)
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["error_kind"] == "wrong_answer"
    assert 0 < info["score"] < 1
    assert "input:    two_sum([3, 2, 4], 6)" in obs
    assert "expected: [1, 2]" in obs and "got:      [0, 1]" in obs
    obs, reward, terminated, truncated, info = env.step(env.oracle_action())
    assert (reward, terminated, info["solved"], info["turn"]) == (1.0, True, True, 2)
    assert obs.startswith("Correct")


def test_runtime_error_shows_only_the_programs_traceback(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox)
    env.reset(options={"task_id": "bundled/py/two_sum"})
    obs, _, _, _, info = env.step(CRASHING_TWO_SUM)
    assert info["error_kind"] == "runtime_error"
    assert 'File "candidate.py", line 2, in two_sum' in obs and "IndexError" in obs
    assert 'File "main.py"' not in obs  # the harness's own frames are dropped


def test_python_syntax_error_is_a_compile_error_with_a_line(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox, reward={"error_penalties": {"compile_error": 0.25}})
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    obs, reward, _, _, info = env.step(fence("def add_numbers(a, b)\n    return a + b"))
    assert info["error_kind"] == "compile_error"
    assert re.search(r":1:\d+: error: SyntaxError", obs)
    assert reward == -0.25 and info["reward_components"]["error_penalty"] == -0.25


def test_c_compile_error_gives_diagnostics_with_line_numbers(sandbox) -> None:
    env = CppCompilerFeedbackEnv(sandbox=sandbox, reward={"error_penalties": {"compile_error": 0.1}})
    env.reset(options={"task_id": "bundled/c/sum-two"})
    program = '#include <stdio.h>\nint main(void) {\n    long long a, b\n    scanf("%lld %lld", &a, &b);\n}\n'
    obs, reward, terminated, _, info = env.step(fence(program, "c"))
    assert info["error_kind"] == "compile_error" and not terminated
    assert re.search(r"main\.c:4:\d+: error: ", obs), obs
    assert info["verdict"]["evidence"]["diagnostics"].startswith("main.c:")
    assert reward == pytest.approx(-0.1)
    obs, reward, terminated, _, info = env.step(env.oracle_action())
    assert (reward, terminated) == (1.0, True)


def test_cpp_wrong_output_shows_the_case(sandbox) -> None:
    env = CppCompilerFeedbackEnv(sandbox=sandbox, feedback="tests")
    env.reset(options={"task_id": "bundled/cpp/sum-list"})
    program = "#include <iostream>\nint main() { std::cout << 0 << std::endl; }"
    obs, _, _, _, info = env.step(fence(program, "cpp"))
    assert info["error_kind"] == "wrong_answer"
    assert "expected: 6" in obs and "got:      0" in obs


def test_feedback_modes_render_the_same_verdict(sandbox) -> None:
    seen = {}
    for mode in ("none", "binary", "unary", "score", "tests", "full"):
        env = CodeFeedbackEnv(sandbox=sandbox, feedback=mode)
        env.reset(seed=0, options={"task_id": "bundled/py/two_sum"})
        obs, reward, _, _, info = env.step(CRASHING_TWO_SUM)
        seen[mode] = (obs, json.dumps(info["verdict"], sort_keys=True), reward)
    assert len({verdict for _, verdict, _ in seen.values()}) == 1
    assert len({obs for obs, _, _ in seen.values()}) == 6
    assert "IndexError" not in seen["none"][0] and "IndexError" not in seen["binary"][0]
    assert "0 of 7" in seen["score"][0]
    assert "got:      error: IndexError" in seen["tests"][0] and "Traceback" not in seen["tests"][0]
    assert "Traceback" in seen["full"][0]


def _hidden_sources(env: CodeFeedbackEnv) -> list[str]:
    task = env.task
    shown = env.visible_count(task)
    tests = list(task.hidden.get("tests", ()))[shown:]
    solution = task.reference[len(task.metadata.get("starter_code", "")):]  # HumanEval: prompt + body
    return [t for t in tests if len(t) > 12] + [solution, task.hidden.get("setup", "")]


@pytest.mark.parametrize("task_id", ["bundled/py/edit_distance", "HumanEval/32", "HumanEval/53"])
def test_hidden_tests_never_reach_observations_or_info(sandbox, task_id: str) -> None:
    tasks = "humaneval" if task_id.startswith("HumanEval") else "bundled"
    programs = [
        "def f(:\n",  # does not parse
        "import sys\nprint(open(sys.argv[0]).read())\nraise SystemExit(0)\n",
        "def {e}(*args):\n    raise ValueError(repr(args))\n",
        "def {e}(*args):\n    return args\n",
        "import traceback\ndef {e}(*args):\n    traceback.print_stack()\n    return None\n",
    ]
    for mode in ("tests", "full"):
        env = CodeFeedbackEnv(tasks, sandbox=sandbox, feedback=mode, max_turns=len(programs))
        obs, info = env.reset(options={"task_id": task_id})
        texts = [obs, json.dumps(info)]
        entry = env.task.metadata["entry_point"]
        for program in programs:
            obs, _, _, _, info = env.step(fence(program.replace("{e}", entry)))
            texts += [obs, json.dumps(info, default=str)]
        blob = "\n".join(texts)
        for secret in _hidden_sources(env):
            for line in secret.splitlines():
                if len(line.strip()) > 12:
                    assert line.strip() not in blob, f"hidden line leaked: {line.strip()!r}"


def test_visible_tests_are_configurable(sandbox) -> None:
    default = CodeFeedbackEnv(sandbox=sandbox)
    obs, _ = default.reset(options={"task_id": "bundled/py/gcd"})
    assert obs.count("assert gcd(") == 1
    none = CodeFeedbackEnv(sandbox=sandbox, visible_tests=0)
    obs, _ = none.reset(options={"task_id": "bundled/py/gcd"})
    assert "assert gcd(" not in obs
    three = CodeFeedbackEnv(sandbox=sandbox, visible_tests=3)
    obs, _ = three.reset(options={"task_id": "bundled/py/gcd"})
    assert obs.count("assert gcd(") == 3
    obs, *_ = three.step(fence("def gcd(a, b):\n    return 1"))
    assert "test 1: assert gcd(12, 18) == 6" in obs  # a visible test may be quoted
    assert "test 4 (hidden)" in obs or "(hidden)" in obs
    with pytest.raises(ConfigError):
        CodeFeedbackEnv(visible_tests=-1)


@pytest.mark.parametrize(
    ("reply", "phrase"),
    [("I am not sure how to do this.", "no code found"), ("```python\ndef add_numbers(a, b):", "not closed")],
)
def test_reply_without_code_gets_told(sandbox, reply: str, phrase: str) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox)
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    obs, reward, terminated, _, info = env.step(reply)
    assert phrase in obs and reward == 0.0 and not terminated
    assert info["error_kind"] == "invalid_action"


def test_fraction_reward_and_turn_penalty(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox, reward={"success": "fraction", "turn_penalty": 0.05})
    env.reset(options={"task_id": "bundled/py/two_sum"})
    _, reward, _, _, info = env.step(WRONG_TWO_SUM)
    assert info["reward_components"]["success"] == pytest.approx(3 / 7)
    assert reward == pytest.approx(3 / 7 - 0.05)
    _, reward, _, _, info = env.step(WRONG_TWO_SUM)  # no improvement, no credit twice
    assert info["reward_components"]["success"] == 0.0
    _, reward, terminated, _, _ = env.step(env.oracle_action())
    assert reward == pytest.approx(4 / 7 - 0.05) and terminated


def test_turn_budget_truncates_and_a_timeout_is_feedback(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox, max_turns=2, test_timeout=0.5)
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    hang = fence("def add_numbers(a, b):\n    while True:\n        pass")
    obs, _, terminated, truncated, info = env.step(hang)
    assert info["error_kind"] == "timeout" and not terminated and not truncated
    _, _, terminated, truncated, _ = env.step(fence("def add_numbers(a, b):\n    return 0"))
    assert truncated and not terminated


def test_faking_a_pass_does_not_work(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox, max_turns=4)
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    fakes = [
        "import os\nos._exit(0)",
        "print('All tests passed')\nraise SystemExit(0)",
        "class Yes:\n    def __eq__(self, other):\n        return True\n\n"
        "def add_numbers(a, b):\n    return Yes()",
        "import builtins\nbuiltins.AssertionError = type('X', (Exception,), {})\n"
        "def add_numbers(a, b):\n    return 0",
    ]
    for fake in fakes:
        _, reward, terminated, _, info = env.step(fence(fake))
        assert reward == 0.0 and not info["solved"], fake
    io_env = CodeFeedbackEnv(sandbox=sandbox)
    io_env.reset(options={"task_id": "bundled/py-io/sum-two"})
    _, reward, *_ = io_env.step(fence("import sys\nsys.exit(0)"))
    assert reward == 0.0


def test_user_task_in_humaneval_schema(sandbox) -> None:
    record = read_jsonl(humaneval_path())[2]
    env = CodeFeedbackEnv(sandbox=sandbox)
    obs, info = env.reset(options={"task": record})
    assert "truncate_number" in obs and info["task_metadata"]["source"] == "user"
    _, reward, terminated, _, _ = env.step(env.oracle_action())
    assert (reward, terminated) == (1.0, True)


def test_user_task_in_mbpp_schema(sandbox) -> None:
    record = {
        "task_id": 11, "text": "Write a python function to remove first and last occurrence of a given "
        "character from the string.",
        "code": "def remove_Occ(s,ch):\n    i = s.find(ch)\n    if i >= 0:\n        s = s[:i] + s[i+1:]\n"
        "    j = s.rfind(ch)\n    if j >= 0:\n        s = s[:j] + s[j+1:]\n    return s",
        "test_list": ['assert remove_Occ("hello","l") == "heo"', 'assert remove_Occ("abcda","a") == "bcd"',
                      'assert remove_Occ("PHP","P") == "H"'],
        "test_setup_code": "", "challenge_test_list": [],
    }
    env = CodeFeedbackEnv(sandbox=sandbox)
    obs, info = env.reset(options={"task": record})
    assert "remove_Occ" in obs and info["task_id"] == "mbpp/11"
    obs, reward, *_ = env.step(fence("def remove_Occ(s, ch):\n    return s"))
    assert reward == 0.0 and "expected: 'heo'" in obs
    _, reward, terminated, _, _ = env.step(env.oracle_action())
    assert (reward, terminated) == (1.0, True)


def test_bad_user_task_and_arguments_are_explained() -> None:
    env = CodeFeedbackEnv()
    with pytest.raises(InvalidTaskError, match="HumanEval"):
        env.reset(options={"task": {"question": "no tests"}})
    with pytest.raises(ConfigError, match="accepted"):
        CodeFeedbackEnv(tasks="nope")
    with pytest.raises(ConfigError, match="local, docker"):
        CodeFeedbackEnv(sandbox="vm")
    with pytest.raises(ConfigError):
        CodeFeedbackEnv(test_timeout=0)
    env.close()


def test_generated_tasks_are_solvable(sandbox) -> None:
    env = CodeFeedbackEnv("generated", seed=5, sandbox=sandbox, max_turns=1)
    for index in range(10):
        env.reset(options={"task_index": index})
        _, reward, terminated, _, info = env.step(env.oracle_action())
        assert (reward, terminated) == (1.0, True), info["verdict"]
        assert info["task_id"] == f"codegen/5/{index}"


def test_shared_sandbox_survives_env_close(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox)
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    env.step(env.oracle_action())
    env.close()
    env.close()  # idempotent
    result = sandbox.run(Job(language="python", source="print(6 * 7)"))
    assert result.ok and result.stdout == "42\n", result  # the env did not close the sandbox it was given
    other = CodeFeedbackEnv(sandbox=sandbox)
    other.reset(options={"task_id": "bundled/py/add_numbers"})
    assert other.step(other.oracle_action())[1] == 1.0


def test_limits_are_applied(sandbox) -> None:
    env = CodeFeedbackEnv(sandbox=sandbox, limits=Limits(wall_seconds=1.0, cpu_seconds=1.0, memory_mb=256))
    env.reset(options={"task_id": "bundled/py-io/sum-two"})
    _, _, _, _, info = env.step(fence("x = bytearray(1024 * 1024 * 1024)\nprint(3)"))
    assert info["error_kind"] in ("runtime_error", "wrong_answer") and not info["solved"]


def test_compile_error_is_reported_once_in_tests_and_full(sandbox) -> None:
    broken = fence("#include <stdio.h>\nint main(void) {\n    return 0\n}", "c")
    for mode, wants_diagnostics in (("tests", False), ("full", True)):
        env = CppCompilerFeedbackEnv(sandbox=sandbox, feedback=mode)
        env.reset(options={"task_id": "bundled/c/sum-two"})
        obs, *_ = env.step(broken)
        assert obs.startswith("Incorrect: the program does not compile; none of the 8 tests ran.")
        assert "not run" not in obs
        assert bool(re.search(r"main\.c:3:\d+: error: expected", obs)) is wants_diagnostics


def test_prints_reach_full_feedback_and_line_numbers_are_the_programs(sandbox) -> None:
    env = CodeFeedbackEnv("humaneval", sandbox=sandbox)
    env.reset(options={"task_id": "HumanEval/0"})  # its starter code brings `from typing import List`
    program = "def has_close_elements(numbers: List[float], threshold):\n    print('seen', len(numbers))\n" \
              "    return numbers[99]"
    obs, *_ = env.step(fence(program))
    assert "[stdout]\nseen 6" in obs
    assert 'File "candidate.py", line 3, in has_close_elements' in obs


def test_a_closed_sandbox_is_an_error_not_a_zero_reward() -> None:
    box = make_sandbox("local")
    env = CodeFeedbackEnv(sandbox=box)
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    box.close()
    with pytest.raises(SandboxClosedError):
        env.step(env.oracle_action())


def test_user_task_in_bundled_schema_with_io_cases(sandbox) -> None:
    task = {"prompt": "Read n and print n squared.", "language": "python", "style": "io",
            "cases": [["2\n", "4\n"], ["3\n", "9\n"], ["-4\n", "16\n"]],
            "solution": "print(int(input()) ** 2)"}
    env = CodeFeedbackEnv(sandbox=sandbox)
    obs, info = env.reset(options={"task": task})
    assert info["task_id"].startswith("user/") and obs.startswith("Read n")
    _, reward, *_ = env.step(fence("print(int(input()) * 2)"))
    assert reward == 0.0
    _, reward, terminated, _, _ = env.step(env.oracle_action())
    assert (reward, terminated) == (1.0, True)


def test_generated_broken_variants_fail(sandbox) -> None:
    env = CodeFeedbackEnv("generated", seed=9, sandbox=sandbox, max_turns=1)
    for index in range(10):
        env.reset(options={"task_index": index})
        _, reward, _, _, info = env.step(fence(wrong_answer_program(env.task)))
        assert reward == 0.0 and info["error_kind"] == "wrong_answer"


@pytest.mark.parametrize(
    ("env_class", "tasks", "file", "wrong"),
    [
        (CodeFeedbackEnv, "apps", "apps_sample.jsonl", "print(0)"),
        (CodeFeedbackEnv, "mbpp", "mbpp_sample.jsonl", "def is_not_prime(n):\n    return False"),
        (CppCompilerFeedbackEnv, "codecontests", "codecontests_sample.jsonl", "int main() { return 0; }"),
    ],
)
def test_loaded_tasks_run_end_to_end(sandbox, env_class, tasks: str, file: str, wrong: str) -> None:
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / file
    env = env_class(tasks, tasks_path=path, sandbox=sandbox)  # CodeContests in the C++ env: C++ references
    for task_id in env.source.ids():
        env.reset(options={"task_id": task_id})
        language = env.task.metadata["language"]
        if task_id == "mbpp/3" or tasks != "mbpp":
            _, reward, *_ = env.step(fence(wrong, language))
            assert reward == 0.0, task_id
        _, reward, terminated, _, info = env.step(env.oracle_action())
        assert (reward, terminated) == (1.0, True), (task_id, info["verdict"])
