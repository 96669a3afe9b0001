"""Opening SQLite connections, and turning sqlite3 errors into StoreErrors a person can read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from workbench.store.errors import StoreBusyError, StoreCorruptError, StoreError

# Messages SQLite uses for a file that is not (or no longer) a database.
_DAMAGE_MARKERS = ("file is not a database", "malformed", "disk image", "file is encrypted")
_BUSY_MARKERS = ("database is locked", "database is busy", "database table is locked")


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether `exc` says another connection holds a lock this one needs."""
    lowered = str(exc).lower()
    return any(marker in lowered for marker in _BUSY_MARKERS)


def translate_error(exc: sqlite3.Error, path: Path, busy_timeout: float) -> StoreError:
    message = str(exc)
    lowered = message.lower()
    if is_busy(exc):
        return StoreBusyError(
            f"database {path} is locked by another process; waited {busy_timeout:g} s"
        )
    if any(marker in lowered for marker in _DAMAGE_MARKERS):
        return StoreCorruptError(f"database {path} is damaged: {message}")
    return StoreError(f"database {path}: {message}")


def connect_readwrite(path: Path, timeout: float) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


def connect_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that cannot write the file: it works on read-only media and never takes
    the write lock, so another process writing meanwhile neither blocks it nor is blocked."""
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        return _checked(sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        ))
    except sqlite3.OperationalError as exc:
        wal = path.with_name(path.name + "-wal")
        lowered = str(exc).lower()
        if wal.exists() or not ("readonly" in lowered or "unable to open" in lowered):
            raise
    # A WAL database opens read-only only where its -shm can be created, so not on read-only
    # media. With no -wal beside it no process is writing it, and reading it as immutable
    # (no locks, no -shm) sees all of it.
    return _checked(sqlite3.connect(
        uri + "&immutable=1", uri=True, timeout=timeout, isolation_level=None,
        check_same_thread=False,
    ))


def _checked(conn: sqlite3.Connection) -> sqlite3.Connection:
    # sqlite3.connect opens lazily; reading the schema is what touches the file (and the WAL
    # index), so failures surface here rather than at the caller's first query.
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn
