"""The search tool: ranked retrieval (Okapi BM25) over a local corpus, no network.

A corpus is a JSON Lines file of ``{"id", "title", "text"}`` documents; the bundled one,
``data/atlas.jsonl``, describes invented towns, rivers and engineers. BM25 is a dozen lines here,
so the core needs no extra dependency for it; ``rank_bm25.BM25Okapi`` computes the same scores
(checked in the tests).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.errors import ConfigError
from feedback_gym.tasks import read_jsonl

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CORPUS = DATA_DIR / "atlas.jsonl"
MAX_RESULTS = 10
MAX_QUERY_CHARS = 500

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (digits kept, punctuation dropped).

    >>> tokenize("Veltmark, founded in 1283!")
    ['veltmark', 'founded', 'in', '1283']
    """
    return _TOKEN.findall(text.lower())


class BM25:
    """Okapi BM25 scores of tokenized documents (``k1=1.5``, ``b=0.75``, ``epsilon=0.25``).

    The IDF follows ``rank_bm25.BM25Okapi``: terms that occur in more than half of the documents
    get ``epsilon`` times the mean IDF instead of a negative weight.

    >>> bm25 = BM25([["red", "apple"], ["green", "pear"], ["red", "red", "cherry"]])
    >>> scores = bm25.scores(["red", "cherry"])
    >>> max(range(3), key=scores.__getitem__)
    2
    """

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75,
                 epsilon: float = 0.25) -> None:
        if not documents:
            raise ConfigError("BM25 needs at least one document")
        self.k1, self.b = k1, b
        self.lengths = [len(d) for d in documents]
        self.average_length = sum(self.lengths) / len(documents) or 1.0
        self.frequencies = [Counter(d) for d in documents]
        document_frequency: Counter[str] = Counter()
        for counts in self.frequencies:
            document_frequency.update(counts.keys())
        count = len(documents)
        idf = {t: math.log(count - n + 0.5) - math.log(n + 0.5) for t, n in document_frequency.items()}
        floor = epsilon * (sum(idf.values()) / len(idf) if idf else 0.0)
        self.idf = {t: (v if v >= 0 else floor) for t, v in idf.items()}

    def scores(self, query: Sequence[str]) -> list[float]:
        """The BM25 score of every document for ``query`` (in document order)."""
        out = []
        for counts, length in zip(self.frequencies, self.lengths, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / self.average_length)
            score = 0.0
            for term in query:
                tf = counts.get(term, 0)
                if tf:
                    score += self.idf.get(term, 0.0) * tf * (self.k1 + 1) / (tf + norm)
            out.append(score)
        return out


@dataclass(frozen=True)
class Document:
    """One corpus document."""

    id: str
    title: str
    text: str


#: How many times a title's words count (a simple BM25F-style field weight: a town's own page
#: should outrank a short page that merely mentions it).
TITLE_WEIGHT = 3


def document_tokens(document: Document) -> list[str]:
    """The indexed tokens of a document: the title ``TITLE_WEIGHT`` times, then the text.

    >>> document_tokens(Document("a", "Elva", "A river."))
    ['elva', 'elva', 'elva', 'a', 'river']
    """
    return tokenize(document.title) * TITLE_WEIGHT + tokenize(document.text)


class Corpus:
    """Documents plus their BM25 index; :meth:`search` returns the best matches."""

    def __init__(self, documents: Sequence[Document | Mapping[str, Any]]) -> None:
        docs = []
        for raw in documents:
            if isinstance(raw, Document):
                docs.append(raw)
                continue
            if not isinstance(raw.get("id"), str) or not isinstance(raw.get("text"), str):
                raise ConfigError("every corpus document needs a string 'id' and 'text'")
            docs.append(Document(raw["id"], str(raw.get("title", raw["id"])), raw["text"]))
        if not docs:
            raise ConfigError("a corpus needs at least one document")
        self.documents = tuple(docs)
        self.index = BM25([document_tokens(d) for d in docs])

    @classmethod
    def from_jsonl(cls, path: str | Path) -> Corpus:
        """Load a JSON Lines corpus (one ``{"id", "title", "text"}`` object per line)."""
        return cls(read_jsonl(path))

    def search(self, query: str, k: int = 3) -> list[tuple[Document, float]]:
        """The ``k`` best documents for ``query`` with their scores (zero-score matches dropped)."""
        scores = self.index.scores(tokenize(query))
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [(self.documents[i], scores[i]) for i in ranked[:k] if scores[i] > 0]


@lru_cache(maxsize=8)
def load_corpus(path: str = str(DEFAULT_CORPUS)) -> Corpus:
    """Load (once per process) the corpus at ``path``."""
    return Corpus.from_jsonl(path)


class SearchTool:
    """The ``search`` tool bound to one corpus."""

    def __init__(self, corpus: Corpus | None = None) -> None:
        self.corpus = corpus if corpus is not None else load_corpus()

    def search(self, query: str, k: int = 3) -> str:
        """Search the local encyclopedia (invented towns, rivers and engineers) by keywords.

        Returns the best-matching documents, best first, each with its id, title and text.

        Args:
            query: Keywords, e.g. a name ("Braedale") or a phrase ("rain gauge inventor").
            k: How many documents to return (1 to 10).
        """
        if not query.strip():
            raise ToolError("the query is empty; give a few keywords")
        if len(query) > MAX_QUERY_CHARS:
            raise ToolError(f"the query is longer than {MAX_QUERY_CHARS} characters")
        if not 1 <= k <= MAX_RESULTS:
            raise ToolError(f"k must be between 1 and {MAX_RESULTS}; got {k}")
        hits = self.corpus.search(query, k)
        if not hits:
            return f"No documents match {query!r}."
        return "\n\n".join(f"[{i}] {doc.title} (id: {doc.id})\n{doc.text}" for i, (doc, _) in
                           enumerate(hits, start=1))
