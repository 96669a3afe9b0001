"""A persistent score cache: (model fingerprint, hash of the exact prompt token ids) -> logit.

The engine computes both keys; the cache only stores and finds them. Hitting it skips the model
entirely, so it must never answer for a different model or prompt: the fingerprint covers the
model identity, and the key covers every token the model would have seen.
"""

from __future__ import annotations

from workbench.store.keyed_cache import KeyedCache


class SqliteScoreCache(KeyedCache):
    """Score cache in the session database: logits by fingerprint and prompt hash."""

    table, key, value = "score_cache", "prompt_hash", "logit"

    @staticmethod
    def encode(value: float) -> float:
        return float(value)
