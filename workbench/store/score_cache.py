"""A persistent score cache: (model fingerprint, hash of the exact prompt token ids) -> logit.

The engine computes both keys; the cache only stores and finds them. Hitting it skips the model
entirely, so it must never answer for a different model or prompt: the fingerprint covers the
model identity, and the key covers every token the model would have seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from workbench.store.database import Store, utc_now

_BATCH = 500  # parameters per statement: well under SQLite's limit, and keeps each lock short


class SqliteScoreCache:
    """Score cache in the session database; safe across threads and processes (WAL + busy wait)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, fingerprint: str, keys: Iterable[str]) -> dict[str, float]:
        """Logits of the keys found; missing keys are simply absent."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, float] = {}
        with self.store.read() as db:
            for i in range(0, len(wanted), _BATCH):
                batch = wanted[i : i + _BATCH]
                marks = ", ".join("?" * len(batch))
                found.update(
                    db.execute(
                        "SELECT prompt_hash, logit FROM score_cache "
                        f"WHERE fingerprint = ? AND prompt_hash IN ({marks})",
                        [fingerprint, *batch],
                    ).fetchall()
                )
        return found

    def put_many(self, fingerprint: str, items: Mapping[str, float]) -> None:
        """Store logits; a key already present is overwritten (same prompt, same model)."""
        if not items:
            return
        now = utc_now()
        rows = [(fingerprint, key, float(logit), now) for key, logit in items.items()]
        # One short transaction per batch: a long scoring run in another process never waits
        # behind a single huge write.
        for i in range(0, len(rows), _BATCH):
            with self.store.write() as db:
                db.conn.executemany(
                    "INSERT OR REPLACE INTO score_cache (fingerprint, prompt_hash, logit, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    rows[i : i + _BATCH],
                )

    def count(self, fingerprint: str | None = None) -> int:
        with self.store.read() as db:
            if fingerprint is None:
                return db.execute("SELECT COUNT(*) FROM score_cache").fetchone()[0]
            return db.execute(
                "SELECT COUNT(*) FROM score_cache WHERE fingerprint = ?", [fingerprint]
            ).fetchone()[0]

    def clear(self, fingerprint: str | None = None) -> int:
        """Forget cached scores (of one model fingerprint, or all); returns how many went."""
        with self.store.write() as db:
            if fingerprint is None:
                return db.execute("DELETE FROM score_cache").rowcount
            return db.execute("DELETE FROM score_cache WHERE fingerprint = ?", [fingerprint]).rowcount
