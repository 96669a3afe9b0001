"""Relevance labels: a grade 0-3 per (query, document text, span), set in the app and reused
whenever the same query is scored again. See schema step 4 for the keys."""

from __future__ import annotations

from collections.abc import Iterable
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


@dataclass(frozen=True)
class LabelRow:
    """One stored label with its query: what `workbench labels` lists, exports and imports.
    `chars` is the length of the labelled document's text when the run log still holds that
    text (None once no run refers to it): (0, chars) is then a whole-document label."""

    query: str
    document_hash: str
    doc_id: str
    start: int
    end: int
    grade: int
    updated_at: str = ""
    chars: int | None = None


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


_UPSERT = (
    'INSERT INTO labels (query, document_hash, start, "end", grade, doc_id, updated_at) '
    'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (query, document_hash, start, "end") '
    "DO UPDATE SET grade = excluded.grade, doc_id = excluded.doc_id, updated_at = excluded.updated_at "
    "WHERE labels.grade IS NOT excluded.grade OR labels.doc_id IS NOT excluded.doc_id"
)


def set_labels(store: Store, rows: Iterable[LabelRow]) -> int:
    """Store many labels in one transaction (all or none); an existing label on the same
    (query, document, span) gets the new grade. Returns how many labels were added or changed
    (one already stored with the same grade and name is left as it is)."""
    rows = list(rows)
    for row in rows:  # before the transaction: a bad row leaves the store untouched
        if row.grade not in GRADES:
            raise ValueError(f"a grade is 0, 1, 2 or 3 (got {row.grade})")
        if not 0 <= row.start < row.end:
            raise ValueError(f"a label span needs 0 <= start < end (got {row.start}-{row.end})")
    now = utc_now()
    with store.write() as db:
        before = db.conn.total_changes
        db.conn.executemany(
            _UPSERT,
            [(r.query, r.document_hash, r.start, r.end, r.grade, r.doc_id, now) for r in rows],
        )
        return db.conn.total_changes - before


def all_labels(store: Store) -> list[LabelRow]:
    """Every label of every query, ordered by query, document name and span. A database from
    before labels existed (opened read-only, so not upgraded) has none."""
    with store.read() as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'labels'").fetchone():
            return []
        rows = db.execute(
            'SELECT l.query, l.document_hash, l.doc_id, l.start, l."end", l.grade, l.updated_at, d.chars '
            "FROM labels l LEFT JOIN documents d ON d.hash = l.document_hash "
            'ORDER BY l.query, l.doc_id, l.start, l."end"'
        ).fetchall()
    return [LabelRow(*row) for row in rows]
