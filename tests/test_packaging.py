"""The wheel ships one import package, feedback_gym, with the mapped folders inside it."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_has_only_the_feedback_gym_package(tmp_path: pathlib.Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("feedback_gym-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"feedback_gym"}
    expected_files = (
        "feedback_gym/py.typed",
        "feedback_gym/envs/countdown.py",
        "feedback_gym/agents/policy.py",
        "feedback_gym/sandboxes/__init__.py",
        "feedback_gym/benchmarks/__init__.py",
    )
    for expected in expected_files:
        assert expected in names
