"""Schemas derived from type hints and Google docstrings; the registry runs calls against them."""

from __future__ import annotations

from typing import Literal

import pytest

from feedback_gym.envs.tools.calls import ToolCall
from feedback_gym.envs.tools.registry import SUBMIT, Tool, ToolError, ToolRegistry
from feedback_gym.envs.tools.schema import check_arguments, function_schema
from feedback_gym.errors import ConfigError


def convert(
    amount: float,
    currency: Literal["EUR", "USD"],
    rates: dict | None = None,
    digits: int = 2,
    tags: list[str] | None = None,
    exact: bool = False,
) -> str:
    """Convert an amount of money.

    Longer explanation that is part of the description.

    Args:
        amount (float): How much money.
        currency: The target currency,
            one of two.
        rates: Optional exchange rates.
        digits: Decimal places to keep.
        tags: Labels to attach.
        exact: Whether to skip rounding.

    Returns:
        The converted amount.
    """
    return f"{round(amount * 1.1, digits)} {currency}"


def test_schema_in_openai_format() -> None:
    schema = function_schema(convert)
    assert schema["type"] == "function"
    function = schema["function"]
    assert function["name"] == "convert"
    assert (
        function["description"]
        == "Convert an amount of money. Longer explanation that is part of the description."
    )
    params = function["parameters"]
    assert params["type"] == "object" and params["additionalProperties"] is False
    assert params["required"] == ["amount", "currency"]
    props = params["properties"]
    assert props["amount"] == {"type": "number", "description": "How much money."}
    assert props["currency"] == {
        "type": "string",
        "enum": ["EUR", "USD"],
        "description": "The target currency, one of two.",
    }
    assert props["rates"]["type"] == "object"
    assert props["digits"]["type"] == "integer"
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "description": "Labels to attach."}
    assert props["exact"]["type"] == "boolean"


def test_bound_methods_drop_self() -> None:
    class Box:
        def get(self, key: str) -> str:
            """Get a key.

            Args:
                key: Which key.
            """
            return key

    schema = function_schema(Box().get)
    assert list(schema["function"]["parameters"]["properties"]) == ["key"]


def _no_doc(x: int) -> int:
    return x


def _no_hint(x) -> int:
    """Do it.

    Args:
        x: A value.
    """
    return x


def _undocumented_arg(x: int, y: int) -> int:  # noqa: D417 - missing on purpose
    """Do it.

    Args:
        x: A value.
    """
    return x


def _varargs(*xs: int) -> int:
    """Do it.

    Args:
        xs: Values.
    """
    return 0


def _bad_type(x: set[int]) -> int:
    """Do it.

    Args:
        x: Values.
    """
    return 0


@pytest.mark.parametrize(
    ("function", "problem"),
    [
        (_no_doc, "needs a docstring"),
        (_no_hint, "needs a type hint"),
        (_undocumented_arg, "'y': needs a description"),
        (_varargs, "*args"),
        (_bad_type, "cannot describe the type"),
    ],
)
def test_functions_that_cannot_be_described_are_refused(function: object, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("*", r"\*")):
        function_schema(function)  # type: ignore[arg-type]


def test_bad_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="tool name"):
        function_schema(convert, name="has space")


def test_check_arguments_reports_each_problem() -> None:
    params = function_schema(convert)["function"]["parameters"]
    assert check_arguments({"amount": 3, "currency": "EUR"}, params) == []
    assert check_arguments(
        {"amount": True, "currency": "GBP", "digits": 1.5, "tags": ["a", 2], "zzz": 1}, params
    ) == [
        "unknown argument 'zzz'",
        "argument 'amount' must be a number; got a boolean",
        "argument 'currency' must be one of ['EUR', 'USD']; got 'GBP'",
        "argument 'digits' must be an integer; got a number",
        "argument 'tags' item 1 must be a string; got a number",
    ]
    assert check_arguments({}, params) == [
        "missing required argument 'amount'",
        "missing required argument 'currency'",
    ]


def test_registry_runs_user_tools_and_turns_every_failure_into_output() -> None:
    def explode(x: int) -> str:
        """Fail on purpose.

        Args:
            x: Anything.
        """
        if x == 1:
            raise ToolError("x must not be 1")
        return str(1 // (x - 2))

    registry = ToolRegistry([convert, explode])
    assert registry.names() == ["convert", "explode"]
    assert [s["function"]["name"] for s in registry.schemas()] == ["convert", "explode", "submit"]
    assert "convert(amount: number, currency: string, rates?: object" in registry.describe()

    ok = registry.call(ToolCall("convert", {"amount": 10, "currency": "EUR", "digits": 1.0}))
    assert ok.ok and ok.text == "11.0 EUR"
    unknown = registry.call(ToolCall("nope", {}))
    assert (
        not unknown.ok
        and "unknown tool 'nope'" in unknown.text
        and "convert, explode, submit" in unknown.text
    )
    bad = registry.call(ToolCall("convert", {"amount": "ten"}))
    assert (
        not bad.ok and "must be a number" in bad.text and "missing required argument 'currency'" in bad.text
    )
    raised = registry.call(ToolCall("explode", {"x": 1}))
    assert not raised.ok and raised.text == "x must not be 1"
    bug = registry.call(ToolCall("explode", {"x": 2}))
    assert not bug.ok and "ZeroDivisionError" in bug.text


def test_registry_caps_output_and_renders_non_strings() -> None:
    def big(n: int) -> list:
        """Return a big list.

        Args:
            n: Length.
        """
        return list(range(n))

    registry = ToolRegistry([big])
    out = registry.call(ToolCall("big", {"n": 5}))
    assert out.text == "[0, 1, 2, 3, 4]"
    long = registry.call(ToolCall("big", {"n": 10_000}), max_output_chars=200)
    assert len(long.text) <= 200 and "more characters cut" in long.text


def test_registry_refuses_duplicates_and_the_submit_name() -> None:
    registry = ToolRegistry([convert])
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(convert)
    with pytest.raises(ConfigError, match="reserved"):
        registry.register(Tool("submit", convert, SUBMIT.schema))
    with pytest.raises(ConfigError, match="must be a Tool or a function"):
        registry.register(42)  # type: ignore[arg-type]
