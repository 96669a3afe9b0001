"""Applying the schema's upgrade steps (schema.py) to a database, one transaction per step."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlite_utils import Database

from workbench.store.errors import StoreError, StoreVersionError

if TYPE_CHECKING:
    from workbench.store.database import Store


def migrate(store: Store, steps: Sequence[Callable[[Database], None]]) -> None:
    """Apply the steps the database has not run yet, one transaction each."""
    latest = len(steps)
    while True:
        with _foreign_keys_off(store), store.write() as db:
            # Read the version inside the write lock: two processes opening a fresh file at
            # once must not both run step 0.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > latest:
                raise StoreVersionError(
                    f"database {store.path} has schema version {version}, newer than this "
                    f"workbench understands ({latest}); upgrade the workbench or use another --db"
                )
            if version == latest:
                return
            steps[version](db)
            broken = db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StoreError(
                    f"database {store.path}: upgrade step {version + 1} left {len(broken)} "
                    f"dangling reference(s) (first in table {broken[0][0]}); nothing was changed"
                )
            db.execute(f"PRAGMA user_version = {version + 1}")


@contextmanager
def _foreign_keys_off(store: Store) -> Iterator[None]:
    # A step that rebuilds a table drops the old one; with foreign keys on, that drop would
    # cascade-delete every row referring to it. The pragma is per connection and ignored inside
    # a transaction, so it is switched here, around the step's transaction.
    conn = store.conn
    with store._lock:
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            yield
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
