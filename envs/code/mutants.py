"""Broken variants of a task's reference solution, for anti-oracle checks.

An oracle sweep is only convincing if it also shows that the checker *rejects* wrong programs. These
functions derive, from any reference, a program that behaves like it but answers wrongly (every
return value perturbed, or an extra output line), and one that does not compile or parse.
"""

from __future__ import annotations

from feedback_gym.tasks import Task

_PERTURB = '''

def _fg_perturb(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str):
        return value + "?"
    if isinstance(value, list):
        return value + [None]
    if isinstance(value, tuple):
        return value + (None,)
    if isinstance(value, dict):
        return {**value, "_fg": None}
    if isinstance(value, set):
        return value | {None}
    if value is None:
        return 0
    return None


_fg_original = {name}


def {name}(*args, **kwargs):
    return _fg_perturb(_fg_original(*args, **kwargs))
'''

#: Appended to a C/C++ program: at exit (after main returns) print one extra line, "0".
_EXTRA_LINE_AT_EXIT = """
#include <stdio.h>
#include <stdlib.h>
static void fg_extra_line(void) { fflush(stdout); printf("0\\n"); }
__attribute__((constructor)) static void fg_register_extra_line(void) { atexit(fg_extra_line); }
"""


def wrong_answer_program(task: Task) -> str:
    """The reference, changed so that every test's answer is wrong (but it still runs)."""
    reference = str(task.reference)
    language = task.metadata.get("language", "python")
    if task.metadata.get("style") == "function":
        return reference.rstrip() + "\n" + _PERTURB.replace("{name}", task.metadata["entry_point"])
    if language == "python":
        return reference.rstrip() + "\nprint(0)\n"  # one extra line of output on every case
    return reference.rstrip() + _EXTRA_LINE_AT_EXIT


def broken_syntax_program(task: Task) -> str:
    r"""The reference with its last line cut in half: a syntax/compile error near the end.

    >>> t = Task("t", "p", reference="int main(void) {\n    return 0;\n}\n", metadata={"language": "c"})
    >>> broken_syntax_program(t)
    'int main(void) {\n    return 0;\n'
    """
    reference = str(task.reference).rstrip()
    language = task.metadata.get("language", "python")
    if language == "python":
        return reference + "\n    return (\n"
    return reference[: reference.rfind("}")]  # drop the closing brace of the last function
