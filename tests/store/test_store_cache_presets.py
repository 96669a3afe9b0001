"""The persistent score cache and instruction presets."""

from __future__ import annotations

import multiprocessing

import pytest
from store_factories import fill_cache

from workbench.store import (
    PresetNotFoundError,
    Presets,
    SqliteScoreCache,
    StoreError,
    open_store,
)
from workbench.store.presets import DEFAULT_PRESETS, OFFICIAL_INSTRUCTION


def test_cache_round_trip(store):
    cache = SqliteScoreCache(store)
    assert cache.get_many("fp", ["a", "b"]) == {}
    cache.put_many("fp", {"a": 1.5, "b": -2.25})
    cache.put_many("other", {"a": 9.0})
    cache.put_many("fp", {})
    assert cache.get_many("fp", ["a", "b", "c", "a"]) == {"a": 1.5, "b": -2.25}
    assert cache.get_many("other", ["a", "b"]) == {"a": 9.0}
    cache.put_many("fp", {"a": 3.0})  # same key again: overwritten, not duplicated
    assert cache.get_many("fp", ["a"]) == {"a": 3.0}
    assert cache.count() == 3 and cache.count("fp") == 2
    assert cache.clear("other") == 1
    assert cache.get_many("other", ["a"]) == {}


def test_cache_survives_reopen_and_large_batches(data_dir):
    items = {f"{i:064x}": i / 7 for i in range(1800)}  # several 500-parameter batches
    store = open_store()
    SqliteScoreCache(store).put_many("fp", items)
    store.close()
    store = open_store()
    assert SqliteScoreCache(store).get_many("fp", list(items)) == items
    store.close()


def test_cache_two_processes(tmp_path):
    path = tmp_path / "cache.db"
    open_store(path).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        found = pool.starmap(fill_cache, [(str(path), 0, 1000), (str(path), 1, 1000)])
    assert found == [1000, 1000]
    store = open_store(path)
    cache = SqliteScoreCache(store)
    assert cache.count("fp") == 3000  # 1000 shared + 1000 private each
    assert cache.get_many("fp", ["w1-k999", "k5"]) == {"w1-k999": -999.0, "k5": 5.0}
    store.close()


def test_default_presets_include_the_official_instruction(store):
    presets = Presets(store).list()
    assert [p.name for p in presets] == [name for name, _ in DEFAULT_PRESETS]
    assert OFFICIAL_INSTRUCTION in [p.text for p in presets]
    assert OFFICIAL_INSTRUCTION == (
        "Given a web search query, retrieve relevant passages that answer the query"
    )


def test_presets_crud(store):
    presets = Presets(store)
    saved = presets.save("legal", "Given a legal question, retrieve relevant statutes")
    assert presets.get("legal") == saved
    presets.save("legal", "Given a legal question, retrieve relevant case law")
    assert presets.get("legal").text.endswith("case law") and presets.get("legal").id == saved.id
    presets.rename("legal", "law")
    with pytest.raises(PresetNotFoundError):
        presets.get("legal")
    with pytest.raises(StoreError, match="already exists"):
        presets.rename("law", DEFAULT_PRESETS[0][0])
    presets.delete("law")
    with pytest.raises(PresetNotFoundError):
        presets.delete("law")
    with pytest.raises(StoreError):
        presets.save("  ", "x")


def test_deleted_defaults_stay_deleted_until_restored(data_dir):
    store = open_store()
    presets = Presets(store)
    for preset in presets.list():
        presets.delete(preset.name)
    store.close()
    store = open_store()
    presets = Presets(store)
    assert presets.list() == []  # reopening does not seed again
    assert presets.restore_defaults() == len(DEFAULT_PRESETS)
    assert len(presets.list()) == len(DEFAULT_PRESETS)
    store.close()
