r"""Reading an agent's reply as one tool call or one final answer, in the forms models actually emit.

Accepted forms (one per reply):

- a tagged block, as Hermes/Qwen chat templates write it:
  ``<tool_call>{"name": "sql", "arguments": {"query": "..."}}</tool_call>``;
- a JSON object, bare or in a fenced code block: ``{"tool": "sql", "arguments": {...}}``
  (``"name"`` works for ``"tool"`` and ``"parameters"`` for ``"arguments"``);
- the OpenAI function-call form: ``{"type": "function", "function": {"name": ..., "arguments": "<JSON
  string>"}}``, a message with ``"tool_calls": [...]`` holding one call, or the legacy
  ``{"function_call": {...}}``;
- a final answer: ``<answer>...</answer>``, a call of the ``submit`` tool, or (when the reply holds
  no call) a ``\boxed{...}`` or a last ``Answer: ...`` line, as worked maths solutions end.

Anything else raises :class:`CallParseError` whose message says what was wrong and lists the
accepted forms, so the environment can pass it on as feedback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feedback_gym.answers import answer_lines, boxed_contents, tagged_answers, without_tags

#: The tool name that submits a final answer (its one argument is ``answer``).
SUBMIT_TOOL = "submit"

ACCEPTED_FORMS = (
    'Accepted forms (one per reply): <tool_call>{"name": "TOOL", "arguments": {...}}</tool_call>; '
    'a JSON object {"tool": "TOOL", "arguments": {...}}; the OpenAI form {"type": "function", '
    '"function": {"name": "TOOL", "arguments": "{...}"}}; and for the final answer '
    '<answer>...</answer>, {"tool": "submit", "arguments": {"answer": "..."}} or a last line "Answer: ...".'
)

_TAGGED = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL | re.IGNORECASE)
_OPEN_TAG = re.compile(r"<tool_call>", re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)


class CallParseError(ValueError):
    """The reply holds no readable tool call or answer; the message says why and what is accepted."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem} {ACCEPTED_FORMS}")
        self.problem = problem


@dataclass(frozen=True)
class ToolCall:
    """One call of a named tool with JSON arguments; ``form`` records how it was written."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    form: str = "json"

    def to_json(self) -> str:
        """The call in the canonical JSON form (what :func:`parse_action` reads back).

        >>> ToolCall("calculator", {"expression": "1+1"}).to_json()
        '{"tool": "calculator", "arguments": {"expression": "1+1"}}'
        """
        return json.dumps({"tool": self.name, "arguments": dict(self.arguments)}, ensure_ascii=False)


@dataclass(frozen=True)
class FinalAnswer:
    """The agent's final answer, as text; ``form`` is ``"tag"``, ``"submit"``, ``"boxed"`` or ``"line"``."""

    text: str
    form: str = "tag"


def parse_action(text: str) -> ToolCall | FinalAnswer:
    r"""Read ``text`` as exactly one tool call or one final answer.

    >>> parse_action('<tool_call>{"name": "sql", "arguments": {"query": "SELECT 1"}}</tool_call>')
    ToolCall(name='sql', arguments={'query': 'SELECT 1'}, form='tagged')
    >>> parse_action('{"type": "function", "function": {"name": "calculator", '
    ...              '"arguments": "{\\"expression\\": \\"2*3\\"}"}}')
    ToolCall(name='calculator', arguments={'expression': '2*3'}, form='openai')
    >>> parse_action("The total is <answer>42</answer>")
    FinalAnswer(text='42', form='tag')
    >>> parse_action('{"tool": "submit", "arguments": {"answer": 7}}')
    FinalAnswer(text='7', form='submit')
    >>> parse_action("12 * 24 = 288, and 288 - 230 = 58.\nAnswer: 58")
    FinalAnswer(text='58', form='line')
    >>> parse_action("I think I should look it up.")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    feedback_gym.envs.tools.calls.CallParseError: no tool call or answer found. Accepted forms ...
    """
    tagged = _TAGGED.findall(text)
    answers = tagged_answers(text)
    if tagged:
        if len(tagged) > 1:
            raise CallParseError(f"found {len(tagged)} <tool_call> blocks; send one call per reply.")
        if answers:
            raise CallParseError("found both a tool call and an <answer>; send one per reply.")
        return _finish(_call_from_object(_load_json(tagged[0], "the <tool_call> block"), "tagged"))
    if _OPEN_TAG.search(text):
        raise CallParseError("a <tool_call> block is opened but never closed with </tool_call>.")
    if answers:
        if len(answers) > 1:
            raise CallParseError(f"found {len(answers)} <answer> tags; give one final answer.")
        if _json_candidate(without_tags(text)) is not None:
            raise CallParseError("found both a tool call and an <answer>; send one per reply.")
        answer = answers[0]
        if not answer:
            raise CallParseError("the <answer> tag is empty.")
        return FinalAnswer(answer, "tag")
    candidate = _json_candidate(text)
    if candidate is None:
        return _plain_answer(text)
    data = _load_json(candidate, "the JSON object")
    return _finish(_call_from_object(data, "json"))


def _plain_answer(text: str) -> FinalAnswer:
    r"""A final answer written the way maths solutions end: ``\boxed{...}`` or an ``Answer:`` line."""
    boxed = boxed_contents(text)
    if boxed and boxed[-1]:
        return FinalAnswer(boxed[-1], "boxed")
    lines = answer_lines(text)
    if lines:
        return FinalAnswer(lines[-1], "line")
    raise CallParseError("no tool call or answer found.")


def _json_candidate(text: str) -> str | None:
    stripped = text.strip()
    if stripped.startswith("{"):
        return stripped
    fences = [block for block in _FENCE.findall(text) if block.strip().startswith("{")]
    if len(fences) > 1:
        raise CallParseError(f"found {len(fences)} JSON code blocks; send one call per reply.")
    return fences[0].strip() if fences else _embedded_call(text)


_CALL_KEYS = {"tool", "name", "function", "function_call", "tool_calls"}
_DECODER = json.JSONDecoder()


def _embedded_call(text: str, max_tries: int = 50) -> str | None:
    """A JSON call written after some prose ("I will search. {"tool": ...}"), if there is one.

    >>> _embedded_call('Let me look. {"tool": "search", "arguments": {"query": "Elva"}} Done.')
    '{"tool": "search", "arguments": {"query": "Elva"}}'
    """
    found = []
    start = text.find("{")
    tries = 0
    while start != -1 and tries < max_tries:
        tries += 1
        try:
            value, end = _DECODER.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict) and _CALL_KEYS & set(value):
            found.append(text[start:end])
        start = text.find("{", end)
    if len(found) > 1:
        raise CallParseError(f"found {len(found)} JSON tool calls; send one call per reply.")
    return found[0] if found else None


def _load_json(text: str, where: str) -> Any:
    try:
        return json.loads(text.strip())
    except json.JSONDecodeError as err:
        raise CallParseError(
            f"{where} is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})."
        ) from None
    except RecursionError:
        raise CallParseError(f"{where} is nested too deeply to read.") from None


def _call_from_object(data: Any, form: str) -> ToolCall:
    """Turn a decoded JSON value into a call, whichever of the accepted shapes it has."""
    if not isinstance(data, dict):
        raise CallParseError(f"a tool call must be a JSON object; got a JSON {_json_type(data)}.")
    if "tool_calls" in data:
        calls = data["tool_calls"]
        if not isinstance(calls, list) or not calls:
            raise CallParseError('"tool_calls" must be a non-empty list of calls.')
        if len(calls) > 1:
            raise CallParseError(f'"tool_calls" holds {len(calls)} calls; send one call per reply.')
        return _call_from_object(calls[0], "openai")
    if isinstance(data.get("function_call"), dict):
        return _call_from_object(data["function_call"], "openai")
    if isinstance(data.get("function"), dict):
        return _call_from_object(data["function"], "openai")
    name = data.get("tool", data.get("name"))
    if not isinstance(name, str) or not name.strip():
        keys = ", ".join(sorted(map(str, data))) or "none"
        raise CallParseError(f'the call names no tool: give "tool" (or "name") as a string; keys: {keys}.')
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):  # the OpenAI form encodes the arguments as a JSON string
        arguments = _load_json(arguments or "{}", f'the "arguments" string of {name!r}')
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise CallParseError(
            f'the "arguments" of {name!r} must be a JSON object; got a JSON {_json_type(arguments)}.'
        )
    return ToolCall(name.strip(), arguments, form)


def _finish(call: ToolCall) -> ToolCall | FinalAnswer:
    """Turn a call of the submit tool into a final answer."""
    if call.name != SUBMIT_TOOL:
        return call
    unknown = set(call.arguments) - {"answer"}
    if "answer" not in call.arguments or unknown:
        raise CallParseError('the submit tool takes exactly one argument, "answer".')
    value = call.arguments["answer"]
    if isinstance(value, dict | list):
        raise CallParseError('"answer" must be a string or a number.')
    text = value if isinstance(value, str) else json.dumps(value)
    if not text.strip():
        raise CallParseError('"answer" is empty.')
    return FinalAnswer(text.strip(), "submit")


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
