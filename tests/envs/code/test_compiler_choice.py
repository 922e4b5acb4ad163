"""CppCompilerFeedback-v0 with ``compiler="clang"`` next to gcc, on both sandbox backends.

Needs clang installed (``.ci/setup`` installs it; the docker image carries it once rebuilt with
``feedback-gym sandbox build-image``). A toolchain that is missing must stop ``reset``, never fall back.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.errors import ConfigError, SandboxUnavailableError
from feedback_gym.sandboxes.harness import compile_source
from feedback_gym.sandboxes.languages import TOOLCHAINS, Compiler

UNDECLARED_C = "```c\n#include <stdio.h>\nint main(void) { printf(\"%d\\n\", y); return 0; }\n```"
MISSING_SEMICOLON_CPP = "```cpp\n#include <iostream>\nint main() { int x = 1 std::cout << x; }\n```"



def test_an_unknown_compiler_is_refused_at_make_with_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="unknown compiler 'icc'; accepted: gcc, clang"):
        gym.make("CppCompilerFeedback-v0", compiler="icc")


@pytest.mark.parametrize(("task_id", "reply", "clang_words", "gcc_words"), [
    ("bundled/c/sum-two", UNDECLARED_C, "use of undeclared identifier 'y'", "undeclared (first use in"),
    ("bundled/cpp/sum-list", MISSING_SEMICOLON_CPP, "expected ';' at end of declaration", "expected"),
])
def test_clang_diagnostics_are_clangs_own_and_the_oracle_still_passes(
    each_backend, task_id: str, reply: str, clang_words: str, gcc_words: str
) -> None:
    shown = {}
    for compiler in ("gcc", "clang"):
        env = gym.make("CppCompilerFeedback-v0", compiler=compiler, sandbox=each_backend, max_turns=2)
        prompt, _ = env.reset(options={"task_id": task_id})
        command = {"gcc": {"c": "gcc", "cpp": "g++"}, "clang": {"c": "clang", "cpp": "clang++"}}[compiler]
        assert f"compiled with `{command[task_id.split('/')[1]]} -std=" in prompt
        obs, reward, _, _, info = env.step(reply)
        assert (reward, info["error_kind"]) == (0.0, "compile_error")
        assert "main.c" in obs or "main.cpp" in obs
        shown[compiler] = obs
        obs, reward, terminated, _, _ = env.step(env.unwrapped.oracle_action())
        assert (reward, terminated) == (1.0, True), obs
        env.close()
    assert clang_words in shown["clang"] and clang_words not in shown["gcc"]
    assert gcc_words in shown["gcc"]
    assert "generated." not in shown["clang"]  # clang's "1 error generated." count line is not a diagnostic


def test_clang_compiles_in_the_harness_with_structured_diagnostics(each_backend) -> None:
    result = compile_source(each_backend, "c", "int main(void) { return y; }\n", compiler="clang")
    assert not result.ok and result.binary is None
    first = result.errors[0]
    assert (first.file, first.line, first.column, first.severity) == ("main.c", 1, 25, "error")
    assert first.message == "use of undeclared identifier 'y'"
    ok = compile_source(each_backend, "cpp", "int main() { return 0; }\n", compiler="clang")
    assert ok.ok and ok.binary and ok.binary.startswith(b"\x7fELF")


def test_a_missing_toolchain_fails_at_reset_and_never_falls_back(each_backend, monkeypatch) -> None:
    missing = {lang: Compiler(f"no-such-clang-{lang}", c.source_name, c.flags, c.structured_flags)
               for lang, c in TOOLCHAINS["clang"].items()}
    monkeypatch.setitem(TOOLCHAINS, "clang", missing)
    env = gym.make("CppCompilerFeedback-v0", compiler="clang", sandbox=each_backend)  # the name is known
    with pytest.raises(SandboxUnavailableError, match="no-such-clang-.*apt-get install clang"):
        env.reset(seed=0)
    env.close()
