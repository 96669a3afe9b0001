"""A first stage (BM25, the bundled embedding model) judged like an instruction: its ranking of the
same chunks, at chunk and document level, through the same metrics (`workbench eval --first-stage`).

Its row sits after the reranker's, so the report's comparisons read "bm25 vs i1": the per-query
wins and losses and the paired tests say what the reranker adds over the retriever feeding it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from workbench.engine.types import ChunkSpan, Document

from .judged import JudgedQuery
from .metrics import means, per_query, resolve
from .sweep import Candidate, CandidateResult


def first_stage_candidate(method: str, queries: list[JudgedQuery], documents: Sequence[Document],
                          spans: Mapping[str, Sequence[ChunkSpan]], texts: dict[str, str], k: int) -> CandidateResult:
    """Rank every query's chunks (`spans`: the reranker's chunks, by document) by `method`."""
    from workbench.first_stage import rank_first_stage

    out = CandidateResult(Candidate(method, None, first_stage=method))
    for q in queries:
        out.judged[q.id] = resolve(q, rank_first_stage(method, q.query, documents, spans), texts)  # type: ignore[arg-type]
        out.instructions[q.id] = f"(none: {method} ignores instructions)"
    out.values = per_query(out.judged, k)
    out.means = means(out.values, k)
    return out
