"""The one read model of run lists (the history screen, `workbench sessions show`): light pages
of runs (newest first, keyset-paged), a session by name, the last two finished runs, and a short
text for each compared chunk.

Pages are keyed on (created_at, id) rather than OFFSET: runs logged while the list is open do
not shift the next page, and every page is one walk of the runs_by_session / runs_by_time index.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.store.database import Store
from workbench.store.liveness import interrupted_runs, shown_status

SNIPPET_CHARS = 300  # of query and instruction per listed run; the whole text comes with load_run

_COLUMNS = f"""
r.id, s.name, r.created_at, r.status, substr(r.query, 1, {SNIPPET_CHARS}),
substr(r.instruction, 1, {SNIPPET_CHARS}), r.model_id, r.chunk_tokens, r.chunk_overlap,
r.aggregate, r.top_k, (SELECT COUNT(*) FROM run_documents d WHERE d.run_id = r.id),
r.pairs, r.latency_s, r.session_id, top.doc_id, top.score
"""
# The run's best document, found through at most one row even should two documents share rank 1.
_FROM = """
FROM runs r JOIN sessions s ON s.id = r.session_id
LEFT JOIN run_documents top ON top.run_id = r.id AND top.position = (
    SELECT d.position FROM run_documents d WHERE d.run_id = r.id AND d.rank = 1 LIMIT 1)
"""


@dataclass(frozen=True)
class HistoryRow:
    """One run as run lists show it (texts cut to SNIPPET_CHARS); nothing per chunk."""

    id: int
    session_name: str
    created_at: str  # UTC ISO text
    status: str  # running | done | cancelled | interrupted
    query: str
    instruction: str
    model_id: str
    chunk_tokens: int
    chunk_overlap: int
    aggregate: str
    top_k: int
    documents: int
    pairs: int | None  # None until the run is finished
    latency_s: float | None
    session_id: int
    top_doc: str | None  # the doc id ranked first; None until the run has scores
    top_score: float | None

    @property
    def cursor(self) -> tuple[str, int]:
        """Where the next (older) page starts."""
        return (self.created_at, self.id)


def history_page(
    store: Store, session_id: int | None, limit: int, after: tuple[str, int] | None = None
) -> list[HistoryRow]:
    """Up to `limit` runs older than `after` (None: the newest), of one session or all."""
    where, params = [], []
    if session_id is not None:
        where.append("r.session_id = ?")
        params.append(session_id)
    if after is not None:
        where.append("(r.created_at, r.id) < (?, ?)")
        params += list(after)
    sql = (
        f"SELECT {_COLUMNS} {_FROM} "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} "
        "ORDER BY r.created_at DESC, r.id DESC LIMIT ?"
    )
    gone = interrupted_runs(store)
    with store.read() as db:
        rows = db.execute(sql, [*params, limit]).fetchall()
    return [_row(row, gone) for row in rows]


def history_row(store: Store, run_id: int) -> HistoryRow | None:
    gone = interrupted_runs(store)
    with store.read() as db:
        row = db.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE r.id = ?",
            [run_id],
        ).fetchone()
    return _row(row, gone) if row else None


def _row(row: tuple, gone: set[int]) -> HistoryRow:
    return HistoryRow(*row[:3], shown_status(row[0], row[3], gone), *row[4:])


def session_named(store: Store, name: str) -> int | None:
    """The id of session `name`, or None; never creates one (browsing leaves no empty session)."""
    with store.read() as db:
        row = db.execute("SELECT id FROM sessions WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def last_two_done(store: Store, session_id: int | None, up_to: int | None = None) -> list[int]:
    """Ids of the newest two finished runs of a session, newest first; with `up_to`, of that run's
    session and not newer than it (so a reopened run compares with the run before it)."""
    where, params = ["status = 'done'"], []
    with store.read() as db:
        if up_to is not None:
            row = db.execute("SELECT session_id, created_at FROM runs WHERE id = ?", [up_to]).fetchone()
            if row is None:
                return []
            session_id = row[0]
            where.append("(created_at, id) <= (?, ?)")
            params += [row[1], up_to]
        if session_id is not None:
            where.append("session_id = ?")
            params.append(session_id)
        rows = db.execute(
            f"SELECT id FROM runs WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC LIMIT 2",
            params,
        ).fetchall()
    return [r[0] for r in rows]


def chunk_snippets(store: Store, run_ids: list[int], chars: int = 120) -> dict[tuple[str, int, int], str]:
    """The first `chars` characters of every chunk scored in the given runs, by (hash, start, end)."""
    marks = ", ".join("?" * len(run_ids))
    with store.read() as db:
        rows = db.execute(
            'SELECT DISTINCT c.document_hash, c.start, c."end", substr(t.text, c.start + 1, '
            'min(?, c."end" - c.start)) FROM chunk_scores cs JOIN chunks c ON c.id = cs.chunk_id '
            f"JOIN documents t ON t.hash = c.document_hash WHERE cs.run_id IN ({marks})",
            [chars, *run_ids],
        ).fetchall()
    return {(h, start, end): text for h, start, end, text in rows}


def finished_runs_of_query(store: Store, query: str, limit: int = 50) -> list[int]:
    """Ids of the newest finished runs of exactly this query text, in any session, newest first."""
    with store.read() as db:
        rows = db.execute(
            "SELECT id FROM runs WHERE query = ? AND status = 'done' ORDER BY created_at DESC, id DESC LIMIT ?",
            [query, limit],
        ).fetchall()
    return [r[0] for r in rows]
