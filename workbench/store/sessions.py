"""Sessions: named groups of runs. Names are unique so `ensure_session(name)` can find one.

A session belongs to one launch of a process: the app, `workbench score` and `workbench eval`
each start their own (`create_launch_session`), named after what started it and when, and
remember that origin so the app can reopen the last run it wrote (`latest_run_of_origin`).
"""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlite_utils import Database

from workbench.store.database import Store, utc_now
from workbench.store.errors import SessionNotFoundError, StoreError
from workbench.store.liveness import interrupted_runs
from workbench.store.records import SessionInfo
from workbench.store.schema import SESSION_ORIGIN_VERSION

# What starts a session; sessions logged before origins were recorded have none (NULL).
SESSION_ORIGINS = ("app", "score", "eval")

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


def launch_session_name(origin: str, now: datetime | None = None) -> str:
    """The name of a launch's session: origin and local start time to the second, such as
    "app 2026-11-29 23:41:07". A naive `now` is taken as local time; an aware one is converted."""
    when = datetime.now() if now is None else now
    if when.tzinfo is not None:
        when = when.astimezone()
    return f"{origin} {when:%Y-%m-%d %H:%M:%S}"


def create_launch_session(store: Store, origin: str, name: str | None = None) -> tuple[int, str]:
    """The session one launch logs into, as (id, name).

    Without `name`, always a new session named `launch_session_name(origin)`, with " (2)",
    " (3)", ... added when taken: two launches in the same second get two sessions. With `name`,
    the session of that name (created if missing, as `ensure_session` does). `origin` is recorded
    on creation only; a reused session keeps the origin it was created with.
    """
    if origin not in SESSION_ORIGINS:
        raise ValueError(f"unknown session origin {origin!r}; expected one of {SESSION_ORIGINS}")
    insert = "INSERT OR IGNORE INTO sessions (name, created_at, origin) VALUES (?, ?, ?)"
    with store.write() as db:
        if name is not None:
            name = _clean_name(name)
            db.execute(insert, [name, utc_now(), origin])
            return db.execute("SELECT id FROM sessions WHERE name = ?", [name]).fetchone()[0], name
        base = launch_session_name(origin)
        for n in itertools.count(1):
            candidate = base if n == 1 else f"{base} ({n})"
            cursor = db.execute(insert, [candidate, utc_now(), origin])
            if cursor.rowcount == 1:  # inserted, not ignored: the name was free
                return cursor.lastrowid, candidate
    raise AssertionError("unreachable")


def latest_run_of_origin(store: Store, origin: str = "app") -> int | None:
    """Id of the newest run (by created_at, id), whatever its status, in any session started by
    `origin`; None when there is none. The app reopens it on relaunch."""
    if store.schema_version < SESSION_ORIGIN_VERSION:
        return None  # an old database read as it is: no session records its origin
    # Each session's newest run is one probe of runs_by_session, so the cost follows the number
    # of sessions of that origin, however many runs other origins logged since.
    with store.read() as db:
        row = db.execute(
            "SELECT r.id FROM sessions s JOIN runs r ON r.id = ("
            "  SELECT id FROM runs WHERE session_id = s.id ORDER BY created_at DESC, id DESC LIMIT 1"
            ") WHERE s.origin = ? ORDER BY r.created_at DESC, r.id DESC LIMIT 1",
            [origin],
        ).fetchone()
    return row[0] if row else None


def ensure_session(store: Store, name: str) -> int:
    """Id of the session called `name`, created if missing."""
    name = _clean_name(name)
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
