"""Start ``feedback-gym serve`` as a child process, learn its URL, stop it by its PID.

For tests, the benchmark and the examples: the server runs in its own process (its own GIL, as
in real use), on a free loopback port, and is stopped by the PID this module started, never by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from feedback_gym.errors import RemoteEnvError

#: How long a server may take to print its address (importing openenv-core alone takes seconds).
START_TIMEOUT_S = 120.0


class ServerProcess:
    """A running ``feedback-gym serve`` child; use as a context manager or call :meth:`stop`.

    Args:
        env_id: The id to serve.
        args: More ``feedback-gym serve`` arguments (``--max-sessions 4``, ``--token ...``).
        cwd: The child's working directory (on its ``sys.path``, so ``module:Id`` ids resolve).
        env: Extra environment variables for the child.
    """

    def __init__(
        self,
        env_id: str,
        args: Sequence[str] = (),
        cwd: str | Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        argv = [sys.executable, "-m", "feedback_gym.cli", "serve", env_id, "--port", "0", *args]
        self.argv = argv
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.url = self._wait_for_url()

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def _wait_for_url(self) -> str:
        assert self.process.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self.process.stdout is not None
            line = self.process.stdout.readline()
            found.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        line = found[0] if found else ""
        if not line.startswith("serving "):
            self.stop()
            time.sleep(0.1)
            output = "".join(self.stderr)[-2000:] or line
            raise RemoteEnvError(f"the server did not start ({' '.join(self.argv[3:])}): {output}")
        return line.split(" at ", 1)[1].strip()

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def stop(self, timeout_s: float = 15.0) -> int | None:
        """SIGTERM the server we started (SIGKILL after ``timeout_s``); returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
