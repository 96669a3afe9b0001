"""A table of cached values by (model fingerprint, key): what the score cache and the embedding
cache share. The engine computes both keys; a table only stores and finds them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from workbench.store.database import Store, utc_now

_BATCH = 500  # parameters per statement: well under SQLite's limit, and keeps each lock short


class KeyedCache:
    """Values by fingerprint and key in one table; safe across threads and processes (WAL + busy
    wait). Subclasses name the table and its key and value columns."""

    table: ClassVar[str]
    key: ClassVar[str]
    value: ClassVar[str]

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def encode(value: Any) -> Any:
        """The value as stored."""
        return value

    def get_many(self, fingerprint: str, keys: Iterable[str]) -> dict[str, Any]:
        """Values of the keys found; missing keys are simply absent."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Any] = {}
        with self.store.read() as db:
            for i in range(0, len(wanted), _BATCH):
                batch = wanted[i : i + _BATCH]
                marks = ", ".join("?" * len(batch))
                found.update(
                    db.execute(
                        f"SELECT {self.key}, {self.value} FROM {self.table} "
                        f"WHERE fingerprint = ? AND {self.key} IN ({marks})",
                        [fingerprint, *batch],
                    ).fetchall()
                )
        return found

    def put_many(self, fingerprint: str, items: Mapping[str, Any]) -> None:
        """Store values; a key already present is overwritten (same input, same model)."""
        if not items:
            return
        now = utc_now()
        rows = [(fingerprint, key, self.encode(value), now) for key, value in items.items()]
        # One short transaction per batch: a long scoring run in another process never waits
        # behind a single huge write.
        for i in range(0, len(rows), _BATCH):
            with self.store.write() as db:
                db.conn.executemany(
                    f"INSERT OR REPLACE INTO {self.table} (fingerprint, {self.key}, {self.value}, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    rows[i : i + _BATCH],
                )

    def count(self, fingerprint: str | None = None) -> int:
        with self.store.read() as db:
            if fingerprint is None:
                return db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]
            return db.execute(f"SELECT COUNT(*) FROM {self.table} WHERE fingerprint = ?", [fingerprint]).fetchone()[0]

    def clear(self, fingerprint: str | None = None) -> int:
        """Forget cached values (of one model fingerprint, or all); returns how many went."""
        with self.store.write() as db:
            if fingerprint is None:
                return db.execute(f"DELETE FROM {self.table}").rowcount
            return db.execute(f"DELETE FROM {self.table} WHERE fingerprint = ?", [fingerprint]).rowcount
