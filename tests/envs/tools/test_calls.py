"""Every accepted call form parses to the same call; malformed replies raise with a useful message."""

from __future__ import annotations

import json

import pytest

from feedback_gym.envs.tools.calls import ACCEPTED_FORMS, CallParseError, FinalAnswer, ToolCall, parse_action

ARGS = {"query": "SELECT 1", "k": 2}


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (json.dumps({"tool": "sql", "arguments": ARGS}), "json"),
        (json.dumps({"name": "sql", "parameters": ARGS}), "json"),
        ("Let me query.\n```json\n" + json.dumps({"tool": "sql", "arguments": ARGS}) + "\n```", "json"),
        (
            "I will look.\n<tool_call>\n" + json.dumps({"name": "sql", "arguments": ARGS}) + "\n</tool_call>",
            "tagged",
        ),
        (
            json.dumps({"type": "function", "function": {"name": "sql", "arguments": json.dumps(ARGS)}}),
            "openai",
        ),
        (
            json.dumps(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "sql", "arguments": json.dumps(ARGS)},
                        }
                    ],
                }
            ),
            "openai",
        ),
        (json.dumps({"function_call": {"name": "sql", "arguments": json.dumps(ARGS)}}), "openai"),
    ],
)
def test_every_form_reads_the_same_call(text: str, form: str) -> None:
    assert parse_action(text) == ToolCall("sql", ARGS, form)


def test_arguments_may_be_omitted_or_null() -> None:
    assert parse_action('{"tool": "now"}') == ToolCall("now", {}, "json")
    assert parse_action('{"tool": "now", "arguments": null}') == ToolCall("now", {}, "json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is <answer> 1,283 </answer>.", FinalAnswer("1,283", "tag")),
        ('{"tool": "submit", "arguments": {"answer": "Oster"}}', FinalAnswer("Oster", "submit")),
        (
            '<tool_call>{"name": "submit", "arguments": {"answer": 12.5}}</tool_call>',
            FinalAnswer("12.5", "submit"),
        ),
        (
            json.dumps({"type": "function", "function": {"name": "submit", "arguments": '{"answer": "x"}'}}),
            FinalAnswer("x", "submit"),
        ),
    ],
)
def test_final_answers(text: str, expected: FinalAnswer) -> None:
    assert parse_action(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("I think I should look it up first.", "no tool call or answer found"),
        ('{"tool": "sql", "arguments": {"query": "SELECT 1"}', "not valid JSON"),
        ('<tool_call>{"name": "sql"', "never closed"),
        ("<tool_call>[1, 2]</tool_call>", "must be a JSON object; got a JSON array"),
        ('{"arguments": {"x": 1}}', "names no tool"),
        ('{"tool": 5}', "names no tool"),
        ('{"tool": "sql", "arguments": [1]}', "must be a JSON object; got a JSON array"),
        ('{"tool": "sql", "arguments": "{not json"}', "is not valid JSON"),
        ('<tool_call>{"name": "a"}</tool_call><tool_call>{"name": "b"}</tool_call>', "one call per reply"),
        ('{"tool_calls": [{"function": {"name": "a"}}, {"function": {"name": "b"}}]}', "one call per reply"),
        ('{"tool_calls": []}', "non-empty list"),
        ('<tool_call>{"name": "a"}</tool_call> <answer>3</answer>', "both a tool call and an <answer>"),
        (
            '{"tool": "search", "arguments": {"query": "x"}}\n<answer>3</answer>',
            "both a tool call and an <answer>",
        ),
        ("<answer>1</answer><answer>2</answer>", "one final answer"),
        ("<answer>  </answer>", "empty"),
        ('{"tool": "submit", "arguments": {}}', 'exactly one argument, "answer"'),
        ('{"tool": "submit", "arguments": {"answer": [1, 2]}}', "string or a number"),
        ('{"tool": "submit", "arguments": {"answer": "  "}}', "empty"),
        ('```json\n{"tool": "a"}\n```\n```json\n{"tool": "b"}\n```', "one call per reply"),
        ("[" * 100_000 + "]" * 100_000, "no tool call or answer found"),
        ("{" + '"a":' * 50_000 + "1" + "}" * 50_000, "JSON"),
    ],
)
def test_malformed_replies_name_the_problem_and_the_accepted_forms(text: str, problem: str) -> None:
    with pytest.raises(CallParseError) as caught:
        parse_action(text)
    assert problem in str(caught.value)
    assert ACCEPTED_FORMS in str(caught.value)


def test_to_json_round_trips() -> None:
    call = ToolCall("python", {"code": "print('é')\n"})
    assert parse_action(call.to_json()) == call


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 * 24 = 288\nAnswer: 58", FinalAnswer("58", "line")),
        ("So x = -6.\nFinal answer: -6", FinalAnswer("-6", "line")),
        ("The roots are \\boxed{-5, 3}.", FinalAnswer("-5, 3", "boxed")),
        ("\\boxed{\\frac{1}{2}}", FinalAnswer("\\frac{1}{2}", "boxed")),
    ],
)
def test_maths_style_answers(text: str, expected: FinalAnswer) -> None:
    assert parse_action(text) == expected


def test_a_call_after_prose_is_found_but_only_one() -> None:
    text = 'I need the founding year. {"tool": "search", "arguments": {"query": "Braedale {1}"}} Let us see.'
    assert parse_action(text) == ToolCall("search", {"query": "Braedale {1}"}, "json")
    assert parse_action(
        'The set {1, 2} is small; {"name": "calculator", "arguments": {"expression": "1+2"}}'
    ) == (ToolCall("calculator", {"expression": "1+2"}, "json"))
    with pytest.raises(CallParseError, match="found 2 JSON tool calls"):
        parse_action('First {"tool": "a"} then {"tool": "b"}')
    with pytest.raises(CallParseError, match="no tool call or answer found"):
        parse_action("A dict like {'tool': 'a'} is not JSON.")
