"""The session's first-stage state: what it asks to compute, and late answers dropped."""

from __future__ import annotations

from first_stage_docs import DOCS

from workbench.engine.types import ChunkSettings, Document
from workbench.session import RunSettings, Workbench
from workbench.session.first_stage_view import FirstStageView, with_first_stage


def ranked_session(tiny_scorer, query: str) -> Workbench:
    bench = Workbench(RunSettings(ChunkSettings(16, 0)), query=query,
                      documents=[Document(name, text) for name, text in DOCS.items()])
    bench.attach(tiny_scorer)
    bench.run_now()
    return bench


def test_the_view_gets_first_stage_ranks_only_for_the_ranking_on_screen(tiny_scorer):
    bench, state = ranked_session(tiny_scorer, "visitor parking gate"), FirstStageView()
    assert state.request(bench) is None and with_first_stage(bench.view(), state.method, None) == bench.view()
    assert state.cycle() == "bm25"
    request = state.request(bench)
    assert request is not None and state.request(bench) is None  # asked once, not at every redraw
    view = with_first_stage(bench.view(), state.method, state.ranking())
    assert view.first_stage == "bm25" and view.first_stage_ranks == {}  # the column, no ranks yet
    assert state.accept(request.key, request.compute())
    view = with_first_stage(bench.view(), state.method, state.ranking())
    assert set(view.first_stage_ranks) == set(view.ranks)  # every chunk on screen has both ranks
    assert next(r for r in view.documents if r.doc_id == "parking.txt").first_stage_rank == 1
    # A new query on screen: the old ranking is not shown, and a late answer for it is dropped.
    bench.set_query("encryption key of the spare server")
    bench.run_now()
    newer = state.request(bench)
    assert newer is not None and state.ranking() is None
    assert not state.accept(request.key, request.compute())
    assert state.accept(newer.key, newer.compute())
    assert state.ranking().documents[0].doc_id == "backups.txt"
