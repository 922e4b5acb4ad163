r"""Text spaces and the cleaning that keeps every observation inside them.

Gymnasium's ``Text`` space checks membership character by character against a fixed charset, so the
charset must be wide enough for code, maths and prose, yet small enough to build quickly for every
environment. Characters outside it (control characters, lone surrogates, rare scripts) are rendered
as visible escapes such as ``\x00`` or ``\u{1f600}`` by :func:`clean_text`, never dropped silently,
so an agent still sees that they were there.

The spaces are :class:`FeedbackText`, a ``Text`` whose observations survive Gymnasium's
``AsyncVectorEnv`` shared memory: Gymnasium decodes a ``Text`` buffer into strings once, when the
vector env is built, so ``gym.make_vec(id, vectorization_mode="async")`` returned the empty buffer
(100 000 tab characters) forever after. A :class:`FeedbackText` buffer is read as
:class:`SharedTexts`, a view decoded on access.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, overload

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import read_from_shared_memory

#: The most characters an observation may hold; longer text is cut with a visible marker.
MAX_OBSERVATION_CHARS = 100_000
#: The most characters of an action the environments read; longer actions get feedback saying so.
MAX_ACTION_CHARS = 100_000

_UNICODE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00A0, 0x024F),  # Latin-1 supplement, Latin extended A/B
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x2000, 0x200A),  # typographic spaces
    (0x2010, 0x2027),  # dashes, quotes, bullets, ellipsis
    (0x2030, 0x205E),  # per mille, primes, more punctuation
    (0x2070, 0x209C),  # super- and subscripts
    (0x20A0, 0x20C0),  # currency
    (0x2100, 0x23FF),  # letterlike, number forms, arrows, maths operators, technical
    (0x2460, 0x27BF),  # enclosed numbers, box drawing, shapes, symbols, dingbats
    (0x27C0, 0x2BFF),  # more maths and arrows
    (0xFFFD, 0xFFFD),  # the replacement character
)


@lru_cache(maxsize=1)
def charset() -> str:
    r"""Return the characters every feedback-gym text space accepts.

    Printable ASCII, tab and newline, and the Unicode blocks that code, maths and European prose
    use. Carriage returns are not included: :func:`clean_text` turns ``\r\n`` into ``\n``.

    >>> "∫" in charset() and "é" in charset() and "\x00" not in charset()
    True
    """
    chars = ["\t", "\n"] + [chr(c) for c in range(0x20, 0x7F)]
    for start, end in _UNICODE_RANGES:
        chars.extend(chr(c) for c in range(start, end + 1))
    return "".join(chars)


@lru_cache(maxsize=1)
def _allowed() -> frozenset[str]:
    return frozenset(charset())


class FeedbackText(spaces.Text):
    """A ``gymnasium.spaces.Text`` whose batches in an ``AsyncVectorEnv``'s shared memory stay readable."""


class SharedTexts(Sequence[str]):
    """The texts an ``AsyncVectorEnv``'s workers last wrote into shared memory, decoded on access.

    The vector env hands out a deep copy of its observations (a tuple of ``str``, which is what
    ``__deepcopy__`` returns) unless it was built with ``copy=False``; then this live view is handed
    out, as Gymnasium does for arrays.
    """

    def __init__(self, space: spaces.Text, shared_memory: Any, n: int) -> None:
        self._rows = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape((n, space.max_length))
        self._chars = np.array(space.character_list + ("",))  # the padding index decodes to nothing
        self._padding = len(space.character_set)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        row = self._rows[index]
        ends = np.flatnonzero(row == self._padding)
        return "".join(self._chars[row[: ends[0] if ends.size else row.size]])

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]  # a live view changes

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        return repr(tuple(self))


@read_from_shared_memory.register(FeedbackText)
def _read_texts(space: FeedbackText, shared_memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(space, shared_memory, n)


def text_space(max_length: int, chars: str | None = None) -> FeedbackText:
    """A :class:`FeedbackText` over ``chars`` (default :func:`charset`) of 0..``max_length`` characters."""
    return FeedbackText(max_length=max_length, min_length=0, charset=chars or charset())


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{{{code:x}}}"


def clean_text(text: str, max_chars: int = MAX_OBSERVATION_CHARS) -> str:
    r"""Make ``text`` fit a feedback-gym text space: escape what the charset lacks, cap the length.

    >>> clean_text("a\x00b\r\nc")
    'a\\x00b\nc'
    >>> clean_text("\ud800")
    '\\u{d800}'
    >>> len(clean_text("x" * 500, max_chars=100)) <= 100
    True
    """
    text = text.replace("\r\n", "\n")
    allowed = _allowed()
    if not all(ch in allowed for ch in text):
        text = "".join(ch if ch in allowed else _escape(ch) for ch in text)
    if len(text) > max_chars:
        marker = f"\n[... cut: {len(text) - max_chars} more characters ...]"
        keep = max(0, max_chars - len(marker) - 16)
        text = text[:keep] + f"\n[... cut: {len(text) - keep} more characters ...]"
        text = text[:max_chars]
    return text


def coerce_action(action: object) -> tuple[str | None, str | None]:
    r"""Turn whatever was passed to ``step`` into text, or explain why it cannot be read.

    Returns ``(text, None)`` on success and ``(None, problem)`` otherwise. Bytes are decoded as
    UTF-8 with replacement characters; other types are refused with a message.

    >>> coerce_action("print(1)")
    ('print(1)', None)
    >>> coerce_action(b"\xff")
    ('\ufffd', None)
    >>> coerce_action(3)[1]
    'the action must be text (str); got int'
    """
    if isinstance(action, str):
        return action, None
    if isinstance(action, (bytes, bytearray, memoryview)):
        return bytes(action).decode("utf-8", errors="replace"), None
    if hasattr(action, "item") and isinstance(action.item(), str):  # numpy str_
        return str(action), None
    return None, f"the action must be text (str); got {type(action).__name__}"
