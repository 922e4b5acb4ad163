"""Tool use: an environment in which the agent calls sandboxed tools before it answers.

``ToolUseEnv`` (registered as ``ToolUse-v0``) and the pieces users build on: :class:`Tool` and
:class:`ToolRegistry` (register your own functions; schemas come from type hints and docstrings),
:func:`parse_action` (the accepted call forms) and :func:`make_tool_task` (the task schema).
"""

from feedback_gym.envs.tools.calls import FinalAnswer, ToolCall, parse_action
from feedback_gym.envs.tools.env import ToolUseEnv
from feedback_gym.envs.tools.registry import Tool, ToolError, ToolRegistry
from feedback_gym.envs.tools.schema import function_schema
from feedback_gym.envs.tools.tasks import make_tool_task

__all__ = ["FinalAnswer", "Tool", "ToolCall", "ToolError", "ToolRegistry", "ToolUseEnv", "function_schema",
           "make_tool_task", "parse_action"]
