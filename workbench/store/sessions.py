"""Sessions: named groups of runs. Names are unique so `ensure_session(name)` can find one."""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from workbench.store.database import Store, utc_now
from workbench.store.errors import SessionNotFoundError, StoreError
from workbench.store.liveness import interrupted_runs
from workbench.store.records import SessionInfo

_SESSION_SELECT = """
SELECT s.id, s.name, s.created_at, s.notes,
       COUNT(r.id) AS runs, MAX(r.created_at) AS last_run_at,
       COALESCE(SUM(r.status = 'interrupted' OR r.id IN ({gone})), 0) AS interrupted
FROM sessions s LEFT JOIN runs r ON r.session_id = s.id
"""


def _session_select(store: Store) -> tuple[str, list[int]]:
    # Runs whose process died count as interrupted even where the mark could not be written.
    gone = sorted(interrupted_runs(store))
    return _SESSION_SELECT.format(gone=", ".join("?" * len(gone))), gone


def default_session_name() -> str:
    # One session per local calendar day: history groups itself without the user naming
    # anything, and a day's runs are what people usually compare.
    return date.today().isoformat()


def ensure_session(store: Store, name: str | None = None) -> int:
    """Id of the session called `name` (default: today's date), created if missing."""
    name = _clean_name(name if name is not None else default_session_name())
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO sessions (name, created_at) VALUES (?, ?)", [name, utc_now()]
        )
        return db.execute("SELECT id FROM sessions WHERE name = ?", [name]).fetchone()[0]


def create_session(store: Store, name: str, notes: str = "") -> int:
    name = _clean_name(name)
    with store.write() as db:
        _refuse_taken(db, name)
        cursor = db.execute(
            "INSERT INTO sessions (name, created_at, notes) VALUES (?, ?, ?)",
            [name, utc_now(), notes],
        )
        return cursor.lastrowid


def get_session(store: Store, session_id: int) -> SessionInfo:
    select, gone = _session_select(store)
    with store.read() as db:
        row = db.execute(select + "WHERE s.id = ? GROUP BY s.id", [*gone, session_id]).fetchone()
    if row is None:
        raise SessionNotFoundError(f"no session with id {session_id}")
    return SessionInfo(*row)


def list_sessions(store: Store) -> list[SessionInfo]:
    """All sessions, most recently used first."""
    select, gone = _session_select(store)
    with store.read() as db:
        rows = db.execute(
            select + "GROUP BY s.id ORDER BY COALESCE(MAX(r.created_at), s.created_at) DESC, s.id DESC",
            gone,
        ).fetchall()
    return [SessionInfo(*row) for row in rows]


def rename_session(store: Store, session_id: int, name: str) -> None:
    name = _clean_name(name)
    with store.write() as db:
        _require(db, session_id)
        if db.execute(
            "SELECT 1 FROM sessions WHERE name = ? AND id != ?", [name, session_id]
        ).fetchone():
            raise StoreError(f"a session named {name!r} already exists")
        db.execute("UPDATE sessions SET name = ? WHERE id = ?", [name, session_id])


def annotate_session(store: Store, session_id: int, notes: str) -> None:
    with store.write() as db:
        _require(db, session_id)
        db.execute("UPDATE sessions SET notes = ? WHERE id = ?", [notes, session_id])


def delete_session(store: Store, session_id: int) -> int:
    """Delete a session with its runs and scores; returns how many runs went with it."""
    with store.write() as db:
        _require(db, session_id)
        runs = db.execute("SELECT COUNT(*) FROM runs WHERE session_id = ?", [session_id]).fetchone()[0]
        db.execute("DELETE FROM sessions WHERE id = ?", [session_id])  # cascades to runs
        prune_orphans(db)
        return runs


def prune_orphans(db: Database) -> None:
    """Drop stored texts and spans no run refers to any more (call inside a write)."""
    db.execute(
        "DELETE FROM chunks WHERE NOT EXISTS "
        "(SELECT 1 FROM chunk_scores cs WHERE cs.chunk_id = chunks.id)"
    )
    db.execute(
        "DELETE FROM documents WHERE NOT EXISTS "
        "(SELECT 1 FROM run_documents d WHERE d.document_hash = documents.hash)"
    )


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise StoreError("a session name cannot be empty")
    return name


def _refuse_taken(db: Database, name: str) -> None:
    if db.execute("SELECT 1 FROM sessions WHERE name = ?", [name]).fetchone():
        raise StoreError(f"a session named {name!r} already exists")


def _require(db: Database, session_id: int) -> None:
    if not db.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone():
        raise SessionNotFoundError(f"no session with id {session_id}")
