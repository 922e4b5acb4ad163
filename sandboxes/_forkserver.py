"""The warm fork server that runs inside the isolation boundary (bubblewrap or a Docker container).

This file is *standard library only* and is started as ``python3.11 -I -S _forkserver.py ...`` inside the
boundary, as an ordinary user (never root: the host's root ignores ``RLIMIT_NPROC``); it is never
imported by the environment process except for its constants. It needs no capability on the host:
every isolation step below uses unprivileged user namespaces.

**The server.** At start it enters a user and pid namespace of its own (it becomes pid 1 there, and
"root" of a namespace that owns nothing on the host), so it may create namespaces for its jobs. It owns
no job data: the client creates each job's stdin (a memfd) and stdout/stderr/channel pipes and passes
the file descriptors over the Unix socket (SCM_RIGHTS).

**One job = one set of namespaces.** Before a job arrives the server forks the job's *init* process in a
fresh pid namespace (so a job can never see or signal the server, another job or anything on the host).
The init, still privileged inside the server's namespace, gives itself:

- a fresh mount namespace with a private, size-capped tmpfs on ``/tmp`` (the work dir) and on
  ``/dev/shm`` and its own ``/proc``: files a job writes vanish with it, whatever their shape;
- a fresh IPC namespace: SysV shared memory, semaphores and message queues die with the job;
- a nested user namespace in which it is uid 1000 with no capabilities at all, ``no_new_privs`` and a
  seccomp filter (:func:`seccomp_program`) that refuses keyrings, ptrace, ``process_vm_*``, bpf,
  perf events, mounts, namespace changes, kernel modules, reboot and io_uring. ``RLIMIT_NPROC`` counts
  per user namespace, so a fork bomb stops at the job's own limit.

The init then forks the job's *program process* (still before the job arrives: a job starts with one
message) and waits. The init is pid 1 of the job's namespace, non-dumpable and trusted: processes of the
job cannot signal it (the kernel drops signals to a namespace's init that it has no handler for), trace
it or read its memory. For a harness job the init *is* the test judge (``_judge.py``) and the waiting
process becomes its candidate, so the program under test can neither stop nor read its judge.

**Ending a job.** The init reports how the program ended (a Python program reports its own exit code as
its last act, so the caller need not wait for the kernel to tear an interpreter down), having first
stopped every other process of the job (``kill(-1, SIGSTOP)`` from a namespace's init reaches exactly
the job's processes). The server answers the caller, then kills the init, which makes the kernel kill
every process of the namespace; the next job's init is forked once they are all gone. A job past its wall
clock is killed from outside by the server. Nothing of a job outlives it.

Wire format (both directions, ``_wire.py``): 4-byte big-endian length, then a JSON object. A job request
carries its fds [stdin, stdout, stderr, (channel)] as ancillary data on its first bytes.
"""

from __future__ import annotations

# Modules a typical checked program imports: loading them once here makes every fork warm.
import ast  # noqa: F401
import base64
import bisect  # noqa: F401
import collections  # noqa: F401
import ctypes
import functools  # noqa: F401
import heapq  # noqa: F401
import io
import itertools  # noqa: F401
import math  # noqa: F401
import os
import random  # noqa: F401
import re  # noqa: F401
import resource
import select
import signal
import socket
import string  # noqa: F401
import struct
import sys
import time
import traceback
import typing  # noqa: F401

if __package__:  # on the host (``feedback_gym.sandboxes._forkserver``), for its constants only
    from feedback_gym.sandboxes import _wire as wire
else:  # inside the boundary: the wire module is shipped read-only next to this file (see local.py)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import feedback_gym_wire as wire
    finally:
        del sys.path[0]  # nothing else is ever imported from outside the standard library

PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080
#: Any of these in ``clone``'s flags would make a new namespace: refused to jobs.
CLONE_NAMESPACE_FLAGS = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
    | CLONE_NEWTIME
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_REC, MS_PRIVATE = 0x4000, 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)
#: What a job's init reports to the server, and a Python program to its init: exit code, CPU seconds.
_STATUS = struct.Struct(">id")
#: The uid a job runs as inside its own user namespace (it maps to the server's uid outside).
JOB_UID = 1000
#: Where every job works: its own tmpfs, so the path is the same for every job.
WORKDIR = "/tmp/job"
#: Size of a job's ``/tmp`` and ``/dev/shm`` (tmpfs: memory, released when the job ends).
JOB_TMPFS_BYTES = 256 * 1024 * 1024
JOB_SHM_BYTES = 64 * 1024 * 1024
#: Seconds a job's init may take to set up its namespaces (it is forked long before it is needed).
STARTUP_TIMEOUT = 20.0
#: Job inits forked ahead of their jobs.
PRESPAWN = 2
#: Whether the mounts we inherit are all private (then a job's mount namespace needs no re-marking);
#: set once by :func:`survey_mounts`.
_MOUNTS_PRIVATE = False
#: Writable mounts a job would share with the server (bubblewrap's root and /dev tmpfs): a job's
#: namespace sees them read-only, so nothing it writes outside its own tmpfs reaches the next job.
_SHARED_WRITABLE: list[tuple[str, int]] = []
#: Mount points that are the job's own (mounted fresh per job) or that hold only device nodes.
_JOB_OWN_MOUNTS = ("/tmp", "/dev/shm", "/proc", "/dev/pts", "/dev/mqueue", "/sys")
#: statvfs flags that must be kept when a mount is remounted (the kernel refuses to drop locked ones).
_KEEP_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
               os.ST_NOATIME: 1024, os.ST_NODIRATIME: 2048, os.ST_RELATIME: 1 << 21}


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def prctl(option: int, value: int, arg3: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(arg3), 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def map_ids(inner: int, outer_uid: int, outer_gid: int) -> None:
    """Map one id of this (just unshared) user namespace onto our ids outside: all an ordinary user may."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{inner} {outer_uid} 1"),
                       ("gid_map", f"{inner} {outer_gid} 1")):
        fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            return int(fh.read())
    except OSError:
        return 63


_LAST_CAP = _last_capability()
_CAP_HEADER = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
_NO_CAPS = (_CapData * 2)()


def drop_capabilities() -> None:
    """Drop every capability (bounding, ambient, effective, permitted, inheritable) of this process."""
    for cap in range(_LAST_CAP + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _check(_libc.capset(ctypes.byref(_CAP_HEADER), ctypes.byref(_NO_CAPS)), "capset")


# -- seccomp ------------------------------------------------------------------------------------------
#: audit arch of the native ABI, and syscall numbers for each architecture we know.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
#: Syscalls a job is refused (EPERM): (x86_64 number, aarch64 number). Why each: keyrings outlive the job
#: (per host user); ptrace and process_vm_* read other processes; bpf, perf_event_open, io_uring,
#: userfaultfd and modify_ldt are kernel attack surface no checked program needs; mount, namespace and
#: root changes would undo the job's isolation; the rest change the machine.
DENIED_SYSCALLS = {
    "add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438), "process_madvise": (440, 440),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "setns": (308, 268), "unshare": (272, 97), "mount_setattr": (442, 442), "open_tree": (428, 428),
    "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432),
    "fspick": (433, 433), "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "reboot": (169, 142),
    "swapon": (167, 224), "swapoff": (168, 225), "acct": (163, 89), "quotactl": (179, 60),
    "quotactl_fd": (443, 443), "syslog": (103, 116), "settimeofday": (164, 170),
    "clock_settime": (227, 112), "clock_adjtime": (305, 266), "adjtimex": (159, 171),
    "sethostname": (170, 161), "setdomainname": (171, 162), "vhangup": (153, 58),
    "fanotify_init": (300, 262), "lookup_dcookie": (212, 18),
}
#: x86_64 only: raw I/O port access and per-process segment tables.
DENIED_X86_64_ONLY = {"iopl": 172, "ioperm": 173, "modify_ldt": 154, "uselib": 134}
#: (x86_64, aarch64): clone (flags checked), clone3 (ENOSYS: libc falls back to clone), prlimit64.
CLONE_NR, CLONE3_NR, PRLIMIT64_NR = (56, 220), (435, 435), (302, 261)
X32_SYSCALL_BIT = 0x40000000
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


def seccomp_program(arch: str) -> list[tuple[int, int, int, int]]:
    """The job's seccomp filter as classic BPF (code, jt, jf, k), for ``arch`` (``os.uname().machine``).

    Hand-assembled because this file must run on the bare system interpreter (no libseccomp binding
    there); the program is a flat deny list, so it is easy to audit. A foreign ABI (32-bit or x32 calls
    on x86_64) kills the process: no program here needs one and the deny list would not cover it.
    ``clone`` may not make namespaces; ``prlimit64`` may only change the caller's own limits.

    >>> program = seccomp_program("x86_64")
    >>> program[0], program[-1]
    ((32, 0, 0, 4), (6, 0, 0, 2147418112))
    """
    if arch not in AUDIT_ARCH:
        raise OSError(f"the sandbox's seccomp filter knows {sorted(AUDIT_ARCH)}, not {arch!r}")
    column = 0 if arch == "x86_64" else 1
    denied = sorted({numbers[column] for numbers in DENIED_SYSCALLS.values()})
    if arch == "x86_64":
        denied = sorted({*denied, *DENIED_X86_64_ONLY.values()})
    eperm = (_RET, 0, 0, _RET_ERRNO | _EPERM)
    program = [(_LD_ABS, 0, 0, 4), (_JEQ, 1, 0, AUDIT_ARCH[arch]), (_RET, 0, 0, _RET_KILL_PROCESS),
               (_LD_ABS, 0, 0, 0)]
    if arch == "x86_64":
        program += [(_JGE, 0, 1, X32_SYSCALL_BIT), (_RET, 0, 0, _RET_KILL_PROCESS)]
    for number in denied:
        program += [(_JEQ, 0, 1, number), eperm]
    program += [(_JEQ, 0, 1, CLONE3_NR[column]), (_RET, 0, 0, _RET_ERRNO | _ENOSYS)]
    # clone: the flags are args[0]; their low 32 bits sit at offset 16 of seccomp_data.
    program += [(_JEQ, 0, 3, CLONE_NR[column]), (_LD_ABS, 0, 0, 16), (_JSET, 0, 1, CLONE_NAMESPACE_FLAGS),
                eperm, (_LD_ABS, 0, 0, 0)]
    # prlimit64(pid, ...): only pid 0 (the caller); args[0] is 64 bits at offsets 16 and 20.
    program += [(_JEQ, 0, 5, PRLIMIT64_NR[column]), (_LD_ABS, 0, 0, 16), (_JEQ, 0, 2, 0),
                (_LD_ABS, 0, 0, 20), (_JEQ, 1, 0, 0), eperm]
    program.append((_RET, 0, 0, _RET_ALLOW))
    return program


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_SECCOMP: list = []


def prepare_seccomp() -> None:
    """Assemble :func:`seccomp_program` once per server; every job's init inherits it."""
    if not _SECCOMP:
        program = seccomp_program(os.uname().machine)
        raw = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
        buffer = ctypes.create_string_buffer(raw, len(raw))
        _SECCOMP.extend([buffer, _SockFprog(len(program), ctypes.addressof(buffer))])


def install_seccomp() -> None:
    """Install the job filter on this process (inherited by every child; it cannot be removed)."""
    prepare_seccomp()
    _check(_libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(_SECCOMP[1]), 0, 0), "seccomp")


# -- the server ---------------------------------------------------------------------------------------
class JobInit:
    """The server's handle on one job's init process (pid 1 of the job's namespaces)."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.sock = sock
        self.ready = False
        #: From the init once it is set up: its work dir, and its program process's socket.
        self.workdir = -1
        self.program: socket.socket | None = None

    def wait_ready(self, timeout: float) -> None:
        """Wait for the init to say its namespaces are set up; raise with its reason if they are not."""
        if self.ready:
            return
        self.sock.settimeout(timeout)
        try:
            message, fds = wire.recv_request(self.sock, wire.SERVER_MAX_MESSAGE)
        except (OSError, EOFError, ValueError) as err:
            raise OSError(f"a job's init process did not start ({err})") from None
        finally:
            self.sock.settimeout(None)
        if not message.get("ready") or len(fds) != 2:
            wire.close_fds(fds)
            why = message.get("setup_error")
            raise OSError(f"a job's init process could not set up its namespaces:\n{why}")
        self.workdir, self.program = fds[0], socket.socket(fileno=fds[1])
        self.ready = True

    def kill(self) -> None:
        """Kill the init: the kernel then kills every process of its namespace. Reaped by :meth:`reap`."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.sock.close()
        if self.program is not None:
            self.program.close()
            os.close(self.workdir)
            self.program = None

    def reap(self, block: bool) -> bool:
        """Collect the dead init (it dies once every process of its namespace is gone); True when done."""
        try:
            pid, _ = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid = self.pid
        if pid:
            os.close(self.pidfd)
        return bool(pid)


class Server:
    """Serves jobs one at a time for one worker.

    Job inits are forked ahead (:data:`PRESPAWN` of them), so a job finds one ready even when the
    previous job ended a moment ago; a finished job's namespace is killed after the reply and reaped
    later, so the kernel's tear-down never sits between a request and its answer.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        self.ready: list[JobInit] = []
        self.dying: list[JobInit] = []
        #: The job just answered: its processes are stopped; killed right after the reply.
        self.done: JobInit | None = None

    def serve(self) -> None:
        wire.send_message(self.sock, {"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        self.finish()
        while True:
            try:
                request, fds = wire.recv_request(self.sock, wire.SERVER_MAX_MESSAGE)
            except EOFError:
                return
            try:
                reply = self.run_job(request, fds)
            except Exception:  # noqa: BLE001 - report, never die on one bad request
                reply = {"error": traceback.format_exc()}
            finally:
                wire.close_fds(fds)
            wire.send_message(self.sock, reply)
            self.finish()

    def take_init(self) -> JobInit:
        """The oldest init forked ahead, set up (or a fresh one)."""
        init = self.ready.pop(0) if self.ready else self.spawn()
        try:
            init.wait_ready(STARTUP_TIMEOUT)
        except OSError:
            init.kill()
            self.dying.append(init)
            raise
        return init

    def run_job(self, request: dict, fds: list[int]) -> dict:
        # Every process of earlier jobs is gone before this one starts (usually long since: it was
        # killed right after its answer).
        for init in self.dying:
            init.reap(block=True)
        self.dying.clear()
        try:
            init = self.take_init()
        except OSError as err:
            return {"error": str(err)}
        self.done = init  # whatever happens, this init is killed after the reply
        start = time.monotonic()
        try:
            self.hand_over(init, request, fds)
        except OSError:  # the init died while it waited (never expected): one fresh try
            init.kill()
            self.dying.append(init)
            self.done = init = self.take_init()
            start = time.monotonic()
            self.hand_over(init, request, fds)
        wire.close_fds(fds)
        fds.clear()
        deadline = start + float(request["limits"]["wall_seconds"])
        while True:
            wait = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([init.sock, init.pidfd], [], [], wait)
            if not ready:
                # Killed and reaped before the answer: nothing of the job runs past its limit.
                self.done = None
                init.kill()
                init.reap(block=True)
                return {"exit_code": -signal.SIGKILL, "timed_out": True, "duration": time.monotonic() - start,
                        "cpu_seconds": 0.0, "files": {}, "stopped": True}
            if init.sock in ready:
                try:
                    status, _ = wire.recv_request(init.sock, wire.SERVER_MAX_MESSAGE)
                except (EOFError, OSError, ValueError):
                    status = None
                if status is not None:
                    return {
                        "exit_code": int(status["exit_code"]),
                        "timed_out": False,
                        "duration": time.monotonic() - start,
                        "cpu_seconds": float(status.get("cpu_seconds", 0.0)),
                        "files": status.get("files", {}),
                        "stopped": True,
                    }
            # The init died or hung up without a report (killed by the kernel: memory, never expected).
            return {"error": "the job's init process died before it reported"}

    @staticmethod
    def hand_over(init: JobInit, request: dict, fds: list[int]) -> None:
        """Write the job's files into its work dir; the judge's job to the init, any other to the program."""
        write_files(init.workdir, request)
        if request.get("judge"):
            wire.send_message(init.sock, {"judge": True, "limits": request["limits"],
                                     "collect": request.get("collect", [])}, fds)
            return
        job = {key: request.get(key) for key in ("language", "argv", "limits", "env")}
        assert init.program is not None
        wire.send_message(init.program, job, fds)
        wire.send_message(init.sock, {"collect": request.get("collect", [])})

    def finish(self) -> None:
        """After the reply: kill the last job's namespace, reap what died, fork inits ahead."""
        if self.done is not None:
            self.done.kill()
            self.dying.append(self.done)
            self.done = None
        self.dying = [init for init in self.dying if not init.reap(block=False)]
        while len(self.ready) < PRESPAWN:
            self.ready.append(self.spawn())

    def spawn(self) -> JobInit:
        """Fork the next job's init as pid 1 of a fresh pid namespace (see :func:`job_init`)."""
        _check(_libc.setns(self.pidns, CLONE_NEWPID), "setns")  # children back in our own namespace...
        unshare(CLONE_NEWPID)  # ... then in a new one
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                job_init(theirs)
            finally:
                os._exit(127)
        theirs.close()
        return JobInit(pid, ours)


# -- the job's init (pid 1 of the job's namespaces) ------------------------------------------------------
def job_init(sock: socket.socket) -> None:
    """Set up the job's namespaces, fork its program process, run the job, report. Never returns."""
    server = socket.socket(fileno=_move_fd(sock.detach(), SERVER_FD))
    try:
        prctl(PR_SET_DUMPABLE, 1)  # the server is not: /proc/self would be root's, and the maps unwritable
        os.setsid()
        os.closerange(0, SERVER_FD)
        os.closerange(SERVER_FD + 1, 1 << 16)
        null = os.open(os.devnull, os.O_RDWR)  # 0-2 stay taken until the job's own fds arrive
        os.dup2(null, 1)
        os.dup2(null, 2)
        for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGXFSZ,
                    signal.SIGXCPU, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        uid, gid = os.geteuid(), os.getegid()
        unshare(CLONE_NEWNS | CLONE_NEWIPC)
        if not _MOUNTS_PRIVATE:  # no mount of the job may reach the server's
            mount("none", "/", None, MS_REC | MS_PRIVATE)
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={JOB_TMPFS_BYTES},mode=0755")
        if os.path.isdir("/dev/shm"):
            mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={JOB_SHM_BYTES},mode=1777")
        try:  # the job's own /proc shows only its processes (where the host's /proc allows it)
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            pass
        for target, flags in _SHARED_WRITABLE:
            mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        os.mkdir(WORKDIR, 0o700)
        unshare(CLONE_NEWUSER)
        map_ids(JOB_UID, uid, gid)
        drop_capabilities()
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_DUMPABLE, 0)  # nothing of the job may read this process's memory or fds
        install_seccomp()
        os.chdir(WORKDIR)
        os.environ.clear()
        os.environ.update(JOB_ENVIRONMENT)
        program = ProgramProcess.fork()
        # The server writes each job's files straight into this work dir and hands the program process
        # its job itself: this process is off the critical path of a plain job.
        workdir = os.open(WORKDIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        wire.send_message(server, {"ready": True}, [workdir, program.sock.fileno()])
        os.close(workdir)
    except BaseException:  # noqa: BLE001
        try:
            wire.send_message(server, {"setup_error": traceback.format_exc()})
        finally:
            os._exit(126)
    try:
        request, fds = wire.recv_request(server, wire.SERVER_MAX_MESSAGE)
    except BaseException:  # noqa: BLE001 - the server went away: no job will come
        os._exit(0)
    try:
        if request.get("judge"):
            for target, fd in enumerate(fds):  # fds arrive lowest-first (from 3), so none is clobbered
                os.dup2(fd, target)
            wire.close_fds([fd for fd in fds if fd >= len(fds)])
            status = run_judge(program, request)
        else:
            wire.close_fds(fds)
            status = program.wait()
    except BaseException:  # noqa: BLE001 - the init's own failure: the job failed, loudly
        os.write(2, b"sandbox: job init failed\n" + traceback.format_exc().encode())
        status = {"exit_code": 126}
    stop_the_others()
    status["files"] = collect(request)
    status.setdefault("cpu_seconds", 0.0)
    try:
        wire.send_message(server, status)
        server.recv(1)  # the server kills us after answering; EOF if it went away
    finally:
        os._exit(0)


#: Where the init keeps its socket to the server and to its program process (out of the job's way).
SERVER_FD, PROGRAM_FD, PROGRAM_SIDE_FD = 200, 201, 202
JOB_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORKDIR,
    "TMPDIR": WORKDIR,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONIOENCODING": "utf-8",
}


def _move_fd(fd: int, target: int) -> int:
    """Renumber ``fd`` as ``target`` (close-on-exec) and close the old number."""
    if fd != target:
        os.dup2(fd, target, inheritable=False)
        os.close(fd)
    return target


def stop_the_others() -> None:
    """Stop every other process of the job: from a namespace's init, ``kill(-1)`` reaches exactly them."""
    try:
        os.kill(-1, signal.SIGSTOP)
    except ProcessLookupError:
        pass


def write_files(workdir: int, request: dict) -> None:
    """Create the job's files in its fresh, empty work dir (an fd: it lives in the job's own tmpfs).

    Names are relative paths without ``..`` (checked by the client's ``Job``); nothing is followed.
    """
    files = dict(request.get("files", {}))
    if request.get("language") == "python" and not request.get("judge"):
        files.setdefault("main.py", base64.b64encode(request.get("source", "").encode()).decode())
    executables = set(request.get("executables", ()))
    for name, content in files.items():
        *parents, leaf = name.split("/")
        directory = os.dup(workdir)
        try:
            for part in parents:
                try:
                    os.mkdir(part, 0o700, dir_fd=directory)
                except FileExistsError:
                    pass
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
                os.close(directory)
                directory = inner
            mode = 0o755 if name in executables else 0o644
            fd = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode, dir_fd=directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(base64.b64decode(content))
        finally:
            os.close(directory)


def collect(request: dict) -> dict[str, str]:
    """The files the job asked to bring back (base64), never following a link out of its dir."""
    collected = {}
    for name in request.get("collect", ()):
        path = os.path.join(WORKDIR, name)
        if not os.path.realpath(path).startswith(WORKDIR + os.sep):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_mode & 0o170000 == 0o100000:  # a regular file, not a fifo
                collected[name] = base64.b64encode(fh.read(64 * 1024 * 1024)).decode()
    return collected


def apply_limits(limits: dict) -> None:
    """The job's rlimits, set by its program process on itself (inherited by everything it starts)."""
    cpu = max(1, int(-(-float(limits["cpu_seconds"]) // 1)))
    memory = int(limits["memory_mb"]) * 1024 * 1024
    fsize = int(limits["file_size_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(limits["open_files"]),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Counted per user namespace: the job's init is one of them.
    resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["processes"]) + 1,) * 2)


class ProgramProcess:
    """The job's program process, forked by the init before the job arrives; waits for its orders.

    Orders arrive on its socket from the init: run a job (fds for stdin, stdout, stderr, channel), or
    serve as the judge's candidate (fds for stdout, stderr and the candidate's socket to the judge).
    """

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    @classmethod
    def fork(cls) -> ProgramProcess:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours = socket.socket(fileno=_move_fd(ours.detach(), PROGRAM_FD))
        theirs = socket.socket(fileno=_move_fd(theirs.detach(), PROGRAM_SIDE_FD))
        pid = os.fork()
        if pid == 0:
            try:
                os.closerange(0, PROGRAM_SIDE_FD)  # the init's link to the server, and 0-2
                os.closerange(PROGRAM_SIDE_FD + 1, 1 << 16)
                program_process(theirs)
            finally:
                os._exit(127)
        theirs.close()
        return cls(pid, ours)

    def wait(self) -> dict:
        """Wait for the program's report (a Python job's last act) or its end (anything exec'd)."""
        pidfd = os.pidfd_open(self.pid)
        watched = [self.sock, pidfd]
        while True:
            ready, _, _ = select.select(watched, [], [])
            if pidfd in ready:
                break
            try:
                data = self.sock.recv(64, socket.MSG_DONTWAIT)
            except OSError:
                data = b""
            if len(data) == _STATUS.size:
                code, cpu = _STATUS.unpack(data)
                return {"exit_code": code & 0xFF, "cpu_seconds": cpu}
            watched = [pidfd]  # EOF (an exec'd program) or junk: only the exit counts now
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        _, status, _usage = os.wait4(self.pid, 0)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"exit_code": os.waitstatus_to_exitcode(status),
                "cpu_seconds": children.ru_utime + children.ru_stime}

    def become_candidate(self, limits: dict) -> socket.socket:
        """Turn the waiting program process into the judge's candidate; return the judge's end."""
        judge_end, candidate_end = socket.socketpair()
        null = os.open(os.devnull, os.O_RDONLY)
        try:
            wire.send_message(self.sock, {"candidate": True, "limits": limits},
                         [null, 1, 2, candidate_end.fileno()])
        finally:
            os.close(null)
            candidate_end.close()
        return judge_end


def program_process(sock: socket.socket) -> None:
    """Wait for the init's order and become the job (or the judge's candidate). Never returns."""
    try:
        request, fds = wire.recv_request(sock, wire.SERVER_MAX_MESSAGE)
    except BaseException:  # noqa: BLE001 - no job came
        os._exit(0)
    try:
        prctl(PR_SET_DUMPABLE, 1)  # a normal process for itself; the judge stays non-dumpable
        own = sock.detach()
        spare = max([own, *fds]) + 1  # a free number above all of them, out of every dup2's way
        os.dup2(own, spare)
        for target, fd in enumerate(fds):  # fds arrive lowest-first, so no dup2 clobbers a later one
            os.dup2(fd, target)
        status_fd = len(fds)
        os.dup2(spare, status_fd, inheritable=False)  # close-on-exec: an exec'd program drops it
        os.closerange(status_fd + 1, 1 << 16)
        apply_limits(request["limits"])
        os.environ.update(request.get("env") or {})
    except BaseException:  # noqa: BLE001
        os.write(2, b"sandbox: job set-up failed\n" + traceback.format_exc().encode())
        os._exit(126)
    if request.get("candidate"):
        import feedback_gym_judge

        os.close(status_fd)  # a candidate talks to its judge only
        feedback_gym_judge.candidate_main(socket.socket(fileno=3))
    argv = list(request.get("argv") or ())
    if request.get("language") == "python":
        status_line = os.fstat(status_fd)
        report_status(run_python(WORKDIR, argv), status_fd, (status_line.st_dev, status_line.st_ino))
    try:
        if argv and argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        os.execvpe(argv[0], argv, dict(os.environ))
    except OSError as err:
        os.write(2, f"sandbox: cannot execute {argv[0]!r}: {err.strerror}\n".encode())
        os._exit(127)


def run_judge(program: ProgramProcess, request: dict) -> dict:
    """Run the test judge in this (trusted, pid 1) process; the program process becomes its candidate."""
    import feedback_gym_judge

    limits = request["limits"]
    code = feedback_gym_judge.main(
        first_candidate=lambda: program.become_candidate(limits),
        candidate_preexec=lambda: apply_limits(limits),
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"exit_code": code, "cpu_seconds": usage.ru_utime + usage.ru_stime + children.ru_utime
            + children.ru_stime}


def run_python(workdir: str, argv: list[str]) -> int:
    """Run ``main.py`` as ``__main__`` in this (forked, warm) interpreter; return the exit code."""
    import types

    sys.stdin = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="surrogateescape"
    )
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8", errors="backslashreplace"
    )
    sys.stderr = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["main.py", *argv]
    sys.path.insert(0, workdir)  # the program's own process: it may import its own files
    main = types.ModuleType("__main__")
    main.__file__ = os.path.join(workdir, "main.py")
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    code = 0
    try:
        with open("main.py", "rb") as fh:
            source = fh.read()
        exec(compile(source, "main.py", "exec"), main.__dict__)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # noqa: BLE001 - the program's own error: report it like python does
        try:
            sys.excepthook(*sys.exc_info())
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
        code = 1
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        import atexit

        atexit._run_exitfuncs()
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # noqa: BLE001
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed pipe (capped output) is not our problem
            pass
    return code


def report_status(code: int, status_fd: int, identity: tuple[int, int]) -> None:
    """End a Python job: close its output, tell the init how it ended, wait to be stopped and killed.

    The init then stops every process of the job and reports; the server answers, and only then kills
    them: the kernel's tear-down of an exiting interpreter (~1 ms of CPU) does not delay the answer. If
    the program replaced or closed the status fd (``identity`` is its device and inode), or the init
    stopped listening after junk on it, the job simply exits and the init goes by the exit.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    os.closerange(0, status_fd)
    try:
        line = os.fstat(status_fd)
        if (line.st_dev, line.st_ino) == identity:
            status = socket.socket(fileno=status_fd)
            status.send(_STATUS.pack(code, cpu), socket.MSG_NOSIGNAL)
            status.recv(1)  # we are stopped and killed; EOF if the init stopped listening
    except OSError:
        pass
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except BaseException:  # noqa: BLE001
        pass
    return 1


# -- start-up -----------------------------------------------------------------------------------------
def _import_judge() -> None:
    """Import the test judge mounted next to this file, so a harness job skips compiling it (~5 ms).

    ``-I`` leaves the script's directory off ``sys.path``, so it is added for this one import only: the
    judge and every test run with a ``sys.path`` of the read-only standard library alone.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.exists(os.path.join(here, "feedback_gym_judge.py")):
        return
    sys.path.insert(0, here)
    try:
        import feedback_gym_judge  # noqa: F401
    except ImportError:
        pass
    finally:
        sys.path.remove(here)


def enter_own_namespaces(sock: socket.socket) -> None:
    """Become pid 1 of a user and pid namespace of our own (the parent waits and exits with us).

    Being "root" of a user namespace that maps only our own uid gives no power on the host, but lets
    the server make each job's namespaces and mounts. Being pid 1 of our own pid namespace lets us send
    each job's init into a fresh one and back (``setns`` on our own namespace needs its owner's rights).
    """
    if _maps_to_root(os.geteuid()):
        raise OSError("the fork server refuses to run as root (root ignores RLIMIT_NPROC, so a fork bomb "
                      "would not stop); start it as an ordinary user")
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER | CLONE_NEWPID)
    map_ids(0, uid, gid)
    pid = os.fork()
    if pid:
        sock.close()
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_DUMPABLE, 0)


def survey_mounts() -> None:
    """Note, once, whether inherited mounts propagate and which writable ones a job must see read-only."""
    global _MOUNTS_PRIVATE
    with open("/proc/self/mountinfo") as fh:
        lines = fh.read().splitlines()
    _MOUNTS_PRIVATE = not any(" shared:" in line for line in lines)
    for line in lines:
        fields = line.split()
        target, options = fields[4], fields[5].split(",")
        fstype = fields[fields.index("-") + 1]
        if "rw" not in options or fstype in ("devtmpfs", "devpts", "proc", "sysfs", "mqueue"):
            continue
        if any(target == own or target.startswith(own + "/") for own in _JOB_OWN_MOUNTS):
            continue
        try:
            kept = os.statvfs(target).f_flag
        except OSError:
            continue
        _SHARED_WRITABLE.append((target, sum(ms for st, ms in _KEEP_FLAGS.items() if kept & st)))


def _maps_to_root(uid: int) -> bool:
    """Whether ``uid`` is the host's root: uid 0 of the initial user namespace (whose map is the identity).

    Only the first level is visible from here; the backends make sure a nested namespace is not
    rooted in the host's root either (they start the server as an ordinary uid).
    """
    try:
        with open("/proc/self/uid_map") as fh:
            initial = fh.read().split() == ["0", "0", "4294967295"]
    except OSError:
        initial = True
    return uid == 0 and initial


def main(args: list[str]) -> None:
    _import_judge()
    options = dict(zip(args[::2], args[1::2], strict=False))
    if "--connect" in options:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(options["--connect"])
    else:
        sock = socket.socket(fileno=int(options.get("--fd", "0")))
    try:
        enter_own_namespaces(sock)
        prepare_seccomp()  # refuse now on an architecture the filter does not know
        survey_mounts()
        server = Server(sock)
        server.ready.append(server.spawn())
        server.ready[0].wait_ready(STARTUP_TIMEOUT)
    except Exception as err:  # noqa: BLE001 - say why, in the hello, and stop
        wire.send_message(sock, {"ready": False, "error": f"{type(err).__name__}: {err}"})
        sys.exit(1)
    server.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
