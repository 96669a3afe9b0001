"""The one ordering rule for results, used by the engine, the live views, the store and exports.

Documents: higher aggregated score first; documents with no score yet (a run still streaming, or
cancelled) last; ties keep the order the documents were given in.
Chunks: higher logit first (the raw score: probabilities saturate and would tie); ties go to the
chunk of the better-ranked document, then to the earlier chunk within it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .aggregate import aggregate as aggregate_scores
from .types import ChunkScore, Document, DocumentScore


def rank_documents(
    documents: Sequence[Document], chunk_scores: Iterable[ChunkScore], how: str, top_k: int
) -> list[DocumentScore]:
    """Every document with its scored chunks (in document order) and its rank, best first."""
    by_doc: dict[str, list[ChunkScore]] = {d.id: [] for d in documents}
    for s in chunk_scores:
        if s.doc_id in by_doc:
            by_doc[s.doc_id].append(s)
    ranked = []
    for d in documents:
        chunks = sorted(by_doc[d.id], key=lambda c: c.chunk.index)
        # Aggregate the 0..1 scores, so a document score sits on the same fixed scale as chunks.
        value = aggregate_scores([c.score for c in chunks], how, top_k) if chunks else 0.0
        ranked.append(DocumentScore(doc_id=d.id, path=d.path, score=value, rank=0, chunks=chunks))
    ranked.sort(key=lambda r: (not r.chunks, -r.score))  # stable: ties keep the given order
    for rank, r in enumerate(ranked, 1):
        r.rank = rank
    return ranked


def rank_chunks(chunks: Iterable[ChunkScore], document_rank: Mapping[str, int]) -> list[ChunkScore]:
    """Chunks best first; `document_rank` maps a document id to its rank (1 = best)."""
    last = len(document_rank) + 1
    return sorted(chunks, key=lambda c: (-c.logit, document_rank.get(c.doc_id, last), c.chunk.index))
