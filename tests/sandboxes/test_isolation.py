"""Per-job isolation, on both backends: what one job does never reaches the server, the host or the next job.

Each test runs its attack as a job and asserts containment from outside (the next job, the host), then that
the sandbox still serves. The same tests run as root and, in CI's second pass, as an ordinary user.
"""

from __future__ import annotations

import json
import os
import uuid

from feedback_gym.sandboxes import Job, Limits

from .test_attacks import FAST, assert_serves, run


def test_a_job_has_no_capabilities_and_no_new_privileges(single):
    source = (
        "status = open('/proc/self/status').read()\n"
        "fields = dict(line.split(':\\t', 1) for line in status.splitlines() if ':\\t' in line)\n"
        "print(fields['CapEff'].strip(), fields['CapPrm'].strip(), fields['CapBnd'].strip(),"
        " fields['NoNewPrivs'].strip(), fields['Seccomp'].strip())\n"
    )
    result, _ = run(single, source)
    assert result.ok, result
    eff, prm, bnd, nnp, seccomp = result.stdout.split()
    assert int(eff, 16) == int(prm, 16) == int(bnd, 16) == 0
    assert nnp == "1" and seccomp == "2"  # 2: a seccomp filter is installed


SECCOMP_PROBE = """
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
NR = {name: number for name, number in %s.items()}
out = {}
for name, args in [("keyctl", (0, 0, 0, 0, 0)), ("add_key", (b"user", b"fg", b"x", 1, ctypes.c_long(-2))),
                   ("ptrace", (16, 1, 0, 0)), ("unshare", (0x10000000,)), ("bpf", (0, 0, 0)),
                   ("perf_event_open", (0, 0, -1, -1, 0)), ("mount", (b"none", b"/tmp", b"tmpfs", 0, 0)),
                   ("setns", (0, 0)), ("process_vm_readv", (1, 0, 0, 0, 0, 0)), ("io_uring_setup", (1, 0))]:
    ctypes.set_errno(0)
    result = libc.syscall(NR[name], *args)
    out[name] = ctypes.get_errno() if result == -1 else 0
print(json.dumps(out))
"""

X86_64 = {"keyctl": 250, "add_key": 248, "ptrace": 101, "unshare": 272, "bpf": 321, "perf_event_open": 298,
          "mount": 165, "setns": 308, "process_vm_readv": 310, "io_uring_setup": 425}
AARCH64 = {"keyctl": 219, "add_key": 217, "ptrace": 117, "unshare": 97, "bpf": 280, "perf_event_open": 241,
           "mount": 40, "setns": 268, "process_vm_readv": 270, "io_uring_setup": 425}


def test_seccomp_refuses_keyrings_ptrace_namespaces_and_kernel_surface(single):
    numbers = X86_64 if os.uname().machine == "x86_64" else AARCH64
    result, _ = run(single, SECCOMP_PROBE % numbers)
    assert result.ok, result
    refused = json.loads(result.stdout)
    assert refused == dict.fromkeys(numbers, 1), refused  # every one: EPERM from the filter
    assert_serves(single)


def test_clone_cannot_make_namespaces_but_fork_and_threads_work(single):
    source = (
        "import ctypes, os, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "ctypes.set_errno(0)\n"
        "r = libc.syscall(56 if os.uname().machine == 'x86_64' else 220, 0x10000000 | 17, 0, 0, 0, 0)\n"
        "print(r, ctypes.get_errno())\n"
        "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n    os._exit(5)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    result, _ = run(single, source)
    assert result.ok, result
    assert result.stdout.splitlines() == ["-1 1", "thread", "5"]


def test_a_job_cannot_see_or_signal_the_server(single):
    """Its own pid namespace: pid 1 is the job's init, and nothing of the worker is visible or reachable."""
    source = (
        "import os, signal\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "hits = []\n"
        "for pid in range(1, 400):\n"
        "    if pid != os.getpid():\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "            hits.append(pid)\n"
        "        except (ProcessLookupError, PermissionError):\n"
        "            pass\n"
        "print(os.getpid(), len(pids), hits)\n"
    )
    result, _ = run(single, source)
    assert result.ok, result
    pid, visible, hits = result.stdout.split(maxsplit=2)
    # The kill "reaches" only the job's own init (pid 1), which ignores it: the job carries on.
    assert hits.strip() in ("[]", "[1]"), result.stdout
    assert_serves(single)


def test_sysv_ipc_and_dev_shm_die_with_the_job(single):
    """Shared memory, message queues and /dev/shm files of one job are gone for the next."""
    key = int(uuid.uuid4().int % 2**30) + 1
    make = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"shm = libc.shmget({key}, 1 << 20, 0o1666)\n"
        f"msq = libc.msgget({key}, 0o1666)\n"
        "open('/dev/shm/fg-left', 'w').write('secret')\n"
        "open('/tmp/fg-left', 'w').write('secret')\n"
        "print(shm >= 0, msq >= 0, os.path.exists('/dev/shm/fg-left'))\n"
    )
    first, _ = run(single, make)
    assert first.ok and first.stdout == "True True True\n", first
    look = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"print(libc.shmget({key}, 0, 0o666), libc.msgget({key}, 0o666),"
        " os.path.exists('/dev/shm/fg-left'), os.path.exists('/tmp/fg-left'))\n"
    )
    second, _ = run(single, look)
    assert second.ok and second.stdout == "-1 -1 False False\n", second


def test_a_deep_directory_tree_is_no_problem_for_the_clean_up(single):
    """A tree too deep for a recursive delete vanishes with the job's tmpfs; the next job is unaffected."""
    source = (
        "import os\n"
        "for i in range(3000):\n"
        "    os.mkdir('d')\n"
        "    os.chdir('d')\n"
        "print('deep')\n"
    )
    result, _ = run(single, source, limits=FAST.replace(wall_seconds=20, cpu_seconds=15))
    assert result.ok and result.stdout == "deep\n", result
    assert_serves(single)
    listing = single.run(Job(language="python", source="import os; print(sorted(os.listdir('.')))"))
    assert listing.stdout == "['main.py']\n"


def test_fork_bomb_stops_at_the_jobs_own_process_limit(single):
    """RLIMIT_NPROC counts per user namespace: the job's bomb stops at its own limit, whoever runs us."""
    source = (
        "import os, time\n"
        "count = 0\n"
        "while count < 500:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        count += 1\n"
        "    except OSError:\n"
        "        break\n"
        "print(count)\n"
    )
    result, _ = run(single, source, limits=Limits(wall_seconds=10, cpu_seconds=5, processes=8, memory_mb=256))
    assert result.ok, result
    assert int(result.stdout) <= 8, result.stdout
    assert_serves(single)


def test_the_work_dir_is_private_to_the_job(single):
    """Every job sees the same path, on its own tmpfs; nothing of an earlier job is there."""
    first = single.run(Job(language="python", source="import os; open('left', 'w'); print(os.getcwd())"))
    second = single.run(Job(language="python", source="import os; print(os.getcwd(), sorted(os.listdir()))"))
    assert second.stdout == f"{first.stdout.strip()} ['main.py']\n"
