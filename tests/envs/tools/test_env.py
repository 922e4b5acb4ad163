"""ToolUseEnv end to end: oracles over many seeds, every call form, budgets, rewards, isolation."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.envs.tools import ToolUseEnv
from feedback_gym.envs.tools.answers import check_answer, numbers_in
from feedback_gym.envs.tools.calls import ACCEPTED_FORMS
from feedback_gym.envs.tools.generators import GENERATORS
from feedback_gym.envs.tools.tasks import format_answer
from feedback_gym.sandboxes import Limits, Sandbox, make_sandbox
from feedback_gym.tasks import Task, thaw


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = make_sandbox("local")
    yield box
    box.close()


@pytest.fixture
def env(sandbox: Sandbox) -> Iterator[ToolUseEnv]:
    environment = ToolUseEnv(sandbox=sandbox)
    yield environment
    environment.close()


def play_oracle(env: ToolUseEnv, **reset: object) -> tuple[list[float], dict, list[str]]:
    """Replay oracle_action() to the end; return rewards, the last info and the tool outputs."""
    _, info = env.reset(**reset)  # type: ignore[arg-type]
    rewards, outputs = [], []
    for _ in range(env.max_turns):
        observation, reward, terminated, truncated, info = env.step(env.oracle_action())
        rewards.append(reward)
        if info["error_kind"] in ("tool_call", "tool_error"):
            outputs.append(observation)
        if terminated or truncated:
            break
    return rewards, info, outputs


def _answer_is_in(outputs: list[str], task: Task) -> bool:
    """Whether the answer can be read off a tool output (so the oracle really derived it)."""
    answer, kind, tolerance = task.reference["answer"], task.hidden["answer_type"], task.hidden["tolerance"]
    if kind == "number":
        return any(abs(n - answer) <= max(tolerance, 1e-9) for out in outputs for n in numbers_in(out))
    accepted = [answer] if isinstance(answer, str) else list(answer)
    return any(a.lower() in out.lower() for a in accepted for out in outputs)


@pytest.mark.parametrize("index", range(0, 48))
def test_generated_oracle_solves_with_real_tools(env: ToolUseEnv, index: int) -> None:
    rewards, info, outputs = play_oracle(env, options={"task_index": index})
    task = env.task
    assert task is not None and task.metadata["kind"] == list(GENERATORS)[index % len(GENERATORS)]
    assert info["solved"] and rewards[-1] == 1.0 and sum(rewards) == 1.0
    plan = task.reference["oracle"]
    assert len(rewards) == len(plan) and info["tool_calls_used"] == len(plan) - 1
    assert _answer_is_in(outputs[-1:], task), outputs[-1]


@pytest.mark.parametrize("seed", [1, 7, 123])
def test_generated_sources_are_deterministic_per_seed(sandbox: Sandbox, seed: int) -> None:
    first, second = ToolUseEnv(seed=seed, sandbox=sandbox), ToolUseEnv(seed=seed, sandbox=sandbox)
    assert first.reset(seed=5)[0] == second.reset(seed=5)[0]
    assert first.oracle_action() == second.oracle_action()
    other = ToolUseEnv(seed=seed + 1, sandbox=sandbox)
    assert [other.source.task(i).prompt for i in range(8)] != [first.source.task(i).prompt for i in range(8)]


def test_handwritten_oracles_solve_every_task(sandbox: Sandbox) -> None:
    env = ToolUseEnv("handwritten", sandbox=sandbox)
    assert env.source.size == 23
    for index in range(env.source.size):
        rewards, info, outputs = play_oracle(env, options={"task_index": index})
        task = env.task
        assert task is not None and info["solved"], (task.id, info["messages"][-1])
        if task.reference["oracle"][:-1]:
            assert _answer_is_in(outputs, task), task.id
        else:
            assert outputs == [] and rewards == [1.0]  # the no-tool tasks: answer directly


def _shop_task() -> dict:
    return {
        "id": "mine/nairobi",
        "question": "How many customers live in Nairobi?",
        "answer": 11,
        "database": "shop",
        "oracle": [
            {"tool": "sql", "arguments": {"query": "SELECT COUNT(*) FROM customers WHERE city = 'Nairobi'"}}
        ],
        "key_facts": [11],
    }


@pytest.mark.parametrize(
    "call",
    [
        '{"tool": "sql", "arguments": {"query": "SELECT COUNT(*) FROM customers WHERE city = \'Nairobi\'"}}',
        '<tool_call>{"name": "sql", "arguments": {"query": "SELECT COUNT(*) FROM customers WHERE city = '
        "'Nairobi'\"}}</tool_call>",
        json.dumps(
            {
                "type": "function",
                "function": {
                    "name": "sql",
                    "arguments": json.dumps(
                        {"query": "SELECT COUNT(*) FROM customers WHERE city = 'Nairobi'"}
                    ),
                },
            }
        ),
    ],
)
@pytest.mark.parametrize(
    "answer", ["<answer>11</answer>", '{"tool": "submit", "arguments": {"answer": "11"}}']
)
def test_every_call_form_and_answer_form_plays(env: ToolUseEnv, call: str, answer: str) -> None:
    env.reset(options={"task": _shop_task()})
    observation, reward, terminated, truncated, info = env.step(call)
    assert observation.startswith("[sql result]\nCOUNT(*)\n11\n(1 row)")
    assert (reward, terminated, truncated, info["error_kind"]) == (0.0, False, False, "tool_call")
    assert info["verdict"]["evidence"]["tool_output"] == "COUNT(*)\n11\n(1 row)"
    observation, reward, terminated, _, info = env.step(answer)
    assert (observation, reward, terminated, info["solved"]) == ("Correct.", 1.0, True, True)


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        ("Let me think about which table to use.", "no tool call or answer found"),
        ('{"tool": "sql", "arguments": {"query": "SELECT 1"', "not valid JSON"),
        ('<tool_call>{"name": "sql"', "never closed"),
    ],
)
def test_malformed_calls_get_feedback_and_the_episode_goes_on(
    env: ToolUseEnv, action: str, problem: str
) -> None:
    env.reset(options={"task": _shop_task()})
    observation, reward, terminated, truncated, info = env.step(action)
    assert observation.startswith("Your reply is not a valid tool call or answer:")
    assert problem in observation and ACCEPTED_FORMS in observation
    assert (reward, terminated, truncated, info["error_kind"]) == (0.0, False, False, "invalid_action")
    assert info["tool_calls_used"] == 0


def test_tool_errors_are_shown_and_counted(env: ToolUseEnv) -> None:
    env.reset(options={"task": _shop_task()})
    observation, reward, _, _, info = env.step(
        '{"tool": "sql", "arguments": {"query": "DELETE FROM orders"}}'
    )
    assert observation.startswith("[sql error]\nSQL error: not authorized")
    assert info["error_kind"] == "tool_error" and info["tool_calls_used"] == 1 and reward == 0.0
    observation, *_ = env.step('{"tool": "teleport", "arguments": {}}')
    assert "unknown tool 'teleport'; available tools: python, calculator, search, sql, submit" in observation
    observation, *_ = env.step('{"tool": "calculator", "arguments": {"expr": "1+1"}}')
    assert (
        "unknown argument 'expr'" in observation and "missing required argument 'expression'" in observation
    )


def test_wrong_answers_get_feedback_until_the_attempts_run_out(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, max_submissions=2)
    env.reset(options={"task": _shop_task()})
    observation, reward, terminated, truncated, info = env.step("<answer>12</answer>")
    assert observation == "Incorrect.\n(left: 8 tool calls, 1 answer attempt, 11 replies)"
    assert (reward, terminated, truncated, info["submissions_left"]) == (0.0, False, False, 1)
    observation, reward, terminated, truncated, info = env.step("<answer>13</answer>")
    assert "No answer attempts are left; the episode is over." in observation
    assert (reward, terminated, truncated, info["submissions_left"]) == (0.0, True, False, 0)
    truncated_run = ToolUseEnv(sandbox=sandbox, max_submissions=None, max_turns=2)
    truncated_run.reset(options={"task": _shop_task()})
    truncated_run.step("<answer>1</answer>")
    ended_by_budget = truncated_run.step("<answer>2</answer>")[4]
    assert set(ended_by_budget) - {"tools", "tool_calls_used", "tool_calls_left", "submissions_left"} <= set(
        info
    )
    with pytest.raises(gym.error.ResetNeeded):
        env.step("<answer>11</answer>")


def test_unlimited_answers_run_until_the_turn_budget(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, max_submissions=None, max_turns=3)
    env.reset(options={"task": _shop_task()})
    flags = [env.step(f"<answer>{n}</answer>")[2:4] for n in (1, 2, 3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_the_tool_budget_refuses_calls_without_running_them(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, max_tool_calls=1)
    env.reset(options={"task": _shop_task()})
    env.step('{"tool": "calculator", "arguments": {"expression": "1 + 1"}}')
    observation, reward, terminated, _, info = env.step(json.dumps(_shop_task()["oracle"][0]))
    assert observation.startswith("No tool calls are left (the budget is 1)")
    assert info["error_kind"] == "tool_budget" and info["tool_calls_used"] == 1 and not terminated
    assert "submit" in env.oracle_action()  # with no calls left, the oracle answers


def test_the_oracle_resumes_its_plan_after_detours(env: ToolUseEnv) -> None:
    env.reset(options={"task_index": 0})  # shop_revenue: sql, calculator, submit
    plan = [json.dumps(step) for step in thaw(env.task.reference["oracle"])]  # type: ignore[union-attr]
    assert env.oracle_action() == plan[0]
    env.step('{"tool": "calculator", "arguments": {"expression": "1 + 1"}}')
    env.step("not a call")
    assert env.oracle_action() == plan[0]
    env.step(plan[0])
    env.step('{"tool": "search", "arguments": {"query": "Braedale"}}')
    assert env.oracle_action() == plan[1]
    env.step(plan[1])
    assert env.oracle_action() == plan[2]
    assert env.step(plan[2])[4]["solved"]


def test_step_rewards_and_call_costs(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, step_reward=0.25, call_cost=0.05)
    env.reset(options={"task": _shop_task()})
    steps = [env.step(env.oracle_action()), env.step(env.oracle_action())]
    assert steps[0][4]["reward_components"] == {"success": 0.0, "call_cost": -0.05, "step_reward": 0.25}
    assert steps[0][1] == pytest.approx(0.2)
    assert steps[1][4]["reward_components"] == {"success": 1.0, "call_cost": 0.0, "step_reward": 0.0}

    env.reset(options={"task": _shop_task()})
    sql = env.oracle_action()
    assert env.step(sql)[4]["reward_components"]["step_reward"] == 0.25
    assert env.step(sql)[4]["reward_components"]["step_reward"] == 0.0  # nothing new the second time
    failed = env.step('{"tool": "sql", "arguments": {"query": "SELEC"}}')[4]["reward_components"]
    assert failed == {"success": 0.0, "call_cost": -0.05, "step_reward": 0.0}
    unrelated = env.step('{"tool": "calculator", "arguments": {"expression": "2 + 2"}}')[4][
        "reward_components"
    ]
    assert unrelated["step_reward"] == 0.0


def test_error_penalties_apply_to_tool_errors(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, reward={"error_penalties": {"tool_error": 0.1, "invalid_action": 0.2}})
    env.reset(options={"task": _shop_task()})
    assert env.step('{"tool": "sql", "arguments": {"query": "nope"}}')[1] == pytest.approx(-0.1)
    assert env.step("hmm")[1] == pytest.approx(-0.2)


def test_python_state_never_crosses_episodes(env: ToolUseEnv) -> None:
    env.reset(seed=0)
    observation, *_ = env.step('{"tool": "python", "arguments": {"code": "secret = 41\\nsecret + 1"}}')
    assert observation.startswith("[python result]\n42")
    observation, *_ = env.step('{"tool": "python", "arguments": {"code": "secret * 2"}}')
    assert observation.startswith("[python result]\n82")
    env.reset(seed=0)
    observation, _, _, _, info = env.step('{"tool": "python", "arguments": {"code": "secret"}}')
    assert (
        observation.startswith("[python error]") and "NameError: name 'secret' is not defined" in observation
    )
    assert info["tool_calls_used"] == 1


def test_python_limits_are_configurable(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, python_limits=Limits(wall_seconds=0.5, cpu_seconds=1))
    env.reset(seed=0)
    observation = env.step(json.dumps({"tool": "python", "arguments": {"code": "while True: pass"}}))[0]
    assert observation.startswith("[python error]") and "longer than 0.5 s" in observation


def test_tool_output_is_shown_even_without_feedback(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, feedback="none")
    env.reset(options={"task": _shop_task()})
    assert env.step(env.oracle_action())[0].startswith("[sql result]\nCOUNT(*)\n11")
    observation = env.step("<answer>12</answer>")[0]
    assert observation.startswith("Your answer was recorded.") and "Incorrect" not in observation


def lookup_rate(currency: str) -> float:
    """Look up today's exchange rate of a currency against the euro.

    Args:
        currency: A three-letter currency code such as "NOK".
    """
    rates = {"NOK": 11.5, "SEK": 11.2}
    return rates[currency]


def test_user_tools_are_listed_described_and_callable(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, tools=[lookup_rate])
    task = {
        "question": "How many NOK is 20 EUR today?",
        "answer": 230,
        "oracle": [
            {"tool": "lookup_rate", "arguments": {"currency": "NOK"}},
            {"tool": "calculator", "arguments": {"expression": "20 * 11.5"}},
        ],
    }
    observation, info = env.reset(options={"task": task})
    names = [schema["function"]["name"] for schema in info["tools"]]
    assert names == ["python", "calculator", "search", "sql", "lookup_rate", "submit"]
    assert all(
        schema["type"] == "function" and "parameters" in schema["function"] for schema in info["tools"]
    )
    for name in names:
        assert f"- {name}(" in observation
    assert "Look up today's exchange rate" in observation
    assert play_oracle(env, options={"task": task})[1]["solved"]
    env.reset(options={"task": task})
    observation = env.step('{"tool": "lookup_rate", "arguments": {"currency": "XYZ"}}')[0]
    assert observation.startswith("[lookup_rate error]\nthe tool raised KeyError")


def test_builtin_tools_can_be_chosen(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox, builtin_tools=("calculator",), kinds=("town_density",))
    observation, info = env.reset(seed=0)
    assert [s["function"]["name"] for s in info["tools"]] == ["calculator", "submit"]
    assert "- search(" not in observation
    assert "unknown tool 'search'" in env.step(env.oracle_action())[0]


def test_hidden_material_stays_hidden(env: ToolUseEnv) -> None:
    for index in range(len(GENERATORS)):
        observation, info = env.reset(options={"task_index": index})
        task = env.task
        assert task is not None
        dumped = json.dumps(info)
        assert "oracle" not in dumped and "key_facts" not in dumped and "tolerance" not in dumped
        answer = format_answer(task.reference["answer"])
        assert f" {answer} " not in f" {observation} ".replace(".", " ").replace(",", " ")


def test_give_up_ends_the_episode(env: ToolUseEnv) -> None:
    env.reset(seed=3)
    _, reward, terminated, _, info = env.step("<give_up>")
    assert terminated and reward == 0.0 and info["error_kind"] == "gave_up"


@pytest.mark.parametrize("env_id", ["ToolUse-v0", "ToolUseHandwritten-v0"])
def test_registered_ids_pass_the_strict_checker_and_solve(env_id: str) -> None:
    env = gym.make(env_id)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(env.unwrapped)
        first, _ = env.reset(seed=11)
        assert env.reset(seed=11)[0] == first
        for junk in ("", "x" * 200_000, "a\x00b\x1b[31m", "\ud800", "```python\nprint(1)", b"\xff\xfe"):
            env.reset(seed=2)
            observation, reward, terminated, _, _ = env.step(junk)
            assert reward == 0.0 and not terminated and env.observation_space.contains(observation)
        env.reset(seed=4)
        done, total = False, 0.0
        while not done:
            _, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
            total += reward
            done = terminated or truncated
        assert info["solved"] and total == 1.0
    finally:
        env.close()


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"tasks": "nope"}, "tasks must be"),
        ({"kinds": ("nope",)}, "unknown task kinds"),
        ({"builtin_tools": ("shell",)}, "unknown built-in tools"),
        ({"max_tool_calls": -1}, "max_tool_calls"),
        ({"max_submissions": 0}, "max_submissions"),
        ({"call_cost": -1.0}, "call_cost"),
        ({"max_output_chars": 5}, "max_output_chars"),
        ({"sandbox": "cloud"}, "unknown sandbox backend"),
        ({"sandbox": 3}, "sandbox must be one of"),
        ({"tool_docs": "some"}, "tool_docs must be one of"),
        ({"python_limits": {"wall_seconds": 1}}, "python_limits must be"),
        ({"tasks": "handwritten", "family_options": {"source": "x"}}, "family_options only apply"),
    ],
)
def test_bad_arguments_say_what_is_accepted(kwargs: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ToolUseEnv(**kwargs)


def test_bad_user_tasks_are_refused(env: ToolUseEnv) -> None:
    with pytest.raises(ValueError, match="needs 'question' and 'answer'"):
        env.reset(options={"task": {"question": "x"}})
    with pytest.raises(ValueError, match="answer_type must be"):
        env.reset(options={"task": {"question": "x", "answer": 1, "answer_type": "date"}})
    with pytest.raises(ValueError, match="unknown keys"):
        env.reset(options={"task": {"question": "x", "answer": 1, "hint": "y"}})


def test_answer_checking() -> None:
    assert check_answer("The total is $1,049.33", 1049.33, "number", 0.011) == (True, None)
    assert check_answer("1049.35", 1049.33, "number", 0.011) == (False, None)
    assert check_answer("the Brenna", ["Brenna"], "text") == (True, None)


def test_close_stops_the_sandbox_it_made_and_a_later_call_makes_a_new_one() -> None:
    env = ToolUseEnv()
    env.reset(seed=0)
    assert env.step('{"tool": "python", "arguments": {"code": "1 + 1"}}')[0].startswith("[python result]\n2")
    made = env.toolbox.python_tool.sandbox
    env.close()
    env.close()  # idempotent
    env.reset(seed=0)
    assert env.step('{"tool": "python", "arguments": {"code": "2 + 2"}}')[0].startswith("[python result]\n4")
    assert env.toolbox.python_tool.sandbox is not made
    env.close()


def test_a_shared_sandbox_is_not_closed_by_the_env(sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=sandbox)
    env.reset(seed=0)
    env.step('{"tool": "python", "arguments": {"code": "1"}}')
    env.close()
    from feedback_gym.sandboxes import Job

    assert sandbox.run(Job(language="python", source="print(7)")).stdout.strip() == "7"


def test_two_envs_sharing_a_sandbox_do_not_see_each_other(sandbox: Sandbox) -> None:
    first, second = ToolUseEnv(sandbox=sandbox), ToolUseEnv(sandbox=sandbox)
    first.reset(seed=0)
    second.reset(seed=0)
    first.step(json.dumps({"tool": "python", "arguments": {"code": "owner = 'first'"}}))
    second.step(json.dumps({"tool": "python", "arguments": {"code": "owner = 'second'"}}))
    assert first.step(json.dumps({"tool": "python", "arguments": {"code": "owner"}}))[0].startswith(
        "[python result]\n'first'"
    )
    assert second.step(json.dumps({"tool": "python", "arguments": {"code": "owner"}}))[0].startswith(
        "[python result]\n'second'"
    )


def test_answer_modes_see_only_answers_not_tool_calls(sandbox: Sandbox) -> None:
    from feedback_gym.feedback import GENERIC_FEEDBACK_MODES

    if "reject_previous" not in GENERIC_FEEDBACK_MODES:
        pytest.skip("the reject_previous mode comes with the retry work")
    env = ToolUseEnv(sandbox=sandbox, feedback="reject_previous", max_submissions=3)
    env.reset(options={"task": _shop_task()})
    env.step(env.oracle_action())
    env.step("<answer>12</answer>")
    observation = env.step("<answer>13</answer>")[0]
    assert "`12`" in observation and "`13`" in observation
    assert "SELECT" not in observation and "sql" not in observation.split("(left:")[0]


@pytest.mark.parametrize(
    ("detail", "shown", "absent"),
    [
        ("full", "- search(query: string, k?: integer): Search the local encyclopedia", None),
        ("signatures", "- search(query: string, k?: integer)\n", "Search the local encyclopedia"),
        ("names", "- python, calculator, search, sql, submit", "search(query"),
    ],
)
def test_tool_documentation_detail(sandbox: Sandbox, detail: str, shown: str, absent: str | None) -> None:
    env = ToolUseEnv(sandbox=sandbox, tool_docs=detail)
    observation, info = env.reset(seed=0)
    assert shown in observation
    assert absent is None or absent not in observation
    assert "Search the local encyclopedia" in json.dumps(info["tools"])
