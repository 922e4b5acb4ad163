"""BM25 search over the bundled corpus: the same scores as rank_bm25, and the right documents."""

from __future__ import annotations

import pytest

from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.envs.tools.search import BM25, Corpus, SearchTool, document_tokens, load_corpus, tokenize


def test_scores_match_rank_bm25() -> None:
    rank_bm25 = pytest.importorskip("rank_bm25")
    corpus = load_corpus()
    documents = [document_tokens(d) for d in corpus.documents]
    reference = rank_bm25.BM25Okapi(documents)
    ours = BM25(documents)
    for query in ("Braedale founded", "first rain gauge", "river Elva towns", "engineer born 1811 Vallen"):
        tokens = tokenize(query)
        assert ours.scores(tokens) == pytest.approx(list(reference.get_scores(tokens)), rel=1e-9, abs=1e-9)


def test_finds_each_town_by_name_first() -> None:
    corpus = load_corpus()
    towns = [d for d in corpus.documents if d.id.startswith("town/")]
    assert len(towns) == 36
    for town in towns:
        assert corpus.search(town.title, 1)[0][0].id == town.id


def test_tool_output_and_errors() -> None:
    tool = SearchTool(
        Corpus(
            [
                {"id": "a", "title": "Apple", "text": "A red fruit."},
                {"id": "b", "title": "Pear", "text": "A green fruit."},
                {"id": "c", "title": "Plum", "text": "A purple fruit."},
            ]
        )
    )
    out = tool.search("red", 2)
    assert out.startswith("[1] Apple (id: a)\nA red fruit.") and "Pear" not in out
    assert tool.search("zebra") == "No documents match 'zebra'."
    for query, k, problem in (
        ("", 1, "empty"),
        ("x" * 600, 1, "longer"),
        ("fruit", 0, "between 1 and 10"),
        ("fruit", 11, "between 1 and 10"),
    ):
        with pytest.raises(ToolError, match=problem):
            tool.search(query, k)
