"""Is the file at a database path ours? Asked before anything opens it for writing.

A --db naming someone else's file (notes, another program's SQLite database) must be refused and
left byte-for-byte as it was; only a file recognisably ours may be set aside as damaged. Ours is
an SQLite file with our application_id in its header, or (written before that id existed) with
our tables.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from workbench.store.connecting import connect_readonly, translate_error
from workbench.store.errors import ForeignFileError, StoreCorruptError, StoreError
from workbench.store.schema import APPLICATION_ID, OUR_TABLES

SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100
_APPLICATION_ID_AT = 68  # offsets in SQLite's file header, big-endian 4-byte integers


class FileKind(Enum):
    MISSING = "missing"  # nothing there
    BLANK = "blank"  # an empty file, or an SQLite database with nothing in it: nothing to lose
    OURS = "ours"
    DAMAGED = "damaged"  # ours by its header, but SQLite cannot read its schema


@dataclass(frozen=True)
class Identity:
    kind: FileKind
    problem: str | None = None  # what SQLite said, for DAMAGED


def identify(path: Path, timeout: float) -> Identity:
    """What is at `path`; raises ForeignFileError (naming the file) for anything not ours."""
    try:
        with path.open("rb") as f:
            header = f.read(_HEADER_BYTES)
    except FileNotFoundError:
        return Identity(FileKind.MISSING)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not header:
        return Identity(FileKind.BLANK)
    if not header.startswith(SQLITE_MAGIC):
        raise _foreign(path, "it is not an SQLite database")
    try:
        application_id, version, tables = _schema_of(path, timeout)
    except sqlite3.Error as exc:
        error = translate_error(exc, path, timeout)
        if not isinstance(error, StoreCorruptError):
            raise error from exc
        if _header_application_id(header) == APPLICATION_ID:
            return Identity(FileKind.DAMAGED, str(exc))
        raise _foreign(path, f"it is a damaged SQLite file ({exc}) not recognisably ours") from exc
    if application_id == APPLICATION_ID or OUR_TABLES <= tables:
        return Identity(FileKind.OURS)
    if application_id == 0 and version == 0 and not tables:
        return Identity(FileKind.BLANK)
    listed = ", ".join(sorted(tables)[:5]) or "none"
    raise _foreign(path, f"it is an SQLite database of another program (tables: {listed})")


def _schema_of(path: Path, timeout: float) -> tuple[int, int, set[str]]:
    conn = connect_readonly(path, timeout)
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    return application_id, version, tables


def _header_application_id(header: bytes) -> int | None:
    if len(header) < _APPLICATION_ID_AT + 4:
        return None
    return int.from_bytes(header[_APPLICATION_ID_AT : _APPLICATION_ID_AT + 4], "big")


def _foreign(path: Path, why: str) -> ForeignFileError:
    return ForeignFileError(
        f"{path} is not a workbench database: {why}. It was left untouched; "
        "choose another --db (or move the file away)."
    )
