"""Opening the session database: pragmas, schema upgrades, damaged files and lock errors.

Every write goes through `Store.write()`, a `BEGIN IMMEDIATE` transaction: taking the write lock
up front means a second process waits (busy timeout) instead of failing half-way through with
SQLITE_BUSY_SNAPSHOT, which the busy handler cannot retry in WAL mode.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database

from workbench.paths import default_db_path
from workbench.store.errors import StoreBusyError, StoreCorruptError, StoreError
from workbench.store.schema import SCHEMA_STEPS, migrate

DEFAULT_BUSY_TIMEOUT_S = 5.0
BUSY_TIMEOUT_ENV = "WORKBENCH_DB_TIMEOUT"

# Messages SQLite uses for a file that is not (or no longer) a database.
_DAMAGE_MARKERS = ("file is not a database", "malformed", "disk image", "file is encrypted")
_BUSY_MARKERS = ("database is locked", "database is busy", "database table is locked")


def utc_now() -> str:
    # Fixed-width ISO text sorts like the instant it names, so ORDER BY created_at works.
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Store:
    """An open session database. Safe to share between threads (one lock serialises use)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.notice: str | None = None  # set when a damaged file was set aside on open
        self._lock = threading.RLock()
        self.db = Database(conn, execute_plugins=False)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @property
    def schema_version(self) -> int:
        with self.read() as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn sqlite3 exceptions into StoreError subclasses with a readable message."""
        try:
            yield
        except StoreError:
            raise
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path, self.busy_timeout) from exc

    @contextmanager
    def read(self) -> Iterator[Database]:
        """A consistent snapshot for several SELECTs (a deferred transaction never blocks)."""
        with self._lock, self.errors():
            conn = self.db.conn
            if conn.in_transaction:
                yield self.db
                return
            conn.execute("BEGIN")
            try:
                yield self.db
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One write transaction; nested calls join the outer one."""
        with self._lock, self.errors():
            conn = self.db.conn
            if conn.in_transaction:
                yield self.db
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def translate_error(exc: sqlite3.Error, path: Path, busy_timeout: float) -> StoreError:
    message = str(exc)
    lowered = message.lower()
    if any(marker in lowered for marker in _BUSY_MARKERS):
        return StoreBusyError(
            f"database {path} is locked by another process; waited {busy_timeout:g} s"
        )
    if any(marker in lowered for marker in _DAMAGE_MARKERS):
        return StoreCorruptError(f"database {path} is damaged: {message}")
    return StoreError(f"database {path}: {message}")


def _timeout_from_env() -> float:
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    try:
        return float(raw) if raw else DEFAULT_BUSY_TIMEOUT_S
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_S


def open_store(
    path: str | Path | None = None,
    *,
    busy_timeout: float | None = None,
    quick_check: bool = True,
) -> Store:
    """Open (creating and upgrading as needed) the database at `path`, default the data dir's.

    A damaged file is renamed to `<name>.corrupt-<timestamp>` and a fresh one started; the
    returned store's `notice` says so. Raises StoreBusyError / StoreError, never sqlite3 errors.
    """
    path = Path(path).expanduser() if path is not None else default_db_path()
    timeout = _timeout_from_env() if busy_timeout is None else busy_timeout
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {path.parent}: {exc}") from exc
    try:
        return _open(path, timeout, quick_check)
    except StoreCorruptError as damage:
        moved = damage.moved_to or _set_aside(path)
        store = _open(path, timeout, quick_check)
        store.notice = (
            f"The session database was damaged ({damage.__cause__ or damage}). "
            f"It was moved to {moved} and a fresh database was started at {path}."
        )
        return store


def _open(path: Path, timeout: float, quick_check: bool) -> Store:
    try:
        conn = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise translate_error(exc, path, timeout) from exc
    try:
        store = Store(conn, path, timeout)
        with store.errors():
            _configure(conn, timeout)
            if quick_check:
                _quick_check(conn, path)
        migrate(store, SCHEMA_STEPS)
        return store
    except StoreCorruptError as damage:
        # Rename before closing: on close SQLite deletes the -wal of a file it could not read,
        # and that WAL may hold the latest runs. (Where open files cannot be renamed, the
        # caller renames after the close instead.)
        try:
            damage.moved_to = _set_aside(path)
        except StoreError:
            pass
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise translate_error(exc, path, timeout) from exc
    except BaseException:
        conn.close()
        raise


def _configure(conn: sqlite3.Connection, timeout: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    # Off by default in SQLite; without it ON DELETE CASCADE silently does nothing.
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL lets the UI read history while a run is being written, and a reader never blocks
    # the writer. This is also the first statement that reads the file header, so a garbage
    # file fails here with "file is not a database".
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    # NORMAL is durable against a killed process (only power loss can drop the last commits),
    # and avoids an fsync per run.
    conn.execute("PRAGMA synchronous = NORMAL")


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    rows = conn.execute("PRAGMA quick_check").fetchall()
    if rows != [("ok",)]:
        first = rows[0][0] if rows else "no answer"
        raise StoreCorruptError(f"database {path} is damaged: quick_check says {first}")


def _set_aside(path: Path) -> Path:
    """Rename a damaged database and its -wal/-shm out of the way; returns the new main path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        path.rename(target)
        # The sidecars keep SQLite's naming (<main>-wal) so opening the set-aside copy with
        # the sqlite3 shell still sees whatever the WAL held, for anyone trying a recovery.
        for suffix in ("-wal", "-shm"):
            sidecar = path.with_name(path.name + suffix)
            if sidecar.exists():
                sidecar.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise StoreError(f"database {path} is damaged and could not be moved aside: {exc}") from exc
    return target
