"""Property tests: no text makes the parser, the calculator or the environment raise."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback_gym.envs.tools import ToolUseEnv
from feedback_gym.envs.tools.calculator import calculator
from feedback_gym.envs.tools.calls import CallParseError, FinalAnswer, ToolCall, parse_action
from feedback_gym.envs.tools.registry import ToolError

PIECES = st.sampled_from(
    [
        '{"tool": ',
        '"sql"',
        '"arguments": ',
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        '"',
        "<tool_call>",
        "</tool_call>",
        "<answer>",
        "</answer>",
        "```json\n",
        "```",
        "\\boxed{",
        "Answer: ",
        "null",
        "1e999",
        "\n",
        " ",
        "\x00",
    ]
)
TEXT = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=40).map("".join))


@given(TEXT)
@settings(max_examples=400, deadline=None)
def test_the_parser_only_ever_raises_call_parse_errors(text: str) -> None:
    try:
        parsed = parse_action(text)
    except CallParseError as err:
        assert "Accepted forms" in str(err)
    else:
        assert isinstance(parsed, ToolCall | FinalAnswer)


ARITHMETIC = st.lists(
    st.sampled_from(
        [
            "1",
            "9",
            "0",
            "2.5",
            "1e308",
            "+",
            "-",
            "*",
            "/",
            "//",
            "%",
            "**",
            "^",
            "(",
            ")",
            "sqrt(",
            "factorial(",
            "round(",
            ",",
            "pi",
            "x",
            "'",
            "[",
            "lambda",
        ]
    ),
    max_size=30,
).map("".join)


@given(ARITHMETIC)
@settings(max_examples=400, deadline=2000)
def test_the_calculator_answers_or_refuses_quickly(expression: str) -> None:
    try:
        value = calculator(expression)
    except ToolError:
        return
    float(value)  # whatever it returns is a number


@given(st.lists(TEXT, min_size=1, max_size=4))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_environment_never_raises_on_replies(replies: list[str]) -> None:
    env = ToolUseEnv(builtin_tools=("calculator", "search", "sql"), kinds=("shop_revenue",))
    env.reset(seed=0)
    for reply in replies:
        observation, reward, terminated, truncated, info = env.step(reply)
        assert env.observation_space.contains(observation)
        assert reward in (0.0, 1.0) and isinstance(info["tools"], list)
        if terminated or truncated:
            break
    json.dumps(info)  # info stays JSON-friendly
