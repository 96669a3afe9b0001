"""The history screen's reads: keyset pages, sessions by name, the last two finished runs, snippets."""

from __future__ import annotations

from store_factories import FINGERPRINT, MODEL, make_documents, make_result

from workbench.engine.types import ChunkSettings
from workbench.store.history import SNIPPET_CHARS, chunk_snippets, history_page, history_row, last_two_done, session_named


def log_runs(log, session_id, n, prefix="q"):
    docs = make_documents(2, 2)
    return [log.log_result(session_id, docs, make_result(docs, query=f"{prefix}{i}", seed=i), FINGERPRINT) for i in range(n)]


def test_pages_are_newest_first_and_keyset_paged(store, log):
    mine, other = log.ensure_session("mine"), log.ensure_session("other")
    ids = log_runs(log, mine, 7)
    log_runs(log, other, 3, prefix="o")
    first = history_page(store, mine, 3)
    assert [r.id for r in first] == ids[::-1][:3]
    # A run logged between two pages shifts nothing: the next page starts after the last row.
    log_runs(log, mine, 1, prefix="new")
    second = history_page(store, mine, 3, first[-1].cursor)
    assert [r.id for r in second] == ids[::-1][3:6]
    assert len(history_page(store, None, 100)) == 11
    row = first[0]
    assert (row.query, row.status, row.documents, row.pairs, row.session_name) == ("q6", "done", 2, 4, "mine")
    assert (row.chunk_tokens, row.chunk_overlap, row.aggregate, row.model_id) == (16, 0, "max", MODEL.model_id)


def test_long_texts_are_cut_and_running_runs_have_no_pairs(store, log):
    session = log.ensure_session("s")
    docs = make_documents(1, 1)
    run_id = log.begin_run(session, "x" * 5000, "y" * 5000, docs, ChunkSettings(16, 0), "max", 3, MODEL, FINGERPRINT)
    row = history_row(store, run_id)
    assert len(row.query) == len(row.instruction) == SNIPPET_CHARS
    assert row.status == "running" and row.pairs is None and row.latency_s is None
    assert (row.session_id, row.top_doc, row.top_score) == (session, None, None)
    assert history_row(store, run_id + 1) is None


def test_the_top_document_is_one_row_even_when_ranks_tie(store, log):
    session = log.ensure_session("s")
    run_id = log_runs(log, session, 1)[0]
    best = log.load_run(run_id).document_scores[0]
    row = history_row(store, run_id)
    assert (row.top_doc, row.top_score) == (best.doc_id, best.score)
    with store.write() as db:  # never written so, but a list must not show a run twice
        db.execute("UPDATE run_documents SET rank = 1 WHERE run_id = ?", [run_id])
    assert [r.id for r in history_page(store, session, 10)] == [run_id]


def test_session_named_creates_nothing(store, log):
    assert session_named(store, "nobody") is None
    assert log.list_sessions() == []
    assert session_named(store, "s") is None
    sid = log.ensure_session("s")
    assert session_named(store, "s") == sid


def test_last_two_done_skips_unfinished_runs_and_respects_up_to(store, log):
    session = log.ensure_session("s")
    a, b, c = log_runs(log, session, 3)
    docs = make_documents(1, 1)
    log.begin_run(session, "in flight", "", docs, ChunkSettings(16, 0), "max", 3, MODEL, FINGERPRINT)
    assert last_two_done(store, session) == [c, b]
    assert last_two_done(store, session, up_to=b) == [b, a]
    assert last_two_done(store, session, up_to=a) == [a]
    elsewhere = log.ensure_session("elsewhere")
    (d,) = log_runs(log, elsewhere, 1)
    assert last_two_done(store, elsewhere) == [d]
    assert last_two_done(store, elsewhere, up_to=b) == [b, a]  # the session of run `up_to`
    assert last_two_done(store, session, up_to=999) == []


def test_chunk_snippets_cover_both_runs(store, log):
    session = log.ensure_session("s")
    a, b = log_runs(log, session, 2)
    docs = make_documents(2, 2)
    snippets = chunk_snippets(store, [a, b], chars=10)
    comparison = log.compare_runs(a, b)
    assert {(c.document_hash, c.start, c.end) for c in comparison.chunks} == set(snippets)
    assert all(len(text) == 10 for text in snippets.values())
    assert docs[0].text[:10] in snippets.values()
