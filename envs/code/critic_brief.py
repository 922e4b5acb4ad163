"""What a critic model reads on a code task, and the filter its critique passes through.

The critic sees the task, the reference program (privately), the agent's program and the execution
evidence the ``full`` mode would show (failing visible tests, tracebacks, compiler diagnostics; hidden
tests stay hidden). Its reply may not hand over the fix: fenced code blocks and any line of the
reference program are redacted (``[...]``), counted in the critique's details.
"""

from __future__ import annotations

from feedback_gym.envs.model_critic import EvidenceBrief, Scrub, SecretTextFilter
from feedback_gym.tasks import Task

from .feedback import CodeFullFeedback
from .schema import LANGUAGE_NAMES

PROMPT_VERSION = "code-critic-v1"

SYSTEM_PROMPT = (
    "You are a senior programmer reviewing a student's program that fails its tests. Name the first "
    "thing that is wrong (a line, a case it mishandles, a misread requirement) and what to reconsider. "
    "Rules: never write code or a corrected program; never copy lines from the reference program; "
    "do not reveal hidden tests. Write at most four sentences."
)


class CodeBrief(EvidenceBrief):
    """The code family's critic brief (Python, C and C++): the evidence is the ``full`` test feedback."""

    family = "code"
    prompt_version = PROMPT_VERSION
    system_prompt = SYSTEM_PROMPT
    evidence_title = "Test results"

    def __init__(self) -> None:
        super().__init__(CodeFullFeedback())

    def reference(self, task: Task) -> tuple[str, str]:
        """The reference program in a fenced block (empty when the task has none)."""
        if not task.reference:
            return "Reference program", ""
        language = str(task.metadata.get("language", "python"))
        name = LANGUAGE_NAMES.get(language, language)
        return f"Reference {name} program", f"```{language}\n{str(task.reference).rstrip()}\n```"

    def leak_filter(self, task: Task, action: str) -> Scrub:
        """Redact code blocks and the reference program's lines (those the agent did not write)."""
        written = {"".join(line.split()) for line in action.splitlines()}
        reference = str(task.reference or "").splitlines()
        lines = [line for line in reference if "".join(line.split()) not in written]
        return SecretTextFilter(lines, min_chars=8, code_blocks=True)

    def edit_filter(self, task: Task, action: str) -> Scrub:
        """An in-place edit is one corrected line of code: the cut to one line is its guard."""
        return SecretTextFilter([])


CODE_BRIEF = CodeBrief()
