"""The judge: runs hidden function tests against a candidate program it keeps at arm's length.

Standard library only. It runs as the job's ``main.py`` inside a sandbox; the candidate's source is
``candidate.py`` next to it. The hidden tests arrive on stdin *after* the candidate process has been
split off, and the verdict leaves on fd 3, a pipe only the judge holds. See ``harness.py`` for the threat
model; in short:

1. The judge makes itself non-dumpable, so no process of the same uid can ptrace it or read its
   ``/proc/<pid>/mem``, ``fd`` or ``environ``.
2. It forks the candidate process *before* reading stdin. The candidate closes stdin and fd 3 before
   any candidate code runs, so it never holds the tests (not on disk, not in its memory, not in an fd).
3. Every call ``candidate(...)`` in a test is a round trip over a socket: arguments go out as plain data,
   the return value comes back as JSON that the judge decodes into plain Python values (int, str, list,
   tuple, dict, set, ...). No object of the candidate ever reaches the judge, so an ``__eq__`` that always
   answers True, a patched ``assert`` or a redefined ``check`` cannot take part in a comparison.
4. The candidate exiting (``sys.exit``, ``os._exit``, atexit, excepthook), printing ``PASSED`` or
   returning exit code 0 means nothing: only the judge's lines on fd 3, carrying the per-run nonce
   that arrived with the tests, count as results.
"""

from __future__ import annotations

import ast
import base64
import builtins
import ctypes
import json
import keyword
import os
import signal
import socket
import struct
import sys
import time
import traceback

PR_SET_DUMPABLE = 4
CHANNEL_FD = 3
MAX_MESSAGE = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")
CANDIDATE_MODULE = "__candidate__"


# -- plain-data codec ------------------------------------------------------------------------------
class Unsupported(TypeError):
    """A value that is not plain data (only plain data crosses between judge and candidate)."""


def encode(value: object, depth: int = 0) -> object:
    """Plain Python data -> JSON-able structure with tags for the types JSON lacks."""
    if depth > 200:
        raise Unsupported("value nested too deeply")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -(1 << 53) < value < (1 << 53) else {"I": str(value)}
    if kind is float:
        return {"R": repr(value)}
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return encode(int(value), depth)
    if isinstance(value, float):
        return encode(float(value), depth)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return {"L": [encode(v, depth + 1) for v in value]}
    if isinstance(value, tuple):
        return {"T": [encode(v, depth + 1) for v in value]}
    if isinstance(value, frozenset):
        return {"F": [encode(v, depth + 1) for v in value]}
    if isinstance(value, set):
        return {"S": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"D": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, bytes | bytearray):
        return {"B": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, complex):
        return {"C": [repr(value.real), repr(value.imag)]}
    raise Unsupported(f"a value of type {type(value).__name__} is not plain data")


def decode(data: object, depth: int = 0) -> object:
    """The inverse of :func:`encode`; builds only plain built-in values (never calls foreign code).

    >>> value = [(1, "a"), {2: frozenset({3})}, b"x", 0.1, 2**70, None, {4.5}]
    >>> decode(json.loads(json.dumps(encode(value)))) == value
    True
    >>> decode({"L": [{"E": "evil"}]})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    feedback_gym.sandboxes._judge.Unsupported: unknown tag 'E'
    """
    if depth > 200:
        raise Unsupported("value nested too deeply")
    if data is None or type(data) in (bool, str, int):
        return data
    if type(data) is list:
        raise Unsupported("untagged list")
    if type(data) is not dict or len(data) != 1:
        raise Unsupported("malformed value")
    ((tag, body),) = data.items()
    if tag == "I":
        return int(body)
    if tag == "R":
        return float(body)
    if tag == "C":
        return complex(float(body[0]), float(body[1]))
    if tag == "B":
        return base64.b64decode(body)
    if type(body) is not list:
        raise Unsupported("malformed container")
    if tag == "L":
        return [decode(v, depth + 1) for v in body]
    if tag == "T":
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "S":
        return {decode(v, depth + 1) for v in body}
    if tag == "F":
        return frozenset(decode(v, depth + 1) for v in body)
    if tag == "D":
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in body}
    raise Unsupported(f"unknown tag {tag!r}")


def send(sock: socket.socket, message: object) -> None:
    body = json.dumps(message).encode()
    sock.sendall(_HEADER.pack(len(body)) + body)


def recv(sock: socket.socket) -> object:
    def exact(n: int) -> bytes:
        chunks = []
        while n:
            chunk = sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError("the program closed the connection")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    (size,) = _HEADER.unpack(exact(_HEADER.size))
    if size > MAX_MESSAGE:
        raise Unsupported(f"a message of {size} bytes is over the {MAX_MESSAGE} limit")
    return json.loads(exact(size))


# -- the candidate side ------------------------------------------------------------------------------
def serve_candidate(sock: socket.socket) -> None:
    """Load candidate.py and answer calls forever. Runs only in the candidate process."""
    module = type(sys)(CANDIDATE_MODULE)
    module.__file__ = os.path.abspath("candidate.py")
    sys.modules[CANDIDATE_MODULE] = module
    try:
        with open("candidate.py", "rb") as fh:
            source = fh.read()
        exec(compile(source, "candidate.py", "exec"), module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - the program's failure to load is a result
        _flush_output()
        send(sock, {"loaded": False, "error": _describe(exc)})
        return
    names = sorted(
        name for name, value in vars(module).items() if callable(value) and not name.startswith("__")
    )
    _flush_output()
    send(sock, {"loaded": True, "names": names})
    while True:
        request = recv(sock)
        try:
            function = getattr(module, request["name"])
            args = decode(request["args"])
            kwargs = decode(request["kwargs"])
            result = function(*args, **kwargs)
            reply = {"ok": encode(result)}
        except BaseException as exc:  # noqa: BLE001 - the program's exception is the result
            reply = {"error": _describe(exc)}
        _flush_output()  # the judge may kill this process right after the reply: prints must be out
        send(sock, reply)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001, S110 - a closed or replaced stream is the program's business
            pass


def _describe(exc: BaseException) -> dict:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": "".join(lines)[-4000:],
        "builtin": type(exc).__module__ == "builtins",
    }


def start_candidate_fork(keep_stdout: bool = True) -> tuple[int, socket.socket]:
    """Fork the first candidate process (before the tests are read: it never has them)."""
    judge_end, candidate_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            judge_end.close()
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            own = candidate_end.fileno()  # keep 0-2 and this socket; the channel and the rest go
            os.closerange(3, own)
            os.closerange(own + 1, 1 << 16)
            sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
            serve_candidate(candidate_end)
        except BaseException:  # noqa: BLE001
            pass
        finally:
            _linger()
    candidate_end.close()
    return pid, judge_end


def _linger() -> None:
    """Wait, doing nothing, for the sandbox to stop and kill this process at the end of the job.

    Exiting now would make the kernel tear the process down (~1 ms of CPU) just as the sandbox
    answers the caller; stopped, then killed after the answer, it costs the caller nothing.
    """
    try:
        while True:
            signal.pause()
    finally:
        os._exit(0)


def start_candidate_exec() -> tuple[int, socket.socket]:
    """Start a fresh candidate interpreter (after the tests were read: fork would copy them)."""
    import subprocess

    judge_end, candidate_end = socket.socketpair()
    process = subprocess.Popen(
        [
            sys.executable,
            "-I",
            "-S",
            __file__,  # this module by path: the copy the fork server imported (-I adds no sys.path entry)
            "--candidate",
            str(candidate_end.fileno()),
        ],
        stdin=subprocess.DEVNULL,
        pass_fds=[candidate_end.fileno()],
        close_fds=True,
    )
    candidate_end.close()
    return process.pid, judge_end


# -- the judge side ------------------------------------------------------------------------------
class CandidateError(Exception):
    """An exception raised inside the candidate program, re-raised in the judge as data."""

    def __init__(self, info: dict) -> None:
        super().__init__(f"{info['type']}: {info['message']}")
        self.info = info


class CandidateGone(Exception):
    """The candidate process died or stopped answering during a call."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _remote_error(info: dict) -> CandidateError:
    """A CandidateError that is also the builtin exception type the candidate raised (for try/except)."""
    base = getattr(builtins, info["type"], None) if info.get("builtin") else None
    if isinstance(base, type) and issubclass(base, Exception) and base is not CandidateError:
        try:
            cls = type(f"Candidate{info['type']}", (CandidateError, base), {})
            return cls(info)
        except TypeError:
            pass
    return CandidateError(info)


class Judge:
    """Holds the tests and the connection to the candidate; runs each test with a deadline."""

    def __init__(self, pid: int, sock: socket.socket, timeout: float) -> None:
        self.pid = pid
        self.sock = sock
        self.timeout = timeout
        self.deadline = 0.0
        self.names: list[str] = []
        self.load_error: dict | None = None

    def await_load(self) -> None:
        # Loading gets a generous floor: a fresh interpreter on a busy machine can take a second.
        self.sock.settimeout(max(self.timeout, 10.0))
        try:
            hello = recv(self.sock)
        except TimeoutError:
            self.load_error = {
                "kind": "timeout",
                "message": f"loading the program took over {self.timeout:g} s",
            }
            return
        except (EOFError, OSError, ValueError, Unsupported) as exc:
            self.load_error = {
                "kind": "runtime_error",
                "message": f"the program exited while loading ({exc})",
            }
            return
        if not isinstance(hello, dict) or not hello.get("loaded"):
            error = hello.get("error", {}) if isinstance(hello, dict) else {}
            self.load_error = {
                "kind": "runtime_error",
                "message": f"{error.get('type', 'Error')}: {error.get('message', '')}",
                "traceback": error.get("traceback", ""),
            }
            return
        self.names = [n for n in hello.get("names", []) if isinstance(n, str)]

    def call(self, name: str, args: tuple, kwargs: dict) -> object:
        try:
            request = {"name": name, "args": encode(args), "kwargs": encode(kwargs)}
        except Unsupported as exc:
            raise TypeError(f"the test passes an argument that is not plain data: {exc}") from None
        remaining = self.deadline - time.monotonic()
        if self.sock is None or remaining <= 0:
            raise CandidateGone("timeout", f"the test took over {self.timeout:g} s")
        try:
            self.sock.settimeout(remaining)
            send(self.sock, request)
            reply = recv(self.sock)
        except TimeoutError:
            self.restart()
            raise CandidateGone("timeout", f"{name}(...) did not return within {self.timeout:g} s") from None
        except (EOFError, OSError) as exc:
            self.restart()
            raise CandidateGone("runtime_error", f"the program exited during {name}(...) ({exc})") from None
        except (ValueError, Unsupported, RecursionError) as exc:
            self.restart()
            raise CandidateGone("runtime_error", f"{name}(...) sent an unreadable reply ({exc})") from None
        if not isinstance(reply, dict):
            raise CandidateGone("runtime_error", "malformed reply")
        if "error" in reply and isinstance(reply["error"], dict):
            info = reply["error"]
            info = {
                "type": str(info.get("type", "Error"))[:100],
                "message": str(info.get("message", ""))[:2000],
                "traceback": str(info.get("traceback", ""))[-4000:],
                "builtin": bool(info.get("builtin")),
            }
            raise _remote_error(info)
        try:
            return decode(reply.get("ok"))
        except (Unsupported, ValueError, TypeError, RecursionError, OverflowError) as exc:
            raise CandidateGone(
                "runtime_error", f"{name}(...) returned a value that is not plain data ({exc})"
            ) from None

    def restart(self) -> None:
        """Kill the candidate and start a fresh interpreter for the remaining tests."""
        self.stop()
        self.pid, self.sock = start_candidate_exec()
        saved, self.load_error = self.load_error, None
        self.await_load()
        if self.load_error is not None:
            self.stop()
        self.load_error = saved

    def release(self) -> None:
        """Hang up on the candidate without killing it: the sandbox stops and kills it after answering."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def stop(self) -> None:
        """Hang up on the candidate and kill it (a hung one, before a fresh interpreter replaces it)."""
        self.release()
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = 0

    def proxy(self, name: str):  # noqa: ANN201
        judge = self

        def remote(*args: object, **kwargs: object) -> object:
            return judge.call(name, args, kwargs)

        remote.__name__ = remote.__qualname__ = name
        return remote


def _thunk(expr: ast.expr) -> ast.Lambda:
    """``lambda: expr`` so the judge records the call text before evaluating it (errors included)."""
    args = ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )
    return ast.Lambda(args, expr)


class _EqualityRecorder(ast.NodeTransformer):
    """Rewrite top-level ``assert A == B`` so the judge can report input, expected and got."""

    def visit_Assert(self, node: ast.Assert) -> ast.AST:  # noqa: N802
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            call = ast.Call(
                ast.Name("__fg_eq__", ast.Load()),
                [_thunk(test.left), _thunk(test.comparators[0]), ast.Constant(ast.unparse(test.left))],
                [],
            )
            new = ast.Assert(call, node.msg)
            return ast.copy_location(new, node)
        return node


def _short(value: object, limit: int = 500) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def compile_tests(tests: list[str]) -> list[object]:
    """Each test compiled (asserts rewritten to record input/expected/got), or its SyntaxError.

    Done while the candidate process loads its program on the other core.
    """
    compiled: list[object] = []
    for test in tests:
        try:
            tree = _EqualityRecorder().visit(ast.parse(test, "<test>", "exec"))
            compiled.append(compile(ast.fix_missing_locations(tree), "<test>", "exec"))
        except SyntaxError as exc:
            compiled.append(exc)
    return compiled


def run_tests(spec: dict, judge: Judge, emit, compiled: list[object]) -> None:  # noqa: ANN001
    namespace: dict = {"__builtins__": builtins, "__name__": "__tests__"}
    last: dict = {}

    def eq(got_thunk, expected_thunk, call_text: str) -> bool:  # noqa: ANN001
        last.update(input=call_text)
        got = got_thunk()
        last.update(got=_short(got))
        expected = expected_thunk()
        last.update(expected=_short(expected))
        return got == expected

    for name in judge.names:
        # Never let the program answer for a builtin (``abs``, ``len``, ``isinstance``) or our hooks.
        if (
            name.isidentifier()
            and not keyword.iskeyword(name)
            and not hasattr(builtins, name)
            and not name.startswith("__fg")
        ):
            namespace[name] = judge.proxy(name)
    entry = spec["entry_point"]
    # ``candidate`` always means the entry point (a program's own function named ``candidate`` never
    # answers for it); a missing entry point fails each call with the program's AttributeError.
    namespace[entry] = namespace["candidate"] = judge.proxy(entry)
    namespace["__fg_eq__"] = eq
    judge.deadline = time.monotonic() + judge.timeout * 4
    try:
        if spec.get("setup"):
            exec(compile(spec["setup"], "<setup>", "exec"), namespace)
    except Exception as exc:  # noqa: BLE001
        for index in range(len(spec["tests"])):
            emit(index, False, "internal_error", f"the test set-up failed: {type(exc).__name__}: {exc}")
        return
    for index, code in enumerate(compiled):
        last.clear()
        if judge.load_error is not None:
            emit(
                index,
                False,
                judge.load_error["kind"],
                judge.load_error["message"],
                detail=judge.load_error.get("traceback"),
            )
            continue
        if isinstance(code, SyntaxError):
            emit(index, False, "internal_error", f"the test does not compile: {code}")
            continue
        judge.deadline = time.monotonic() + judge.timeout
        try:
            exec(code, namespace)
        except CandidateGone as exc:
            emit(index, False, exc.kind, str(exc), **last)
        except CandidateError as exc:
            emit(index, False, "runtime_error", str(exc), detail=exc.info.get("traceback"), **last)
        except AssertionError as exc:
            message = str(exc) or ("wrong answer" if last else "an assertion failed")
            emit(index, False, "wrong_answer", message, **last)
        except Exception as exc:  # noqa: BLE001 - e.g. comparing None with an int
            emit(index, False, "runtime_error", f"{type(exc).__name__}: {exc}", **last)
        else:
            emit(index, True, None, "", **last)


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--candidate":  # a restarted candidate interpreter
        serve_candidate(socket.socket(fileno=int(sys.argv[2])))
        os._exit(0)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    channel = os.fdopen(CHANNEL_FD, "w", encoding="utf-8", buffering=1 << 20)
    pid, sock = start_candidate_fork()
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else os.read(0, 1 << 30)
    os.close(0)
    spec = json.loads(raw)
    nonce = spec["nonce"]

    last_flush = [time.monotonic()]

    def emit(index: int, passed: bool, kind: str | None, message: str, **extra: object) -> None:
        # Buffered: one write at the end costs the caller one wake-up instead of one per test; results
        # still leave every half second, so a judge killed late in a long run keeps its early results.
        line = {"nonce": nonce, "index": index, "passed": passed, "kind": kind, "message": message[:4000]}
        line.update({k: v for k, v in extra.items() if v is not None})
        channel.write(json.dumps(line) + "\n")
        if time.monotonic() - last_flush[0] > 0.5:
            channel.flush()
            last_flush[0] = time.monotonic()

    judge = Judge(pid, sock, float(spec["timeout"]))
    compiled = compile_tests(spec["tests"])
    judge.await_load()
    try:
        run_tests(spec, judge, emit, compiled)
    finally:
        judge.release()
        channel.write(json.dumps({"nonce": nonce, "done": True}) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
