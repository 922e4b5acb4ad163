from __future__ import annotations

import pytest

from feedback_gym.errors import ConfigError
from feedback_gym.sandboxes import Job, Limits, LocalConfig, Sandbox, make_sandbox
from feedback_gym.sandboxes.base import ExecResult


def test_limits_reject_non_positive_values():
    with pytest.raises(ConfigError, match="wall_seconds"):
        Limits(wall_seconds=0)
    with pytest.raises(ConfigError, match="memory_mb"):
        Limits(memory_mb=True)
    assert Limits().replace(cpu_seconds=3).cpu_seconds == 3


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b", ".", "a\x00b"])
def test_job_rejects_paths_outside_the_work_dir(name):
    with pytest.raises(ConfigError):
        Job(language="python", source="", files={name: "x"})


def test_job_needs_something_to_run_and_a_known_language():
    with pytest.raises(ConfigError, match="language"):
        Job()
    with pytest.raises(ConfigError, match="language"):
        Job(language="rust", source="fn main(){}")
    assert Job(argv=["true"], stdin="é").stdin == "é".encode()


def test_make_sandbox_names_what_is_accepted():
    with pytest.raises(ConfigError, match="local, docker"):
        make_sandbox("podman")
    with pytest.raises(ConfigError):
        make_sandbox(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="workers"):
        LocalConfig(workers=0)


def test_make_sandbox_passes_a_ready_sandbox_through():
    box = make_sandbox("local")
    try:
        assert isinstance(box, Sandbox)
        assert make_sandbox(box) is box
    finally:
        box.close()


def test_result_ok_needs_exit_zero_and_no_kill():
    assert ExecResult(0).ok
    assert not ExecResult(1).ok
    assert not ExecResult(0, killed_reason="timeout").ok
    assert ExecResult.sandbox_error("x").killed_reason == "sandbox_error"
