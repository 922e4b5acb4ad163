"""The tools an episode offers: named functions with OpenAI schemas, called with checked arguments.

A :class:`Tool` is a function plus the schema derived from it (``schema.py``). A
:class:`ToolRegistry` holds the tools of one environment, lists their schemas for ``info["tools"]``
and the prompt, and runs a parsed :class:`~feedback_gym.envs.tools.calls.ToolCall`: unknown tools,
bad arguments, a :class:`ToolError` raised by the tool and even a bug in a user's tool become a
failed :class:`ToolOutput` with a message for the agent, never an exception out of ``step``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from feedback_gym.envs.tools.calls import SUBMIT_TOOL, ToolCall
from feedback_gym.envs.tools.schema import check_arguments, coerce_arguments, function_schema
from feedback_gym.errors import ConfigError

#: The most characters of one tool's output shown to the agent (MINT cuts at 2000 as well).
DEFAULT_MAX_OUTPUT_CHARS = 2000


class ToolError(Exception):
    """Raised by a tool that cannot do what was asked; its message is shown to the agent as is."""


@dataclass(frozen=True)
class ToolOutput:
    """What one call produced: ``ok`` is False for errors, ``text`` is what the agent sees."""

    ok: bool
    text: str


@dataclass(frozen=True)
class Tool:
    """A callable tool: a Python function and its OpenAI-format schema."""

    name: str
    function: Callable[..., Any]
    schema: Mapping[str, Any]

    @classmethod
    def from_function(
        cls, function: Callable[..., Any], name: str | None = None, description: str | None = None
    ) -> Tool:
        """Wrap ``function``, deriving the schema from its type hints and Google docstring."""
        schema = function_schema(function, name=name, description=description)
        return cls(schema["function"]["name"], function, schema)

    @property
    def description(self) -> str:
        """The tool's one-paragraph description."""
        return str(self.schema["function"]["description"])

    @property
    def parameters(self) -> Mapping[str, Any]:
        """The JSON schema of the tool's arguments."""
        return self.schema["function"]["parameters"]

    def signature(self) -> str:
        """A compact one-line signature for prompts, e.g. ``search(query: string, k?: integer)``.

        >>> def f(a: str, b: int = 1) -> str:
        ...     '''Do it.
        ...
        ...     Args:
        ...         a: A.
        ...         b: B.
        ...     '''
        ...     return a
        >>> Tool.from_function(f).signature()
        'f(a: string, b?: integer)'
        """
        required = set(self.parameters.get("required", []))
        parts = []
        for key, prop in self.parameters.get("properties", {}).items():
            kind = prop.get("type") or "/".join(p.get("type", "any") for p in prop.get("anyOf", [])) or "any"
            parts.append(f"{key}{'' if key in required else '?'}: {kind}")
        return f"{self.name}({', '.join(parts)})"


def _submit(answer: str) -> str:
    """Submit your final answer; the episode ends when it is right.

    Args:
        answer: The final answer, as short as possible (a number or a few words).
    """
    return answer


#: The schema-only submit tool (the parser turns its calls into final answers).
SUBMIT = Tool.from_function(_submit, name=SUBMIT_TOOL)


def cut(text: str, limit: int) -> str:
    r"""Cap ``text`` at ``limit`` characters, saying how much was cut.

    >>> cut("abcdefghij" * 10, 40)
    'abcdefghij\n[... 90 more characters cut]'
    """
    if len(text) <= limit:
        return text
    marker_room = len(f"\n[... {len(text)} more characters cut]")
    keep = max(0, limit - marker_room)
    return f"{text[:keep]}\n[... {len(text) - keep} more characters cut]"


def render_result(value: Any) -> str:
    """How a tool's return value is shown: strings as they are, anything else as JSON.

    >>> render_result({"a": 1}), render_result("hi"), render_result(None)
    ('{"a": 1}', 'hi', '(no output)')
    """
    if value is None:
        return "(no output)"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


class ToolRegistry:
    """The tools of one environment, by name, in registration order."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool | Callable[..., Any], name: str | None = None) -> Tool:
        """Add a :class:`Tool` or a plain function (its schema is derived); return the tool."""
        if not isinstance(tool, Tool):
            if not callable(tool):
                raise ConfigError(f"a tool must be a Tool or a function; got {type(tool).__name__}")
            tool = Tool.from_function(tool, name=name)
        if tool.name == SUBMIT_TOOL:
            raise ConfigError(f"{SUBMIT_TOOL!r} is reserved for final answers; rename the tool")
        if tool.name in self._tools:
            raise ConfigError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        return tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def names(self) -> list[str]:
        """The tool names, in registration order."""
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """Every tool's OpenAI schema, then the submit tool's (JSON-friendly copies)."""
        return [json.loads(json.dumps(t.schema)) for t in [*self._tools.values(), SUBMIT]]

    def describe(self, detail: str = "full") -> str:
        """The tool list for a prompt: ``"full"`` (signatures, descriptions), ``"signatures"``, ``"names"``.

        Less detail lets an experiment ask how much the documentation matters (as DRAFT does);
        ``info["tools"]`` always holds the full schemas.
        """
        tools = [*self._tools.values(), SUBMIT]
        if detail == "names":
            return "- " + ", ".join(t.name for t in tools)
        if detail == "signatures":
            return "\n".join(f"- {t.signature()}" for t in tools)
        return "\n".join(f"- {t.signature()}: {t.description}" for t in tools)

    def call(self, call: ToolCall, max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> ToolOutput:
        """Run ``call``; every failure becomes a failed :class:`ToolOutput` with a message."""
        tool = self._tools.get(call.name)
        if tool is None:
            available = ", ".join([*self._tools, SUBMIT_TOOL])
            return ToolOutput(False, f"unknown tool {call.name!r}; available tools: {available}")
        problems = check_arguments(call.arguments, tool.parameters)
        if problems:
            return ToolOutput(False, f"bad arguments for {tool.signature()}: {'; '.join(problems)}")
        try:
            value = tool.function(**coerce_arguments(call.arguments, tool.parameters))
        except ToolError as err:
            return ToolOutput(False, cut(str(err) or "the tool failed", max_output_chars))
        except Exception as err:  # noqa: BLE001 - a bug in a user's tool must not crash the env
            return ToolOutput(False, cut(f"the tool raised {type(err).__name__}: {err}", max_output_chars))
        return ToolOutput(True, cut(render_result(value), max_output_chars))
