"""The code family: ``CodeFeedback-v0`` (Python) and ``CppCompilerFeedback-v0`` (C/C++).

Modules, one concern each: :mod:`.parsing` (reading the program out of a reply), :mod:`.schema` (the
code-task shape), :mod:`.loaders` (HumanEval, MBPP, APPS, CodeContests), :mod:`.generator` (seeded
procedural tasks), :mod:`.sources` (named task sets), :mod:`.verifier` (sandboxed judging) and
:mod:`.env` (the environment classes). Bundled data lives in ``data/``.
"""

from .env import CodeFeedbackEnv, CppCompilerFeedbackEnv
from .parsing import extract_code
from .sources import TASK_SETS, make_task_source
from .verifier import CodeVerifier

__all__ = ["TASK_SETS", "CodeFeedbackEnv", "CodeVerifier", "CppCompilerFeedbackEnv", "extract_code",
           "make_task_source"]
