"""Oracle and anti-oracle over the tasks: each reference solves on the first step, broken ones do not.

Runs on the local sandbox, and on Docker when an engine is up (``@pytest.mark.docker``; CI requires
it). The default run checks a few tasks of each family on each backend (a fixed sample); the sweep
job (``pytest -m sweep``) checks every task. Tasks are spread over a few threads, each with its own
environment, all sharing the session's sandbox.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from feedback_gym.envs.code import CodeFeedbackEnv, CppCompilerFeedbackEnv
from feedback_gym.envs.code.mutants import broken_syntax_program, wrong_answer_program
from feedback_gym.envs.code.sources import make_task_source
from tests.sampling import sample_per_group

THREADS = 4
SETS = [
    ("humaneval", CodeFeedbackEnv),
    ("bundled", CodeFeedbackEnv),
    ("bundled-c-cpp", CppCompilerFeedbackEnv),
]
#: Tasks of each family (``bundled/py``, ``bundled/c``, ``HumanEval``...) checked in the default run.
PER_FAMILY = 2


def fence(code: str, language: str) -> str:
    return f"```{language}\n{code}\n```"


def family(task_id: str) -> str:
    return task_id.rsplit("/", 1)[0]


def sweep(
    env_class: type[CodeFeedbackEnv], tasks: str, ids: list[str], sandbox, syntax_every: int
) -> list[str]:
    """Run oracle, wrong-answer and (every ``syntax_every``-th task) syntax-error replies; list failures."""
    local = threading.local()
    envs: list[CodeFeedbackEnv] = []

    def env() -> CodeFeedbackEnv:
        if not hasattr(local, "env"):
            local.env = env_class(tasks, sandbox=sandbox, max_turns=2)
            envs.append(local.env)
        return local.env

    def check(item: tuple[int, str]) -> list[str]:
        index, task_id = item
        e, problems = env(), []
        e.reset(options={"task_id": task_id})
        _, reward, terminated, _, info = e.step(e.oracle_action())
        if (reward, terminated, info["turn"]) != (1.0, True, 1):
            problems.append(f"{task_id}: oracle scored {info['score']} ({info['error_kind']})")
        language = e.task.metadata["language"]
        e.reset(options={"task_id": task_id})
        _, reward, terminated, _, info = e.step(fence(wrong_answer_program(e.task), language))
        if reward != 0.0 or terminated or info["error_kind"] != "wrong_answer":
            problems.append(f"{task_id}: a wrong program got {reward} ({info['error_kind']})")
        if index % syntax_every == 0:
            e.reset(options={"task_id": task_id})
            obs, reward, _, _, info = e.step(fence(broken_syntax_program(e.task), language))
            if reward != 0.0 or info["error_kind"] != "compile_error" or ":" not in obs:
                problems.append(f"{task_id}: a program that does not compile got {info['error_kind']}")
        return problems

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            return [p for problems in pool.map(check, enumerate(ids)) for p in problems]
    finally:
        for e in envs:
            e.close()


@pytest.mark.parametrize("scope", ["sample", pytest.param("every", marks=pytest.mark.sweep)])
@pytest.mark.parametrize(("tasks", "env_class"), SETS, ids=[s for s, _ in SETS])
def test_references_solve_and_broken_variants_fail(
    tasks: str, env_class, scope: str, backend_sandbox, backend: str
) -> None:
    ids = make_task_source(tasks).ids()
    if scope == "sample":
        ids = sample_per_group(ids, PER_FAMILY, group=family, salt=f"oracle-sweep/{backend}")
        syntax_every = 1  # a handful of tasks: every one also gets a program that does not compile
    else:
        syntax_every = 1 if tasks != "bundled-c-cpp" else 5  # compiling is the slow part
    problems = sweep(env_class, tasks, ids, backend_sandbox, syntax_every)
    assert not problems, "\n".join(problems[:20])


def test_sweep_sizes() -> None:
    assert make_task_source("humaneval").size == 164
    assert make_task_source("bundled").size >= 100
    assert make_task_source("bundled-c-cpp").size >= 30
