"""A persistent cache of text embeddings: (model fingerprint, hash of the exact token ids) -> vector.

For scorers whose work per document does not depend on the query (the offline fallback embeds each
chunk once and compares it with the query's embedding): a later launch, or a new query after a
relaunch, reuses the chunks' vectors instead of embedding the whole collection again. The scorer
computes both keys and encodes the vectors; this only stores and finds bytes.
"""

from __future__ import annotations

from workbench.store.keyed_cache import KeyedCache


class SqliteEmbeddingCache(KeyedCache):
    """Embedding cache in the session database: vectors (bytes) by fingerprint and text hash."""

    table, key, value = "embedding_cache", "text_hash", "vector"

    @staticmethod
    def encode(value: bytes) -> bytes:
        return bytes(value)
