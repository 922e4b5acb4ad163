"""OpenAI-format tool schemas derived from a Python function's type hints and Google docstring.

A user registers a tool by handing over a plain function; its signature says which arguments exist
and what JSON types they take, its docstring says what the tool and each argument are for. The
derived schema is what ``info["tools"]`` lists and what the prompt describes, and
:func:`check_arguments` holds a model's call to it before the function ever runs.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union

from feedback_gym.errors import ConfigError

_SIMPLE_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$")
_ARG_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


def json_type(annotation: Any, where: str) -> dict[str, Any]:
    """The JSON-schema fragment for a Python annotation (``Optional`` is unwrapped).

    >>> json_type(list[int], "x")
    {'type': 'array', 'items': {'type': 'integer'}}
    >>> json_type(Literal["asc", "desc"], "order")
    {'type': 'string', 'enum': ['asc', 'desc']}
    >>> json_type(int | None, "k")
    {'type': 'integer'}
    """
    origin = typing.get_origin(annotation)
    if annotation in _SIMPLE_TYPES:
        return {"type": _SIMPLE_TYPES[annotation]}
    if origin in (Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return json_type(members[0], where)
        return {"anyOf": [json_type(m, where) for m in members]}
    if origin is Literal:
        values = list(typing.get_args(annotation))
        kinds = {_SIMPLE_TYPES.get(type(v)) for v in values}
        if len(kinds) != 1 or None in kinds:
            raise ConfigError(f"{where}: Literal values must all be str, int, float or bool")
        return {"type": kinds.pop(), "enum": values}
    if annotation in (list, tuple) or origin in (list, tuple, typing.Sequence):
        args = typing.get_args(annotation)
        schema: dict[str, Any] = {"type": "array"}
        if args and args[0] is not Ellipsis:
            schema["items"] = json_type(args[0], where)
        return schema
    if annotation is dict or origin in (dict, Mapping, typing.Mapping):
        return {"type": "object"}
    if annotation is Any:
        return {}
    raise ConfigError(
        f"{where}: cannot describe the type {annotation!r} in JSON; use str, int, float, bool, "
        "Literal[...], list[...], dict or an Optional of one of these"
    )


def parse_google_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its description and its ``Args:`` descriptions.

    >>> parse_google_docstring('''Add two numbers.
    ...
    ...     Args:
    ...         a (int): The first number.
    ...         b: The second number,
    ...             which may be negative.
    ...
    ...     Returns:
    ...         The sum.
    ...     ''')
    ('Add two numbers.', {'a': 'The first number.', 'b': 'The second number, which may be negative.'})
    """
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    arg_indent = 0
    for line in lines:
        heading = _SECTION.match(line.strip())
        if heading and not line.startswith((" ", "\t")):
            section, current = heading.group(1), None
            continue
        if section is None:
            description.append(line)
        elif section in ("Args", "Arguments", "Parameters") and line.strip():
            indent = len(line) - len(line.lstrip())
            match = _ARG_LINE.match(line.strip())
            if match and (current is None or indent <= arg_indent):
                current = match.group(1).lstrip("*")
                arg_indent = indent
                args[current] = match.group(3).strip()
            elif current is not None:
                args[current] = f"{args[current]} {line.strip()}".strip()
    text = " ".join(" ".join(description).split())
    return text, args


def function_schema(
    function: Callable[..., Any], name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """The OpenAI tool schema of ``function`` (``{"type": "function", "function": {...}}``).

    Every parameter needs a type hint and an ``Args:`` entry in the docstring, so the model is told
    what each argument means; parameters with defaults are optional. ``*args``/``**kwargs`` are
    refused because a JSON call cannot fill them unambiguously.

    >>> def lookup(word: str, limit: int = 3) -> str:
    ...     '''Look a word up in the glossary.
    ...
    ...     Args:
    ...         word: The word to look up.
    ...         limit: How many senses to return.
    ...     '''
    ...     return word
    >>> schema = function_schema(lookup)
    >>> schema["function"]["name"], schema["function"]["parameters"]["required"]
    ('lookup', ['word'])
    >>> schema["function"]["parameters"]["properties"]["limit"]
    {'type': 'integer', 'description': 'How many senses to return.'}
    """
    tool_name = name or getattr(function, "__name__", None)
    if not isinstance(tool_name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}", tool_name):
        raise ConfigError(f"a tool name must match [A-Za-z_][A-Za-z0-9_-]{{0,63}}; got {tool_name!r}")
    doc = inspect.getdoc(function)
    if not doc:
        raise ConfigError(f"tool {tool_name!r}: the function needs a docstring saying what it does")
    summary, arg_docs = parse_google_docstring(doc)
    try:
        hints = typing.get_type_hints(function)
    except Exception as err:  # noqa: BLE001 - unresolvable annotations of a user's function
        raise ConfigError(f"tool {tool_name!r}: cannot resolve its type hints ({err})") from None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in inspect.signature(function).parameters.values():
        where = f"tool {tool_name!r}, argument {param.name!r}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigError(f"{where}: *args and **kwargs cannot be filled from a JSON call")
        if param.kind is param.POSITIONAL_ONLY:
            raise ConfigError(f"{where}: positional-only arguments cannot be passed by name")
        if param.name not in hints:
            raise ConfigError(f"{where}: needs a type hint")
        if param.name not in arg_docs:
            raise ConfigError(f"{where}: needs a description under 'Args:' in the docstring")
        prop = json_type(hints[param.name], where)
        prop["description"] = arg_docs[param.name]
        properties[param.name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    return {
        "type": "function",
        "function": {
            "name": tool_name,
            "description": description or summary,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


def check_arguments(arguments: Mapping[str, Any], parameters: Mapping[str, Any]) -> list[str]:
    """The problems with ``arguments`` against a tool's ``parameters`` schema (empty when fine).

    Checks unknown and missing arguments, JSON types (an integral float counts as an integer, a
    boolean never counts as a number) and enums; that is as much JSON Schema as derived schemas use.

    >>> params = {"properties": {"n": {"type": "integer"}, "s": {"type": "string"}}, "required": ["n"]}
    >>> check_arguments({"n": 2}, params)
    []
    >>> check_arguments({"s": 1, "x": 0}, params)
    ["unknown argument 'x'", "missing required argument 'n'", "argument 's' must be a string; got a number"]
    """
    problems = []
    properties = parameters.get("properties", {})
    for key in arguments:
        if key not in properties:
            problems.append(f"unknown argument {key!r}")
    for key in parameters.get("required", []):
        if key not in arguments:
            problems.append(f"missing required argument {key!r}")
    for key, value in arguments.items():
        if key in properties:
            problem = _type_problem(value, properties[key])
            if problem:
                problems.append(f"argument {key!r} {problem}")
    return problems


def _type_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
    if "anyOf" in schema:
        if all(_type_problem(value, s) for s in schema["anyOf"]):
            kinds = " or ".join(s.get("type", "any") for s in schema["anyOf"])
            return f"must be {kinds}; got {_describe(value)}"
        return None
    kind = schema.get("type")
    ok = {
        None: True,
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": _is_number(value) and float(value).is_integer(),
        "number": _is_number(value),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(kind, True)
    if not ok:
        article = "an" if kind in ("integer", "array", "object") else "a"
        return f"must be {article} {kind}; got {_describe(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"must be one of {schema['enum']}; got {value!r}"
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            problem = _type_problem(item, schema["items"])
            if problem:
                return f"item {index} {problem}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def coerce_arguments(arguments: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Turn integral floats into ints where the schema asks for an integer (``2.0`` -> ``2``).

    >>> coerce_arguments({"k": 2.0}, {"properties": {"k": {"type": "integer"}}})
    {'k': 2}
    """
    out = dict(arguments)
    for key, value in arguments.items():
        wanted = parameters.get("properties", {}).get(key, {}).get("type")
        if wanted == "integer" and isinstance(value, float):
            out[key] = int(value)
    return out
