"""The judge: runs hidden function tests against a candidate program it keeps at arm's length.

Standard library only. The fork server imports it once at start (from a read-only path) and runs it in
the job's init process: pid 1 of the job's namespaces, non-dumpable, with a ``sys.path`` that holds the
read-only standard library alone. The program under test, ``candidate.py`` in the work dir, runs in
another process. See ``harness.py`` for the threat model; in short:

1. **Sealed.** Everything the judge and the tests import comes from the standard library and the wire
   module shipped read-only beside this file (``_wire.py``), loaded by the fork server before the
   program runs; nothing is ever imported from a directory the program can write. The
   candidate cannot signal the judge (the kernel drops signals to a namespace's init), trace it or read
   its memory (non-dumpable; ptrace and ``process_vm_*`` are refused by seccomp).
2. **Unseen tests.** The candidate process exists *before* the judge reads the tests from stdin, and
   holds neither stdin nor the verdict channel, so it never holds the tests (not on disk, not in its
   memory, not in an fd).
3. **Values, not objects.** Every call ``candidate(...)`` in a test is a round trip over a socket:
   arguments go out as plain data, the return value comes back as JSON that the judge decodes, within a
   size, depth and time bound, into plain Python values. No object of the candidate reaches the judge,
   so an ``__eq__`` that always answers True or a patched ``assert`` cannot take part in a comparison.
   An exception the candidate raises is data: it comes back as its type name and message and can never
   be one that steers the judge's own control flow (``StopIteration`` ending a ``map`` or ``all``).
4. **The task's names are the task's.** Helpers the task defines (HumanEval's ``poly``) run in the
   judge from the task's own source; the program's versions never answer for them.
5. **Only the judge's word counts.** Exit codes, printed text, ``sys.exit`` or ``os._exit`` in the
   candidate mean nothing: only the judge's lines on fd 3, with the per-run nonce that arrived with the
   tests, count as results.
6. **One time budget.** Each test has a timeout and all tests share a budget; after a timeout the rest
   are reported as not run, so an infinite loop costs one timeout per check, not one per test.
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
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

if __package__:  # on the host (``feedback_gym.sandboxes._judge``), for tests and doctests
    from feedback_gym.sandboxes import _wire as wire
else:  # inside the boundary: the wire module sits read-only next to this file (the fork server has
    # already imported it at start, before any program existed; a candidate interpreter imports it here)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import feedback_gym_wire as wire
    finally:
        del sys.path[0]

PR_SET_DUMPABLE = 4
CHANNEL_FD = 3
MAX_MESSAGE = 16 * 1024 * 1024
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


class _Clock:
    """A deadline checked every few hundred elements while decoding (sets of colliding hashes are slow)."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.deadline is not None and self.count % 256 == 0 and time.monotonic() > self.deadline:
            raise Unsupported("decoding the value took too long")


def decode(data: object, depth: int = 0, clock: _Clock | None = None) -> object:
    """The inverse of :func:`encode`; builds only plain built-in values (never calls foreign code).

    Bounded: nesting past 200 levels, an unknown tag or (with a ``clock``) a deadline passed raises
    :class:`Unsupported`. Sets and dicts are filled one element at a time, so a value built to collide
    in its hashes costs at most the time left, not minutes.

    >>> value = [(1, "a"), {2: frozenset({3})}, b"x", 0.1, 2**70, None, {4.5}]
    >>> decode(json.loads(json.dumps(encode(value)))) == value
    True
    >>> decode({"L": [{"E": "evil"}]})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    feedback_gym.sandboxes._judge.Unsupported: unknown tag 'E'
    """
    clock = clock or _Clock(None)
    clock.tick()
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
        return int(str(body))
    if tag == "R":
        return float(str(body))
    if tag == "C":
        return complex(float(str(body[0])), float(str(body[1])))
    if tag == "B":
        return base64.b64decode(str(body))
    if type(body) is not list:
        raise Unsupported("malformed container")
    if tag == "L":
        return [decode(v, depth + 1, clock) for v in body]
    if tag == "T":
        return tuple(decode(v, depth + 1, clock) for v in body)
    if tag in ("S", "F"):
        items: set = set()
        for v in body:
            items.add(decode(v, depth + 1, clock))
        return items if tag == "S" else frozenset(items)
    if tag == "D":
        mapping: dict = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise Unsupported("malformed dict item")
            mapping[decode(pair[0], depth + 1, clock)] = decode(pair[1], depth + 1, clock)
        return mapping
    raise Unsupported(f"unknown tag {tag!r}")


def recv(sock: socket.socket, deadline: float | None = None) -> object:
    """One message; with a ``deadline``, the *whole* message must arrive by then."""
    return wire.recv_message(sock, MAX_MESSAGE, deadline)


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
        wire.send_message(sock, {"loaded": False, "error": _describe(exc)})
        return
    names = sorted(
        name for name, value in vars(module).items() if callable(value) and not name.startswith("__")
    )
    _flush_output()
    wire.send_message(sock, {"loaded": True, "names": names})
    while True:
        request = recv(sock)
        try:
            function = getattr(module, request["name"])
            args = decode(request["args"])
            kwargs = decode(request["kwargs"])
            result = function(*args, **kwargs)
            reply = {"ok": encode(result)}
            if request.get("return_args"):  # the task forbids mutating arguments: show them as they are
                reply["args"], reply["kwargs"] = encode(args), encode(kwargs)
        except BaseException as exc:  # noqa: BLE001 - the program's exception is the result
            reply = {"error": _describe(exc)}
        _flush_output()  # the judge may kill this process right after the reply: prints must be out
        wire.send_message(sock, reply)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or replaced stream is the program's business
            pass


def _describe(exc: BaseException) -> dict:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": "".join(lines)[-4000:],
        "builtin": type(exc).__module__ == "builtins",
    }


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


def start_candidate_exec(preexec: Callable[[], None] | None) -> tuple[int, socket.socket]:
    """Start a fresh candidate interpreter (after the tests were read: a fork would copy them)."""
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
        preexec_fn=preexec,  # the job's limits
    )
    candidate_end.close()
    return process.pid, judge_end


# -- the judge side ------------------------------------------------------------------------------
#: Exceptions that steer iteration (``map``, ``zip``, ``all``, generators) or the judge: a candidate
#: raising one of them is reported as a plain :class:`CandidateError`, never re-raised as that type.
CONTROL_FLOW_EXCEPTIONS = (StopIteration, StopAsyncIteration, AssertionError)


class CandidateError(Exception):
    """An exception raised inside the candidate program, re-raised in the judge as data."""

    def __init__(self, info: dict) -> None:
        super().__init__(f"{info['type']}: {info['message']}")
        self.info = info


class CandidateMutated(Exception):
    """The candidate changed an argument of a task that forbids it (a wrong answer, not a crash)."""


class CandidateGone(Exception):
    """The candidate process died or stopped answering during a call."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _remote_error(info: dict) -> CandidateError:
    """A CandidateError that is also the builtin exception type the candidate raised (for try/except)."""
    base = getattr(builtins, info["type"], None) if info.get("builtin") else None
    if (
        isinstance(base, type)
        and issubclass(base, Exception)
        and not issubclass(base, CONTROL_FLOW_EXCEPTIONS)
        and base is not CandidateError
    ):
        try:
            cls = type(f"Candidate{info['type']}", (CandidateError, base), {})
            return cls(info)
        except TypeError:
            pass
    return CandidateError(info)


class Judge:
    """Holds the connection to the candidate; runs each call with the test's deadline.

    Args:
        sock: The first candidate's socket (the sandbox's waiting program process).
        preexec: Applies the job's limits in a restarted candidate before it execs.
        timeout: Seconds per test (the program's load counts as one test).
        budget: Seconds for all tests together; past it, the rest are not run.
        forbid_mutation: Compare each call's arguments after the call with what was sent.
    """

    def __init__(
        self,
        sock: socket.socket,
        preexec: Callable[[], None] | None,
        timeout: float,
        budget: float,
        forbid_mutation: bool = False,
    ) -> None:
        self.sock: socket.socket | None = sock
        self.pid = 0  # the first candidate is the sandbox's program process: ended by the sandbox
        self.preexec = preexec
        self.timeout = timeout
        self.budget_end = time.monotonic() + budget
        self.forbid_mutation = forbid_mutation
        self.deadline = 0.0
        self.names: list[str] = []
        self.load_error: dict | None = None

    def remaining_budget(self) -> float:
        return self.budget_end - time.monotonic()

    def await_load(self) -> None:
        deadline = time.monotonic() + min(self.timeout, max(0.0, self.remaining_budget()))
        try:
            hello = recv(self.sock, deadline)
        except TimeoutError:
            self.load_error = {
                "kind": wire.TIMEOUT,
                "message": f"loading the program took over {self.timeout:g} s",
            }
            return
        except (EOFError, OSError, ValueError, Unsupported, RecursionError) as exc:
            self.load_error = {
                "kind": wire.RUNTIME_ERROR,
                "message": f"the program exited while loading ({exc})",
            }
            return
        if not isinstance(hello, dict) or not hello.get("loaded"):
            error = hello.get("error", {}) if isinstance(hello, dict) else {}
            error = error if isinstance(error, dict) else {}
            self.load_error = {
                "kind": wire.RUNTIME_ERROR,
                "message": f"{str(error.get('type', 'Error'))[:100]}: {str(error.get('message', ''))[:2000]}",
                "traceback": str(error.get("traceback", ""))[-4000:],
            }
            return
        names = hello.get("names", [])
        self.names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def call(self, name: str, args: tuple, kwargs: dict) -> object:
        try:
            request = {"name": name, "args": encode(args), "kwargs": encode(kwargs)}
        except Unsupported as exc:
            raise TypeError(f"the test passes an argument that is not plain data: {exc}") from None
        if self.forbid_mutation:
            request["return_args"] = True
        if self.sock is None or time.monotonic() >= self.deadline:
            raise CandidateGone(wire.TIMEOUT, f"the test took over {self.timeout:g} s")
        try:
            self.sock.settimeout(max(0.001, self.deadline - time.monotonic()))
            wire.send_message(self.sock, request)
            reply = recv(self.sock, self.deadline)
        except TimeoutError:
            self.stop()
            raise CandidateGone(
                wire.TIMEOUT, f"{name}(...) did not return within {self.timeout:g} s"
            ) from None
        except (EOFError, OSError) as exc:
            self.restart()
            raise CandidateGone(
                wire.RUNTIME_ERROR, f"the program exited during {name}(...) ({exc})"
            ) from None
        except (ValueError, Unsupported, RecursionError) as exc:
            self.restart()
            raise CandidateGone(wire.RUNTIME_ERROR, f"{name}(...) sent an unreadable reply ({exc})") from None
        if not isinstance(reply, dict):
            raise CandidateGone(wire.RUNTIME_ERROR, "malformed reply")
        if "error" in reply and isinstance(reply["error"], dict):
            info = reply["error"]
            info = {
                "type": str(info.get("type", "Error"))[:100],
                "message": str(info.get("message", ""))[:2000],
                "traceback": str(info.get("traceback", ""))[-4000:],
                "builtin": bool(info.get("builtin")),
            }
            raise _remote_error(info)
        sent = (request["args"], request["kwargs"])
        if self.forbid_mutation and (reply.get("args"), reply.get("kwargs")) != sent:
            raise CandidateMutated(f"{name}(...) changed its arguments, which this task forbids")
        try:
            return decode(reply.get("ok"), clock=_Clock(self.deadline))
        except (Unsupported, ValueError, TypeError, RecursionError, OverflowError) as exc:
            raise CandidateGone(
                wire.RUNTIME_ERROR, f"{name}(...) returned a value that is not plain data ({exc})"
            ) from None

    def restart(self) -> None:
        """End the candidate (and everything it started) and start a fresh interpreter for the next test."""
        self.stop()
        if self.remaining_budget() <= 0:
            return
        try:
            self.pid, self.sock = start_candidate_exec(self.preexec)
        except OSError as exc:  # e.g. the program used up the job's processes: the rest fail
            self.load_error = {
                "kind": wire.RUNTIME_ERROR, "message": f"the program could not restart ({exc})"
            }
            return
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
        """Hang up on the candidate and kill it with everything it started."""
        self.release()
        if os.getpid() == 1:  # the job's init: kill(-1) reaches exactly the job's other processes
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while True:
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    break
        elif self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self.pid = 0

    def proxy(self, name: str):
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

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
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




def run_tests(spec: dict, judge: Judge, emit, compiled: list[object]) -> None:
    namespace: dict = {"__builtins__": builtins, "__name__": "__tests__"}
    last: dict = {}

    def eq(got_thunk, expected_thunk, call_text: str) -> bool:
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
    try:
        # The task's own helpers (``poly`` in HumanEval/32), then its set-up: both are the task's code,
        # run after the proxies, so a program's function of the same name never answers for them.
        for part, label in ((spec.get("helpers"), "<helpers>"), (spec.get("setup"), "<setup>")):
            if part:
                exec(compile(part, label, "exec"), namespace)
        namespace[entry] = namespace["candidate"] = judge.proxy(entry)
    except Exception as exc:  # noqa: BLE001
        for index in range(len(spec["tests"])):
            emit(index, False, wire.INTERNAL_ERROR, f"the test set-up failed: {type(exc).__name__}: {exc}")
        return
    stopped = ""
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
            emit(index, False, wire.INTERNAL_ERROR, f"the test does not compile: {code}")
            continue
        if not stopped and judge.remaining_budget() <= 0:
            stopped = "the tests' time budget was spent"
        if stopped:
            emit(index, False, wire.NOT_RUN, f"not run: {stopped}")
            continue
        judge.deadline = time.monotonic() + min(judge.timeout, judge.remaining_budget())
        try:
            exec(code, namespace)
        except CandidateGone as exc:
            emit(index, False, exc.kind, str(exc), **last)
            if exc.kind == wire.TIMEOUT:
                stopped = f"test {index + 1} timed out, so the remaining tests were skipped"
        except CandidateError as exc:
            emit(index, False, wire.RUNTIME_ERROR, str(exc), detail=exc.info.get("traceback"), **last)
        except CandidateMutated as exc:
            emit(index, False, wire.WRONG_ANSWER, str(exc), **last)
        except AssertionError as exc:
            message = str(exc) or ("wrong answer" if last else "an assertion failed")
            emit(index, False, wire.WRONG_ANSWER, message, **last)
        except Exception as exc:  # noqa: BLE001 - e.g. comparing None with an int
            emit(index, False, wire.RUNTIME_ERROR, f"{type(exc).__name__}: {exc}", **last)
        else:
            emit(index, True, None, "", **last)


def main(first_candidate: Callable[[], socket.socket], candidate_preexec: Callable[[], None] | None) -> int:
    """Judge one program: stdin carries the spec, fd 3 takes the verdict; returns the exit code.

    Called by the fork server in the job's init process. The candidate is started (``first_candidate``)
    before the spec is read, so it never holds the tests.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    channel = os.fdopen(CHANNEL_FD, "w", encoding="utf-8", buffering=1 << 20)
    start = time.monotonic()
    sock = first_candidate()
    raw = b"".join(iter(lambda: os.read(0, 1 << 20), b""))
    os.close(0)
    spec = json.loads(raw)
    nonce = spec["nonce"]
    timeout = float(spec["timeout"])
    budget = float(spec.get("budget") or timeout * (len(spec["tests"]) + 1))

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

    judge = Judge(sock, candidate_preexec, timeout, budget - (time.monotonic() - start),
                  bool(spec.get("forbid_mutation")))
    compiled = compile_tests(spec["tests"])
    judge.await_load()
    try:
        run_tests(spec, judge, emit, compiled)
    finally:
        judge.release()
        channel.write(json.dumps({"nonce": nonce, "done": True}) + "\n")
        channel.flush()
    return 0


def candidate_main(sock: socket.socket) -> None:
    """Be the candidate: serve calls until the judge hangs up, then wait to be stopped. Never returns."""
    try:
        serve_candidate(sock)
    except BaseException:  # noqa: BLE001 - the judge hung up (EOF) or the program broke the process
        pass
    finally:
        _linger()


if __name__ == "__main__" and len(sys.argv) >= 3 and sys.argv[1] == "--candidate":
    candidate_main(socket.socket(fileno=int(sys.argv[2])))
