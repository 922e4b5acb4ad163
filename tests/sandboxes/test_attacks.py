"""Our own attacks on both backends. Each asserts containment, then that the sandbox still serves."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import pytest

from feedback_gym.sandboxes import Job, Limits, make_sandbox

from .conftest import _config

FAST = Limits(wall_seconds=3, cpu_seconds=2, memory_mb=256, processes=16, output_bytes=4096)


def assert_serves(box) -> None:
    """The sandbox answers a normal job correctly right after an attack."""
    result = box.run(Job(language="python", source="print(sum(range(10)))"))
    assert result.ok and result.stdout == "45\n", result


def run(box, source: str, limits: Limits = FAST, **kwargs):
    start = time.monotonic()
    result = box.run(Job(language="python", source=source, limits=limits, **kwargs))
    return result, time.monotonic() - start


def test_infinite_loop_is_killed_by_cpu_or_wall_limit(single):
    one_second = FAST.replace(wall_seconds=1, cpu_seconds=1)
    result, elapsed = run(single, "while True: pass", limits=one_second)
    assert result.killed_reason in ("cpu", "timeout"), result
    assert elapsed < one_second.wall_seconds + 3
    assert_serves(single)


def test_sleep_is_killed_at_the_wall_limit(single):
    result, elapsed = run(single, "import time; time.sleep(60)", limits=FAST.replace(wall_seconds=1))
    assert result.timed_out and result.killed_reason == "timeout"
    assert 0.9 < elapsed < 5
    assert_serves(single)


def test_fork_bomb_is_contained(single):
    source = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result, elapsed = run(single, source, limits=FAST.replace(wall_seconds=2))
    assert not result.ok
    assert elapsed < 10
    assert_serves(single)


def test_memory_bomb_fails_inside_its_limit(single):
    result, _ = run(single, "x = []\nwhile True:\n    x.append(bytearray(10**7))\n")
    assert result.killed_reason in ("memory", "signal"), result
    assert_serves(single)


def test_disk_fill_stops_at_the_file_size_limit(single):
    source = "f = open('big', 'wb')\nwhile True:\n    f.write(b'x' * 2**20)\n"
    result, _ = run(single, source, limits=FAST.replace(file_size_mb=4))
    assert result.killed_reason == "file_size", result
    assert_serves(single)


def test_disk_fill_with_many_files_cannot_fill_the_host(single):
    source = "i = 0\nwhile True:\n    open(f'f{i}', 'wb').write(b'x' * 2**20)\n    i += 1\n"
    result, _ = run(single, source, limits=FAST.replace(wall_seconds=4, file_size_mb=2))
    assert not result.ok  # ENOSPC on the private tmpfs, or the wall limit
    assert_serves(single)


@pytest.mark.parametrize(
    "source", ["while True: print('y' * 80)", "import sys\nsys.stdout.write('z' * 10**8)"]
)
def test_stdout_flood_and_huge_line_are_capped(single, source):
    result, elapsed = run(single, source)
    assert result.stdout_truncated
    assert len(result.stdout) < FAST.output_bytes + 200
    assert elapsed < FAST.wall_seconds + 3
    assert_serves(single)


def test_thread_bomb_is_contained(single):
    source = (
        "import threading, time\n"
        "ts = []\n"
        "while True:\n"
        "    t = threading.Thread(target=time.sleep, args=(100,), daemon=True)\n"
        "    t.start()\n"
        "    ts.append(t)\n"
    )
    result, elapsed = run(single, source)
    assert not result.ok
    assert elapsed < FAST.wall_seconds + 3
    assert_serves(single)


def test_deep_recursion_is_an_error_not_a_crash_of_the_sandbox(single):
    source = "import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n + 1)\nf(0)\n"
    result, _ = run(single, source)
    assert not result.ok
    assert_serves(single)


def test_segfault_through_ctypes(single):
    result, _ = run(single, "import ctypes\nctypes.string_at(0)\n")
    assert result.exit_code == -11 and result.killed_reason == "signal"
    assert "SIGSEGV" in result.message
    assert_serves(single)


def test_killing_the_parent_does_not_hurt_the_sandbox(single):
    source = (
        "import os, signal\n"
        "for pid in (os.getppid(), 1, -1):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError as e:\n"
        "        print(pid, type(e).__name__)\n"
    )
    run(single, source)
    assert_serves(single)


def test_setsid_double_fork_daemon_dies_with_the_job(single):
    marker = f"1000.{uuid.uuid4().int % 10**9}"  # a sleep duration no other process has on its command line
    source = (
        "import os, sys\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.write(w, b'up')\n"
        "        os.close(w)\n"
        f"        os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
        "    os._exit(0)\n"
        "os.close(w)\n"
        "print(os.read(r, 100).decode())\n"
    )
    result, _ = run(single, source)
    assert result.ok and result.stdout == "up\n", result
    # The next job on the same worker scans every process it can see: the daemon must be gone.
    scan = (
        "import os\nfound = []\n"
        "for pid in (p for p in os.listdir('/proc') if p.isdigit()):\n"
        "    try:\n"
        "        found.append(open(f'/proc/{pid}/cmdline', 'rb').read())\n"
        "    except OSError:\n"
        "        pass\n"
        f"print(any(b'{marker}' in line for line in found), len(found) > 1)\n"
    )
    check = single.run(Job(language="python", source=scan))
    assert check.stdout == "False True\n", check


def test_writing_outside_the_work_dir_fails(single):
    name = f"fg-escape-{uuid.uuid4().hex}"
    # /tmp (so ../ too) and /dev/shm are the job's own tmpfs (test_isolation.py): writable, gone with the job.
    targets = [
        f"/{name}",
        f"/usr/{name}",
        f"/var/tmp/{name}",
        f"/etc/{name}",
        f"/dev/{name}",
        f"/work/{name}",
        f"/opt/{name}",
    ]
    source = (
        "import json\nok = []\n"
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        ok.append(path)\n"
        "    except OSError:\n"
        "        pass\n"
        "print(json.dumps(ok))\n"
    )
    result, _ = run(single, source)
    assert result.ok, result
    assert result.stdout == "[]\n"
    assert not any(os.path.exists(path) for path in (f"/tmp/{name}", f"/{name}", f"/var/tmp/{name}"))
    assert_serves(single)


def test_previous_jobs_directory_is_gone(single):
    first = single.run(
        Job(language="python", source="import os; open('secret', 'w').write('s'); print(os.getcwd())")
    )
    path = first.stdout.strip() + "/secret"
    second = single.run(Job(language="python", source=f"import os; print(os.path.exists({path!r}))"))
    assert second.stdout == "False\n"


def test_concurrent_jobs_cannot_read_each_others_directories(sandbox):
    secret = f"secret-{uuid.uuid4().hex}"
    writer = f"import time\nopen('{secret}', 'w').write('s')\ntime.sleep(1.5)\n"
    seeker = (
        "import os, time\ntime.sleep(0.5)\nfound = []\n"
        "for root in ('/tmp', '/work', '/'):\n"
        "    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):\n"
        "        if dirpath.startswith(('/proc', '/sys', '/usr')):\n"
        "            dirnames[:] = []\n"
        f"        if '{secret}' in filenames:\n"
        "            found.append(dirpath)\n"
        "print(found)\n"
    )
    results = sandbox.run_many(
        [
            Job(language="python", source=writer, limits=FAST),
            Job(language="python", source=seeker, limits=FAST.replace(wall_seconds=10)),
        ]
    )
    assert results[0].ok and results[1].ok, results
    assert results[1].stdout == "[]\n"


def test_cannot_connect_to_a_server_on_the_hosts_loopback(single):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        source = (
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'leak')\n"
            "    print('connected')\n"
            "except OSError as e:\n"
            "    print('refused', type(e).__name__)\n"
        )
        result, _ = run(single, source)
        assert result.stdout.startswith("refused"), result
        time.sleep(0.3)
        assert accepted == []
    finally:
        stop.set()
        thread.join()
        server.close()
    assert_serves(single)


def test_host_files_and_project_data_are_invisible(single):
    here = os.path.abspath(__file__)
    source = (
        "import os\n"
        f"print([p for p in ({here!r}, '/work', '/root', '/home', '/etc/shadow') if os.path.exists(p) "
        "and os.access(p, os.R_OK) and p != '/work'])\n"
    )
    result, _ = run(single, source)
    assert result.stdout == "[]\n", result


@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_host_environment_variables_do_not_leak(backend, monkeypatch):
    monkeypatch.setenv("FEEDBACK_GYM_TEST_API_KEY", "sk-very-secret")
    box = make_sandbox(_config(backend, 1))
    try:
        source = (
            "import os\nprint(any('sk-very-secret' in v for v in os.environ.values()))\n"
            "print(open('/proc/self/environ').read().count('secret'))"
        )
        result = box.run(Job(language="python", source=source))
        assert result.stdout == "False\n0\n", result
    finally:
        box.close()


def test_collected_files_never_follow_links_out_of_the_work_dir(single):
    source = "import os\nos.symlink('/etc', 'sub')\nos.symlink('/etc/hostname', 'direct')\n"
    result = single.run(
        Job(
            language="python",
            source=source,
            collect=["sub/hostname", "direct", "sub/passwd", "sub/ld.so.cache"],
        )
    )
    assert result.ok, result
    assert result.files == {}


def test_forged_status_report_only_ends_the_job_early(single):
    """A Python job tells the server how it ended on fd 3; forging that report can only cut the job short."""
    source = (
        "import os, struct, time\n"
        "print('before', flush=True)\n"
        "os.write(3, struct.pack('>id', 0, 0.0))\n"
        "time.sleep(30)\n"
        "print('after the forged report')\n"
    )
    result, elapsed = run(single, source, limits=FAST.replace(wall_seconds=20))
    assert not result.timed_out and elapsed < 10, (result, elapsed)
    assert "after" not in result.stdout
    assert_serves(single)


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.write(3, b'junk')\nraise SystemExit(7)\n",
        "import os\nos.write(3, b'x' * 100000)\nraise SystemExit(7)\n",
        "import os\nos.close(3)\nraise SystemExit(7)\n",
    ],
    ids=["junk", "flood", "closed"],
)
def test_junk_on_the_status_line_is_ignored(single, source):
    """Anything but a well-formed report leaves the server waiting for the real exit."""
    result, _ = run(single, source)
    assert result.exit_code == 7, result
    assert_serves(single)


def test_job_fds_are_only_its_streams_and_status_line(single):
    """No fd of the server leaks into a job; an exec'd program does not even keep the status line."""
    python = run(single, "import os\nprint(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))")[0]
    assert python.stdout == "[0, 1, 2, 3, 4]\n"  # 4 is the directory listdir itself opened
    listing = "import os; print(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))"
    execd = single.run(Job(argv=["python3", "-I", "-S", "-c", listing], limits=FAST))
    assert execd.stdout == "[0, 1, 2, 3]\n", execd  # 3: listdir's own directory, not the status line


def test_a_program_reusing_fd_3_keeps_its_file_intact(single):
    """The end-of-job report goes only to the server's socket, never into a file that took its fd number."""
    source = (
        "import os\nos.close(3)\n"
        "fd = os.open('mine.txt', os.O_WRONLY | os.O_CREAT, 0o600)\nassert fd == 3\nos.write(fd, b'mine')\n"
    )
    result = single.run(Job(language="python", source=source, limits=FAST, collect=["mine.txt"]))
    assert result.exit_code == 0, result
    assert result.files["mine.txt"] == b"mine"
