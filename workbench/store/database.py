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

from workbench.paths import default_db_path, make_private_dirs
from workbench.store.connecting import connect_readonly, connect_readwrite, is_busy, translate_error
from workbench.store.errors import NoDatabaseError, StoreCorruptError, StoreError, StoreVersionError
from workbench.store.identify import FileKind, identify
from workbench.store.migration import migrate
from workbench.store.schema import SCHEMA_STEPS

DEFAULT_BUSY_TIMEOUT_S = 5.0
BUSY_TIMEOUT_ENV = "WORKBENCH_DB_TIMEOUT"

# The database holds whole documents and queries, on what are often shared GPU boxes.
PRIVATE_FILE_MODE = 0o600


def utc_now() -> str:
    # Fixed-width ISO text sorts like the instant it names, so ORDER BY created_at works.
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Store:
    """An open session database. Safe to share between threads (one lock serialises use)."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, busy_timeout: float, readonly: bool = False
    ) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.readonly = readonly  # opened with mode=ro: reads only, never upgraded
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
    readonly: bool = False,
) -> Store:
    """Open the database at `path` (default: the data dir's), creating and upgrading it as needed.

    A file that is not recognisably ours raises ForeignFileError and is left untouched. One of
    ours that is damaged is renamed to `<name>.corrupt-<timestamp>` and a fresh one started; the
    returned store's `notice` says so. With `readonly` nothing is created, upgraded, moved or
    written: a missing database raises NoDatabaseError. Raises StoreError subclasses, never
    sqlite3 errors.
    """
    path = Path(path).expanduser() if path is not None else default_db_path()
    timeout = _timeout_from_env() if busy_timeout is None else busy_timeout
    if readonly:
        return _open_readonly(path, timeout, quick_check)
    try:
        make_private_dirs(path.parent)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {path.parent}: {exc}") from exc
    identity = identify(path, timeout)
    if identity.kind is FileKind.MISSING:
        _create_private_file(path)
    elif identity.kind is FileKind.DAMAGED:
        return _fresh_after_damage(path, timeout, quick_check, identity.problem, _set_aside(path))
    ours = identity.kind is FileKind.OURS
    try:
        return _open(path, timeout, quick_check, may_set_aside=ours)
    except StoreCorruptError as damage:
        if not ours:
            raise
        moved = damage.moved_to or _set_aside(path)
        return _fresh_after_damage(path, timeout, quick_check, damage.__cause__ or damage, moved)


def _fresh_after_damage(
    path: Path, timeout: float, quick_check: bool, problem: object, moved: Path
) -> Store:
    _create_private_file(path)
    store = _open(path, timeout, quick_check, may_set_aside=False)
    store.notice = (
        f"The session database was damaged ({problem}). "
        f"It was moved to {moved} and a fresh database was started at {path}."
    )
    return store


def _create_private_file(path: Path) -> None:
    """Create the database file owner-only; SQLite gives its -wal and -shm the same mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:  # another process created it meanwhile
        return
    except OSError as exc:
        raise StoreError(f"cannot create the database {path}: {exc.strerror or exc}") from exc
    os.close(fd)


def _open(path: Path, timeout: float, quick_check: bool, *, may_set_aside: bool) -> Store:
    try:
        conn = connect_readwrite(path, timeout)
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
        if may_set_aside:
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


def _open_readonly(path: Path, timeout: float, quick_check: bool) -> Store:
    identity = identify(path, timeout)
    if identity.kind in (FileKind.MISSING, FileKind.BLANK):
        raise NoDatabaseError(path)
    left_as_is = (
        "; it was left as it is (the next command that writes to it, such as `workbench score`, "
        "moves it aside and starts a fresh one)"
    )
    if identity.kind is FileKind.DAMAGED:
        raise StoreCorruptError(f"database {path} is damaged: {identity.problem}{left_as_is}")
    try:
        conn = connect_readonly(path, timeout)
    except sqlite3.Error as exc:
        raise translate_error(exc, path, timeout) from exc
    store = Store(conn, path, timeout, readonly=True)
    try:
        with store.errors():
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if quick_check:
                _quick_check(conn, path)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
    except StoreCorruptError as damage:
        store.close()
        raise StoreCorruptError(f"{damage}{left_as_is}") from damage
    except BaseException:
        store.close()
        raise
    if version > len(SCHEMA_STEPS):
        store.close()
        raise StoreVersionError(
            f"database {path} has schema version {version}, newer than this workbench "
            f"understands ({len(SCHEMA_STEPS)}); upgrade the workbench or use another --db"
        )
    return store  # an older version is read as it is: upgrading would be a write


def _configure(conn: sqlite3.Connection, timeout: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    # Off by default in SQLite; without it ON DELETE CASCADE silently does nothing.
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL lets the UI read history while a run is being written, and a reader never blocks
    # the writer. This is also the first statement that reads the file header, so a garbage
    # file fails here with "file is not a database".
    _switch_to_wal(conn, timeout)
    # NORMAL is durable against a killed process (only power loss can drop the last commits),
    # and avoids an fsync per run.
    conn.execute("PRAGMA synchronous = NORMAL")


def _switch_to_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """PRAGMA journal_mode = WAL, waiting up to `timeout` for a lock like any other statement.
    SQLite answers "database is locked" at once, without its busy handler, when another
    connection holds a lock while this one changes the journal mode: two processes opening a
    new database together (the app and a script) failed 5-7 times in 25-40 tries with 6 at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


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
