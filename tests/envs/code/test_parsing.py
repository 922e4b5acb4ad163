"""Reading programs out of replies: fences, raw code, prose, unclosed and empty blocks."""

from __future__ import annotations

import pytest

from feedback_gym.envs.code.parsing import extract_code


def test_last_complete_block_wins() -> None:
    reply = "First try:\n```python\nx = 1\n```\nBetter:\n```python\nx = 2\n```\nThat's it."
    parsed = extract_code(reply)
    assert parsed.code == "x = 2"
    assert parsed.origin == "fenced"


def test_block_of_another_language_is_used_only_without_a_matching_one() -> None:
    reply = "```python\ndef f():\n    return 1\n```\nRun it with:\n```bash\npython f.py\n```"
    assert extract_code(reply).code == "def f():\n    return 1"
    assert extract_code("```bash\necho hi\n```").code == "echo hi"


def test_untagged_block_counts_as_matching() -> None:
    assert extract_code("```\nprint(3)\n```").code == "print(3)"


def test_raw_code_without_fences() -> None:
    parsed = extract_code("import sys\nprint(sys.stdin.read())")
    assert parsed.origin == "raw"
    assert parsed.code.startswith("import sys")


def test_prose_is_no_code() -> None:
    parsed = extract_code("Sorry, I cannot solve this one.")
    assert parsed.code is None
    assert "no code found" in parsed.problem


@pytest.mark.parametrize("reply", ["```python\ndef f():\n    return 1", "Here:\n~~~\nx = 1\n"])
def test_unclosed_fence_is_reported(reply: str) -> None:
    parsed = extract_code(reply)
    assert parsed.code is None
    assert "not closed" in parsed.problem


def test_complete_block_before_an_unclosed_one_is_used() -> None:
    assert extract_code("```python\nx = 1\n```\n```python\ny = 2").code == "x = 1"


def test_empty_block_is_reported() -> None:
    parsed = extract_code("```python\n\n```")
    assert parsed.code is None and "empty" in parsed.problem


def test_longer_fence_can_hold_a_shorter_one() -> None:
    reply = "````python\ns = '''\n```\n'''\n````"
    assert extract_code(reply).code == "s = '''\n```\n'''"


def test_c_code_detection() -> None:
    assert extract_code("```c\nint main(void) { return 0; }\n```", "c").language_tag == "c"
    assert extract_code("#include <stdio.h>\nint main(void) { return 0; }", "c").origin == "raw"
    # a cpp block is preferred over a python block for a C++ task
    reply = "```python\nprint(1)\n```\n```cpp\nint main() {}\n```\n```python\nprint(2)\n```"
    assert extract_code(reply, "cpp").code == "int main() {}"
