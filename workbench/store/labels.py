"""Relevance labels: a grade 0-3 per (query, document text, span), set in the app and reused
whenever the same query is scored again. See schema step 4 for the keys."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.store.database import Store, utc_now

GRADES = range(4)  # 0 not relevant · 1 somewhat · 2 relevant · 3 the answer


@dataclass(frozen=True)
class Label:
    document_hash: str
    doc_id: str  # the document's name when it was labelled (qrels use it)
    start: int
    end: int
    grade: int


def set_label(store: Store, query: str, document_hash: str, doc_id: str, start: int, end: int, grade: int | None) -> None:
    """Grade a span of a document for `query`; None removes the label."""
    if grade is not None and grade not in GRADES:
        raise ValueError(f"a grade is 0, 1, 2 or 3 (got {grade})")
    with store.write() as db:
        if grade is None:
            db.execute(
                'DELETE FROM labels WHERE query = ? AND document_hash = ? AND start = ? AND "end" = ?',
                [query, document_hash, start, end],
            )
            return
        db.execute(
            'INSERT INTO labels (query, document_hash, start, "end", grade, doc_id, updated_at) '
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (query, document_hash, start, \"end\") "
            "DO UPDATE SET grade = excluded.grade, doc_id = excluded.doc_id, updated_at = excluded.updated_at",
            [query, document_hash, start, end, grade, doc_id, utc_now()],
        )


def labels_for(store: Store, query: str) -> list[Label]:
    with store.read() as db:
        rows = db.execute(
            'SELECT document_hash, doc_id, start, "end", grade FROM labels WHERE query = ? '
            "ORDER BY doc_id, start",
            [query],
        ).fetchall()
    return [Label(*row) for row in rows]
