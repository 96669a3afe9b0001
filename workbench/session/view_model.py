"""What the result views show, computed from a session's state: plain data, no Textual.

The orderings come from `workbench.engine.ordering`, so the live views, the CLI and exports rank
ties the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from workbench.engine.ordering import rank_chunks, rank_documents
from workbench.engine.types import ChunkScore, ChunkSpan, Document

from .labelling import QueryLabels

SORTS = ("score", "document", "position")  # the ranking pane's chunk orders


@dataclass
class ViewOptions:
    """How the results are shown: chunk order, one document only, the selected chunk."""

    sort: str = "score"
    doc_filter: str | None = None
    selected: tuple[str, int] | None = None  # (document id, chunk index)

    def cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]

    def toggle_filter(self, doc_id: str | None) -> None:
        self.doc_filter = None if self.doc_filter == doc_id else doc_id

    def cycle_filter(self, doc_ids: list[str]) -> None:
        ids: list[str | None] = [None, *doc_ids]
        self.doc_filter = ids[(ids.index(self.doc_filter) + 1) % len(ids)] if self.doc_filter in ids else None

    def forget(self, doc_id: str) -> None:
        """A document was removed: drop the filter or selection that named it."""
        self.doc_filter = None if self.doc_filter == doc_id else self.doc_filter
        self.selected = None if self.selected and self.selected[0] == doc_id else self.selected


@dataclass(frozen=True)
class DocumentRow:
    doc_id: str
    score: float | None  # None until one of its chunks is scored
    chunks: int
    scored: int
    grade: int | None = None  # its relevance label for the query (see labelling.py)
    first_stage_rank: int | None = None  # its rank by the first stage, when one is shown (first_stage_view.py)


@dataclass(frozen=True)
class HeatStrip:
    doc_id: str
    count: int  # chunks in the document
    scores: dict[int, float]  # chunk index -> score, for the chunks scored so far
    doc_score: float | None


@dataclass(frozen=True)
class ResultsView:
    chunks: list[ChunkScore]  # the ranking pane's rows, in the chosen sort, filtered
    ranks: dict[tuple[str, int], int]  # every scored chunk's rank by score (1 = best)
    documents: list[DocumentRow]  # best first
    strips: list[HeatStrip]  # in the order the documents were given
    capacity: int  # chunks the pane will hold once every shown document is scored
    sort: str
    doc_filter: str | None
    grades: dict[tuple[str, int], int]  # relevance labels of the labelled chunks
    first_stage: str | None = None  # the first stage shown next to the reranker ("bm25"...), if any
    first_stage_ranks: dict[tuple[str, int], int] = field(default_factory=dict)  # chunk -> its first-stage rank


def results_view(
    documents: Sequence[Document],
    spans: Mapping[str, list[ChunkSpan]],
    scores: Mapping[tuple[str, int], ChunkScore],
    aggregate: str,
    top_k: int,
    sort: str = "score",
    doc_filter: str | None = None,
    labels: QueryLabels | None = None,
) -> ResultsView:
    ranked_docs = rank_documents(documents, scores.values(), aggregate, top_k)
    doc_rank = {d.doc_id: d.rank for d in ranked_docs}
    ranked = rank_chunks(scores.values(), doc_rank)
    ranks = {(c.doc_id, c.chunk.index): n for n, c in enumerate(ranked, 1)}
    shown = [c for c in ranked if doc_filter in (None, c.doc_id)]
    if sort == "document":
        shown.sort(key=lambda c: doc_rank.get(c.doc_id, 0))  # stable: by score within a document
    elif sort == "position":
        order = {d.id: n for n, d in enumerate(documents)}
        shown.sort(key=lambda c: (order.get(c.doc_id, 0), c.chunk.start))
    doc_grades = labels.document_grades(documents) if labels else {}
    rows = [
        DocumentRow(d.doc_id, d.score if d.chunks else None, len(spans.get(d.doc_id, [])), len(d.chunks),
                    doc_grades.get(d.doc_id))
        for d in ranked_docs
    ]
    doc_scores = {d.doc_id: d.score for d in ranked_docs if d.chunks}
    by_doc: dict[str, dict[int, float]] = {d.id: {} for d in documents}
    for (doc, i), c in scores.items():
        by_doc.setdefault(doc, {})[i] = c.score
    strips = [HeatStrip(d.id, len(spans.get(d.id, [])), by_doc[d.id], doc_scores.get(d.id)) for d in documents]
    capacity = sum(len(v) for k, v in spans.items() if doc_filter in (None, k))
    grades = labels.chunk_grades(spans) if labels else {}
    return ResultsView(shown, ranks, rows, strips, capacity, sort, doc_filter, grades)
