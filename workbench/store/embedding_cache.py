"""A persistent cache of text embeddings: (model fingerprint, hash of the exact token ids) -> vector.

For scorers whose work per document does not depend on the query (the offline fallback embeds each
chunk once and compares it with the query's embedding): a later launch, or a new query after a
relaunch, reuses the chunks' vectors instead of embedding the whole collection again. The scorer
computes both keys and encodes the vectors; this only stores and finds bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from workbench.store.database import Store, utc_now

_BATCH = 500  # parameters per statement, as in score_cache.py


class SqliteEmbeddingCache:
    """Embedding cache in the session database; safe across threads and processes (WAL + busy wait)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, fingerprint: str, keys: Iterable[str]) -> dict[str, bytes]:
        """Vectors of the keys found; missing keys are simply absent."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, bytes] = {}
        with self.store.read() as db:
            for i in range(0, len(wanted), _BATCH):
                batch = wanted[i : i + _BATCH]
                marks = ", ".join("?" * len(batch))
                found.update(
                    (key, bytes(vector))
                    for key, vector in db.execute(
                        "SELECT text_hash, vector FROM embedding_cache "
                        f"WHERE fingerprint = ? AND text_hash IN ({marks})",
                        [fingerprint, *batch],
                    ).fetchall()
                )
        return found

    def put_many(self, fingerprint: str, items: Mapping[str, bytes]) -> None:
        """Store vectors; a key already present is overwritten (same text, same model)."""
        if not items:
            return
        now = utc_now()
        rows = [(fingerprint, key, bytes(vector), now) for key, vector in items.items()]
        for i in range(0, len(rows), _BATCH):
            with self.store.write() as db:
                db.conn.executemany(
                    "INSERT OR REPLACE INTO embedding_cache (fingerprint, text_hash, vector, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    rows[i : i + _BATCH],
                )

    def count(self, fingerprint: str | None = None) -> int:
        with self.store.read() as db:
            if fingerprint is None:
                return db.execute("SELECT COUNT(*) FROM embedding_cache").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM embedding_cache WHERE fingerprint = ?", [fingerprint]).fetchone()[0]
