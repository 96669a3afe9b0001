"""Logging runs and reading them back."""

from __future__ import annotations

import dataclasses

import pytest
from store_factories import FINGERPRINT, MODEL, make_documents, make_result

from workbench.engine.types import ChunkSettings, Document
from workbench.store import RunNotFoundError, SessionNotFoundError, StoreError


def test_round_trip_is_what_was_logged(log):
    session = log.ensure_session("round trip")
    docs = make_documents(4, 3)
    result = make_result(docs, seed=7)
    run_id = log.log_result(session, docs, result, FINGERPRINT)

    stored = log.load_run(run_id)
    assert stored.status == "done"
    assert stored.session_name == "round trip"
    assert stored.query == result.query and stored.instruction == result.instruction
    assert stored.chunking == result.chunking
    assert (stored.aggregate, stored.top_k) == (result.aggregate, result.top_k)
    assert stored.model == MODEL
    assert stored.fingerprint == FINGERPRINT
    assert stored.stats == result.stats
    assert stored.documents == docs
    assert stored.document_scores == result.documents
    assert stored.chunk_scores == result.ranked_chunks()
    assert stored.to_rank_result() == result
    assert stored.finished_at is not None


def test_texts_and_spans_are_stored_once(log, store):
    session = log.ensure_session("tests")
    docs = make_documents(2, 3)
    for seed in range(3):
        log.log_result(session, docs, make_result(docs, seed=seed), FINGERPRINT)
    assert store.db["documents"].count == 2
    assert store.db["chunks"].count == 6
    assert store.db["chunk_scores"].count == 18


def test_same_text_twice_in_one_run(log):
    session = log.ensure_session("tests")
    text = make_documents(1, 2)[0].text
    docs = [Document("a", text, "/a"), Document("b", text, "/b")]
    result = make_result(docs, {"a": [1.0, 2.0], "b": [3.0, -1.0]})
    stored = log.load_run(log.log_result(session, docs, result, FINGERPRINT))
    assert stored.document_scores == result.documents
    assert stored.document_hashes["a"] == stored.document_hashes["b"]


def test_begin_run_keeps_inputs_before_scores(log):
    session = log.ensure_session("tests")
    docs = make_documents(2, 2)
    run_id = log.begin_run(session, "q", "i", docs, ChunkSettings(0, 0), "first", 5, MODEL, {})
    stored = log.load_run(run_id)
    assert stored.status == "running" and not stored.finished
    assert stored.documents == docs
    assert stored.document_scores == [] and stored.chunk_scores == []
    assert stored.chunking == ChunkSettings(0, 0)


def test_cancelled_partial_run(log):
    session = log.ensure_session("tests")
    docs = make_documents(3, 2)
    full = make_result(docs, seed=3)
    partial = dataclasses.replace(full, documents=full.documents[:1], cancelled=True)
    run_id = log.begin_run(session, full.query, full.instruction, docs, full.chunking,
                           full.aggregate, full.top_k, MODEL, FINGERPRINT)
    log.finish_run(run_id, partial)
    stored = log.load_run(run_id)
    assert stored.status == "cancelled"
    assert stored.document_scores == partial.documents
    assert len(stored.documents) == 3
    assert stored.to_rank_result().cancelled


def test_finish_twice_or_unknown_is_refused(log):
    session = log.ensure_session("tests")
    docs = make_documents(1, 1)
    run_id = log.log_result(session, docs, make_result(docs), FINGERPRINT)
    with pytest.raises(StoreError, match="already done"):
        log.finish_run(run_id, make_result(docs))
    with pytest.raises(RunNotFoundError):
        log.finish_run(999, make_result(docs))
    with pytest.raises(RunNotFoundError, match="no run with id 999"):
        log.load_run(999)
    with pytest.raises(SessionNotFoundError):
        log.begin_run(999, "q", "i", docs, ChunkSettings(), "max", 1, MODEL, {})
    other = make_documents(1, 1, prefix="other")
    run2 = log.begin_run(session, "q", "i", docs, ChunkSettings(), "max", 1, MODEL, {})
    with pytest.raises(StoreError, match="has no document"):
        log.finish_run(run2, make_result(other))
    assert log.load_run(run2).status == "running"  # the refused write left nothing behind


def test_history_page_newest_first_paged_and_by_session(log):
    a, b = log.create_session("a"), log.create_session("b")
    docs = make_documents(2, 2)
    ids = [log.log_result(a if i % 2 else b, docs, make_result(docs, query=f"q{i}", seed=i),
                          FINGERPRINT) for i in range(7)]
    runs = log.history_page()
    assert [r.id for r in runs] == ids[::-1]
    first = log.history_page(limit=3)
    assert [r.id for r in log.history_page(limit=3, after=first[-1].cursor)] == ids[::-1][3:6]
    assert [r.id for r in log.history_page(session_id=a)] == [i for i in ids[::-1] if ids.index(i) % 2]
    assert log.count_runs() == 7 and log.count_runs(a) == 3
    top = runs[0]
    stored = log.load_run(top.id)
    assert top.documents == 2 and top.status == "done"
    assert (top.session_id, top.session_name) == (b, "b")
    assert top.top_doc == stored.document_scores[0].doc_id
    assert top.top_score == stored.document_scores[0].score
    assert log.run_ids(a) == [i for i in ids if ids.index(i) % 2]


def test_sessions_crud(log, store):
    today = log.ensure_session("tests")
    assert log.ensure_session("tests") == today  # one default session per day
    named = log.create_session("experiments", notes="chunk sizes")
    with pytest.raises(StoreError, match="already exists"):
        log.create_session("experiments")
    log.rename_session(named, "chunking")
    log.annotate_session(named, "256 vs 512")
    info = log.get_session(named)
    assert (info.name, info.notes, info.runs) == ("chunking", "256 vs 512", 0)
    with pytest.raises(StoreError, match="already exists"):
        log.rename_session(today, "chunking")
    docs = make_documents(2, 2)
    log.log_result(named, docs, make_result(docs), FINGERPRINT)
    kept = make_documents(1, 2, prefix="kept")
    log.log_result(today, kept, make_result(kept), FINGERPRINT)
    assert [s.name for s in log.list_sessions()][0] == log.get_session(today).name
    assert log.delete_session(named) == 1
    with pytest.raises(SessionNotFoundError):
        log.get_session(named)
    # Cascade took the run's rows; texts only that run used were pruned, others kept.
    assert log.count_runs() == 1
    assert store.db["documents"].count == 1
    assert store.db["chunks"].count == 2
    assert store.db["chunk_scores"].count == 2


def test_delete_run(log, store):
    session = log.ensure_session("tests")
    docs = make_documents(2, 2)
    first = log.log_result(session, docs, make_result(docs), FINGERPRINT)
    second = log.log_result(session, docs, make_result(docs, seed=1), FINGERPRINT)
    log.delete_run(first)
    assert log.run_ids() == [second]
    assert store.db["documents"].count == 2  # still used by the second run
    log.delete_run(second)
    assert store.db["documents"].count == 0 and store.db["chunks"].count == 0
    with pytest.raises(RunNotFoundError):
        log.delete_run(second)
