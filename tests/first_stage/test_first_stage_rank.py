"""The first stage itself: BM25 and the embedding model ranking chunks and documents."""

from __future__ import annotations

import subprocess
import sys

import bm25s
import pytest

from workbench.engine.types import ChunkSpan, Document
from workbench.first_stage import moved, rank_first_stage
from workbench.first_stage.bm25 import bm25_scores


def whole(documents: list[Document]) -> dict[str, list[ChunkSpan]]:
    return {d.id: [ChunkSpan(d.id, 0, 0, len(d.text), 0)] for d in documents}


def halves(documents: list[Document]) -> dict[str, list[ChunkSpan]]:
    """Two chunks per document, cut at its first blank line or its middle."""
    out = {}
    for d in documents:
        cut = d.text.find("\n\n") if "\n\n" in d.text else len(d.text) // 2
        out[d.id] = [ChunkSpan(d.id, 0, 0, cut, 0), ChunkSpan(d.id, 1, cut, len(d.text), 0)]
    return out


CORPUS = [
    Document("a", "The rover crossed the crater rim.\n\nSolar panels lost power in a dust storm."),
    Document("b", "Grind the coffee finer.\n\nA dust storm on Mars ended the rover mission of Opportunity."),
    Document("c", "Parking for visitors is on level two.\n\nThe gate code is at reception."),
]


def test_bm25_puts_the_chunk_with_the_query_words_first():
    ranking = rank_first_stage("bm25", "dust storm rover mission", CORPUS, halves(CORPUS))
    assert ranking.chunks[0].doc_id == "b" and ranking.chunks[0].chunk.index == 1
    words = {"dust", "storm", "rover", "mission"}
    for c in ranking.chunks:  # every chunk with none of the words ranks below every chunk with one
        text = CORPUS[[d.id for d in CORPUS].index(c.doc_id)].text[c.chunk.start : c.chunk.end].lower()
        if not words & set(text.replace(".", " ").split()):
            assert c.logit == 0.0 and ranking.chunk_ranks[(c.doc_id, c.chunk.index)] > 2
    assert ranking.documents[-1].doc_id == "c"


def test_bm25_ranks_equal_an_independent_bm25s_retrieval():
    spans = halves(CORPUS)
    texts = [CORPUS[[d.id for d in CORPUS].index(s.doc_id)].text[s.start : s.end] for v in spans.values() for s in v]
    keys = [(s.doc_id, s.index) for v in spans.values() for s in v]
    query = "rover dust storm crater"
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    hits, scores = retriever.retrieve(bm25s.tokenize([query], stopwords="en", show_progress=False), k=len(texts),
                                      show_progress=False)
    ranking = rank_first_stage("bm25", query, CORPUS, spans)
    positive = [(keys[i], float(s)) for i, s in zip(hits[0], scores[0]) if s > 0]
    assert len({s for _, s in positive}) == len(positive) >= 3  # distinct scores: the order is defined
    assert [(k, pytest.approx(s)) for k, s in positive] == [
        ((c.doc_id, c.chunk.index), c.logit) for c in ranking.chunks[: len(positive)]]


def test_a_document_is_its_best_chunk_and_ties_keep_the_given_order():
    ranking = rank_first_stage("bm25", "gate code", CORPUS, halves(CORPUS))
    best = max(ranking.chunks, key=lambda c: c.logit)
    assert ranking.documents[0].doc_id == best.doc_id == "c"
    assert ranking.document_score("c") == pytest.approx(best.logit)
    assert [d.doc_id for d in ranking.documents[1:]] == ["a", "b"]  # both 0: in the order given


def test_a_query_of_stopwords_only_scores_nothing_and_does_not_fail():
    assert bm25_scores("the of and", ["the cat", "a dog"]) == [0.0, 0.0]
    ranking = rank_first_stage("bm25", "the of", CORPUS, whole(CORPUS))
    assert [d.doc_id for d in ranking.documents] == ["a", "b", "c"]


def test_embedding_first_stage_ranks_by_meaning():
    ranking = rank_first_stage("embedding", "where can guests leave their car", CORPUS, halves(CORPUS))
    assert ranking.chunks[0].doc_id == "c" and ranking.chunks[0].chunk.index == 0
    assert all(-1.0 <= c.logit <= 1.0 for c in ranking.chunks)


def test_moved_says_which_way():
    assert moved(9, 1) == "9 → 1 ▲8" and moved(1, 4) == "1 → 4 ▼3" and moved(3, 3) == "3 → 3 ="
    assert moved(9, 1, compact=True) == "9→1"


@pytest.mark.parametrize("module", ["workbench.first_stage", "workbench.session.first_stage_view", "workbench.cli_first_stage"])
def test_first_stage_modules_do_not_import_textual(module):
    code = f"import sys, {module}; print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
