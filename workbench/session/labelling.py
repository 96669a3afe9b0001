"""Relevance labels of the query on screen: a grade 0-3 per chunk or whole document.

Labels are stored by the recorder per (query text, document text, span), so they come back
whenever the same query is scored again. Rules, also used by the metrics:
- a chunk's grade is the label on its exact span (a new chunk size makes new, unlabelled spans);
- a document's grade is its whole-document label, else the highest grade of its labelled chunks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from workbench.engine.types import ChunkSpan, Document
from workbench.store.runs import text_hash

from .recorder import RunRecorder

Span = tuple[str, int, int]  # (document id, start, end)


class QueryLabels:
    def __init__(self) -> None:
        self.query = ""
        self.grades: dict[Span, int] = {}

    def snapshot(self) -> QueryLabels:
        """A copy for another thread to read while the user labels on."""
        copy = QueryLabels()
        copy.query, copy.grades = self.query, dict(self.grades)
        return copy

    def load(self, recorder: RunRecorder, query: str, documents: Sequence[Document]) -> None:
        """The labels of `query` for these documents (matched by text, whatever their names)."""
        names = {text_hash(d.text): d.id for d in documents}
        self.query = query.strip()
        self.grades = {
            (names[label.document_hash], label.start, label.end): label.grade
            for label in recorder.labels(self.query)
            if label.document_hash in names
        }

    def set(self, recorder: RunRecorder, document: Document, start: int, end: int, grade: int | None) -> None:
        recorder.set_label(self.query, document, start, end, grade)
        if grade is None:
            self.grades.pop((document.id, start, end), None)
        else:
            self.grades[(document.id, start, end)] = grade

    def chunk_grades(self, spans: Mapping[str, list[ChunkSpan]]) -> dict[tuple[str, int], int]:
        """(document id, chunk index) -> grade, for the labelled chunks among `spans`."""
        return {
            (doc_id, s.index): self.grades[(doc_id, s.start, s.end)]
            for doc_id, chunks in spans.items()
            for s in chunks
            if (doc_id, s.start, s.end) in self.grades
        }

    def document_grades(self, documents: Sequence[Document]) -> dict[str, int]:
        """Document id -> grade: the whole-document label, else the best chunk label."""
        grades: dict[str, int] = {}
        whole = {d.id: len(d.text) for d in documents}
        for (doc_id, start, end), grade in self.grades.items():
            if doc_id not in whole:
                continue
            if start == 0 and end == whole[doc_id]:
                grades[doc_id] = grade  # a whole-document label wins over its chunks'
            elif (doc_id, 0, whole[doc_id]) not in self.grades:
                grades[doc_id] = max(grades.get(doc_id, 0), grade)
        return grades
