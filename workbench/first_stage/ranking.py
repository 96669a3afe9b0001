"""A first stage's ranking of the chunks the reranker scores, at chunk and document level.

The first stage scores every chunk; a document's score is its best chunk's. Both orderings come
from `workbench.engine.ordering` (the rule the reranker's results follow), so ties break the same
way: documents in the order given, chunks by their document's rank and then position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from workbench.engine.ordering import rank_chunks, rank_documents
from workbench.engine.types import ChunkScore, ChunkSpan, Document, DocumentScore

METHODS = ("bm25", "embedding")
DESCRIPTIONS = {"bm25": "BM25 (bm25s, English stopwords)", "embedding": "all-MiniLM-L6-v2 cosine"}
ChunkKey = tuple[str, int]  # (document id, chunk index)


def first_stage_scores(method: str, query: str, texts: Sequence[str]) -> list[float]:
    """One score per text by `method` ("bm25" or "embedding"), the texts being the whole corpus."""
    if method == "bm25":
        from .bm25 import bm25_scores

        return bm25_scores(query, texts)
    if method == "embedding":
        from .embedding import embedding_scores

        return embedding_scores(query, texts)
    raise ValueError(f"first stage must be one of {', '.join(METHODS)} (got {method!r})")


@dataclass
class FirstStageRanking:
    """Chunks and documents best first by the first stage. It reads like a RankResult where the
    metrics need one (`documents`, `ranked_chunks()`), so eval judges it as it judges a run."""

    method: str
    query: str
    documents: list[DocumentScore]  # best first; each with its chunks in document order
    chunks: list[ChunkScore]  # best first
    chunk_ranks: dict[ChunkKey, int] = field(init=False)
    doc_ranks: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.chunk_ranks = {(c.doc_id, c.chunk.index): n for n, c in enumerate(self.chunks, 1)}
        self.doc_ranks = {d.doc_id: d.rank for d in self.documents}

    def ranked_chunks(self) -> list[ChunkScore]:
        return list(self.chunks)

    def top_documents(self, n: int) -> list[str]:
        """The ids of the best `n` documents, best first."""
        return [d.doc_id for d in self.documents[:n]]

    def document_score(self, doc_id: str) -> float | None:
        return next((d.score for d in self.documents if d.doc_id == doc_id and d.chunks), None)

    def chunk_score(self, key: ChunkKey) -> float | None:
        rank = self.chunk_ranks.get(key)
        return None if rank is None else self.chunks[rank - 1].logit


def rank_first_stage(method: str, query: str, documents: Sequence[Document],
                     spans: Mapping[str, Sequence[ChunkSpan]]) -> FirstStageRanking:
    """Score every chunk in `spans` (document id -> its chunks) and rank chunks and documents."""
    texts = {d.id: d.text for d in documents}
    chunks = [s for d in documents for s in spans.get(d.id, ())]
    values = first_stage_scores(method, query, [s.text_of(texts[s.doc_id]) for s in chunks])
    # The score in both fields: the ordering sorts chunks by logit and aggregates documents over
    # score; "max" makes a document its best chunk.
    scored = [ChunkScore(s.doc_id, s, v, v, prompt_tokens=0, truncated=False) for s, v in zip(chunks, values)]
    ranked_docs = rank_documents(documents, scored, "max", 1)
    ranked = rank_chunks(scored, {d.doc_id: d.rank for d in ranked_docs})
    return FirstStageRanking(method, query, ranked_docs, ranked)


def moved(before: int, after: int, compact: bool = False) -> str:
    """A rank shift for a reader: "9 → 1 ▲8" ("9→1" compact), "3 → 3 =", "1 → 4 ▼3"."""
    if compact:
        return f"{before}→{after}"
    change = before - after
    mark = "=" if change == 0 else (f"▲{change}" if change > 0 else f"▼{-change}")
    return f"{before} → {after} {mark}"
