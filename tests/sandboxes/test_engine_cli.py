"""The sandbox CLI and the engine/image helpers that CI relies on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from feedback_gym.cli import build_parser
from feedback_gym.sandboxes import engine
from feedback_gym.sandboxes.image import package_closure


def test_each_sandbox_subcommand_runs_its_action_with_its_arguments(monkeypatch, capsys):
    from feedback_gym.benchmarks import sandbox_perf
    from feedback_gym.cli import main as cli_main
    from feedback_gym.sandboxes import image
    from feedback_gym.sandboxes.config import DEFAULT_IMAGE

    calls = []
    monkeypatch.setattr(engine, "install_engine", lambda: calls.append(("install",)) or "installed")
    monkeypatch.setattr(engine, "start_engine", lambda pid: calls.append(("start", pid)) or "started")
    monkeypatch.setattr(engine, "stop_engine", lambda pid: calls.append(("stop", pid)) or "stopped")
    monkeypatch.setattr(image, "build_image", lambda tag: calls.append(("build", tag)) or "built")
    monkeypatch.setattr(sandbox_perf, "main", lambda argv: calls.append(("bench", argv)) or 0)
    for command in (
        ["install-engine"],
        ["start-engine", "--pid-file", "x.pid"],
        ["stop-engine", "--pid-file", "x.pid"],
        ["build-image"],
        ["build-image", "--tag", "mine:1"],
        ["bench", "--quick"],
        ["bench", "--soak-checks", "5", "--no-docker"],
    ):
        assert cli_main(["sandbox", *command]) == 0, command
    assert calls == [
        ("install",),
        ("start", Path("x.pid")),
        ("stop", Path("x.pid")),
        ("build", DEFAULT_IMAGE),
        ("build", "mine:1"),
        ("bench", ["--quick"]),
        ("bench", ["--soak-checks", "5", "--no-docker"]),
    ]
    assert capsys.readouterr().out.split() == ["installed", "started", "stopped", "built", "built"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "start-engine"])  # --pid-file is required


def test_stop_engine_refuses_a_pid_that_is_not_dockerd(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file = tmp_path / "dockerd.pid"
        pid_file.write_text(f"{sleeper.pid}\n")
        with pytest.raises(RuntimeError, match="not dockerd"):
            engine.stop_engine(pid_file)
        assert sleeper.poll() is None  # untouched
    finally:
        sleeper.kill()
        sleeper.wait()


def test_stop_engine_without_pid_file_does_nothing(tmp_path):
    assert "nothing to stop" in engine.stop_engine(tmp_path / "missing.pid")


def test_dockerd_flags_keep_containers_off_the_network():
    assert "--bridge=none" in engine.DOCKERD_FLAGS and "--iptables=false" in engine.DOCKERD_FLAGS


@pytest.mark.docker
def test_start_engine_leaves_a_running_engine_alone(tmp_path):
    pid_file = tmp_path / "dockerd.pid"
    assert "already answers" in engine.start_engine(pid_file)
    assert not pid_file.exists()


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs a Debian package database")
def test_image_package_closure_has_the_toolchain_and_python():
    packages = package_closure(["python3.11-minimal", "gcc-12"])
    assert {"python3.11-minimal", "gcc-12", "cpp-12", "binutils", "libc6"} <= set(packages)
    assert "perl-base" not in packages


def test_install_engine_is_a_no_op_when_dockerd_exists():
    if not shutil.which("dockerd"):
        pytest.skip("dockerd not installed here")
    assert "nothing to do" in engine.install_engine()
    assert os.path.exists(shutil.which("dockerd"))


def test_an_ordinary_user_is_told_what_they_can_do_instead_of_installing_an_engine(monkeypatch, capsys):
    """Installing or starting the system's engine needs root; the message names the rootless ways."""
    from feedback_gym.cli import main as cli_main
    from feedback_gym.sandboxes import engine

    monkeypatch.setattr(engine.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    monkeypatch.setattr(engine, "engine_answers", lambda timeout=3.0: False)
    assert cli_main(["sandbox", "install-engine"]) == 1
    assert cli_main(["sandbox", "start-engine", "--pid-file", "/nonexistent/x.pid"]) == 1
    err = capsys.readouterr().err
    assert err.count("needs root") == 2 and "DOCKER_HOST" in err and "local sandbox needs no engine" in err
