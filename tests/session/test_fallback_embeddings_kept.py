"""The offline fallback's chunk embeddings outlive the process: the collection is embedded once,
and a new query after a relaunch embeds the query alone (seconds on sample_data, not a first
ranking's ten). The vectors are the ones computed then, so the scores are too."""

from __future__ import annotations

import pytest

from workbench.engine.fallback import EmbeddingFallback
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings
from workbench.session import RunSettings, Workbench
from workbench.session.sqlite_recorder import open_recorder
from workbench.store import SqliteEmbeddingCache, open_store

CHUNKS = ChunkSettings(24, 4)


def launch(db, documents, query: str) -> tuple[EmbeddingFallback, dict]:
    """A launch of the app: a fresh fallback (nothing in memory) over the same database."""
    fallback = EmbeddingFallback()
    recorder = open_recorder(db, origin="app")
    wb = Workbench(RunSettings(CHUNKS), recorder, query=query, documents=documents)
    wb.attach(fallback)
    result = wb.run_now()
    recorder.close()
    return fallback, {(c.doc_id, c.chunk.index): c.logit for c in result.ranked_chunks()}


def test_a_new_query_after_a_relaunch_embeds_only_the_query(documents, tmp_path):
    db = tmp_path / "runs.db"
    first, _ = launch(db, documents, "how fine should the espresso grind be")
    chunks = SqliteEmbeddingCache(open_store(db)).count()
    assert chunks > 3  # every chunk's vector was kept

    query = "which moons does mars have"
    second, scores = launch(db, documents, query)
    assert second.computed_tokens([]) == len(second.tokenizer.encode(query))  # the query, nothing else
    assert SqliteEmbeddingCache(open_store(db)).count() == chunks

    # The same scores as embedding every chunk in this process (the first launch's fallback has
    # them all in memory and embeds only the new query).
    in_memory = Ranker(first).rank(query, "", documents, CHUNKS)
    assert scores == {(c.doc_id, c.chunk.index): c.logit for c in in_memory.ranked_chunks()}
    assert max(scores, key=scores.get)[0] == "mars.md"


class DamagedCache:
    """Holds what it is given, but answers with a truncated vector for one key."""

    def __init__(self):
        self.vectors = {}

    def get_many(self, fingerprint, keys):
        found = {k: self.vectors[(fingerprint, k)] for k in keys if (fingerprint, k) in self.vectors}
        for k in list(found)[:1]:
            found[k] = found[k][:-4]
        return found

    def put_many(self, fingerprint, items):
        self.vectors.update({(fingerprint, k): v for k, v in items.items()})


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_a_damaged_stored_vector_is_embedded_again_not_trusted(documents, dtype):
    cache = DamagedCache()
    first = EmbeddingFallback(dtype=dtype)
    first.keep_embeddings_in(cache)
    want = Ranker(first).rank("coffee", "", documents, CHUNKS)
    stored = len(cache.vectors)
    assert stored > 3

    second = EmbeddingFallback(dtype=dtype)
    second.keep_embeddings_in(cache)
    got = Ranker(second).rank("coffee", "", documents, CHUNKS)
    # The query and the one damaged chunk were embedded; every other chunk came from the cache.
    again = second.computed_tokens([]) - len(second.tokenizer.encode("coffee"))
    assert 0 < again <= CHUNKS.tokens + 2  # one chunk, [CLS] and [SEP] around it
    assert [c.logit for c in got.ranked_chunks()] == [c.logit for c in want.ranked_chunks()]
