"""Relaunching starts where the user left off; `--new` starts clean; each launch is its own session."""

from __future__ import annotations

import threading
from dataclasses import replace

from ui_helpers import sample_documents, wait_for, wait_ranked

from workbench.engine.loading import LoadOptions
from workbench.engine.types import ChunkSettings
from workbench.session.sqlite_recorder import SqliteRecorder
from workbench.store import open_store

SIZE = (100, 30)


def launch(make_app, db, **config):
    return make_app(recorder=SqliteRecorder(open_store(db), origin="app"), **config)


async def first_launch(make_app, db) -> list[tuple[str, int, float]]:
    """Rank once and log it; the ranking as (document, chunk, score), best first."""
    app = launch(make_app, db, query="moons of mars", instruction="Find passages about space",
                 chunking=ChunkSettings(40, 8))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot, "moons of mars")
        await wait_for(pilot, lambda: app.session.recorder.take_notices() == [] and app.session.recorder.session_id)
        return shown_ranking(app)


def shown_ranking(app) -> list[tuple[str, int, float]]:
    """The ranking table's rows as the user sees them: document, chunk index, score."""
    return [(c.doc_id, c.chunk.index, round(c.score, 6)) for c in app.session.view().chunks]


def slow_model_load(monkeypatch, scorer) -> threading.Event:
    """The app's model load waits until the returned event is set (a slow import, a big model)."""
    release = threading.Event()

    def load(options, progress=None):
        release.wait(30)
        return scorer

    monkeypatch.setattr("workbench.ui.app.load_scorer", load)
    return release


async def test_relaunch_restores_documents_query_instruction_and_settings(make_app, tmp_path):
    db = tmp_path / "runs.db"
    await first_launch(make_app, db)
    app = launch(make_app, db, documents=[])  # a bare `workbench`: nothing given
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot, "moons of mars")
        session = app.session
        assert session.instruction == "Find passages about space"
        assert session.settings.chunking == ChunkSettings(40, 8)
        assert {d.id for d in session.documents} == {"espresso.md", "mars.md", "backups.txt"}
        assert app.main.query_one("#query").text == "moons of mars"
        assert any("Restored from your last session" in n for n, _ in app.notices)
        # This launch logs into a session of its own.
        await wait_for(pilot, lambda: app.session.recorder.session_id is not None)
        rows = app.session.recorder.history().page(all_sessions=True).rows
        assert len({r.session_name for r in rows}) == 2


async def test_new_starts_clean_and_given_flags_win(make_app, tmp_path):
    db = tmp_path / "runs.db"
    await first_launch(make_app, db)
    clean = launch(make_app, db, documents=[], fresh=True)
    async with clean.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: clean.recorder_ready and clean.session.ranker is not None)
        await pilot.pause(0.2)
        assert clean.session.query == "" and clean.session.documents == []
    given = launch(make_app, db, query="grind size", explicit=frozenset({"query"}), documents_given=True)
    async with given.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot, "grind size")
        assert given.session.instruction == "Find passages about space"  # not given: restored
        assert given.session.settings.chunking == ChunkSettings(40, 8)


async def test_a_relaunch_shows_the_last_ranking_while_the_model_still_loads(make_app, tmp_path, monkeypatch, tiny_scorer):
    db = tmp_path / "runs.db"
    logged = await first_launch(make_app, db)
    release = slow_model_load(monkeypatch, tiny_scorer)
    app = launch(make_app, db, documents=[], scorer=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.view().chunks, what="the restored ranking")
        assert app.model_state == "loading"
        assert shown_ranking(app) == logged
        assert any("Its ranking is shown from the run log" in n for n, _ in app.notices)
        release.set()
        await wait_for(pilot, lambda: app.ranked_this_launch and not app.session.running, what="the model's own run")
        assert shown_ranking(app) == logged  # the same model and inputs: the same ranking, now live
        assert app.session.reopened_run is None


async def test_a_relaunch_on_changed_documents_shows_no_stale_ranking(make_app, tmp_path, monkeypatch, tiny_scorer):
    db = tmp_path / "runs.db"
    await first_launch(make_app, db)
    release = slow_model_load(monkeypatch, tiny_scorer)
    docs = sample_documents()
    docs[1] = replace(docs[1], text=docs[1].text.replace("two small moons", "no moons at all"))
    app = launch(make_app, db, documents=docs, documents_given=True, scorer=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Restored from your last session" in n for n, _ in app.notices))
        await pilot.pause(0.2)
        assert app.session.query == "moons of mars"  # the inputs are back...
        assert app.session.view().chunks == [] and app.session.result is None  # ...but not scores of other texts
        release.set()
        await wait_ranked(pilot, "moons of mars")
        assert app.session.reopened_run is None


async def test_a_relaunch_with_another_model_shows_no_ranking_of_the_old_one(make_app, tmp_path, monkeypatch, tiny_scorer):
    db = tmp_path / "runs.db"
    await first_launch(make_app, db)
    release = slow_model_load(monkeypatch, tiny_scorer)
    app = launch(make_app, db, documents=[], scorer=None, load_options=LoadOptions(model=str(tmp_path / "another-reranker")))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Restored from your last session" in n for n, _ in app.notices))
        await pilot.pause(0.2)
        assert app.session.query == "moons of mars" and app.session.view().chunks == []
        release.set()
        await wait_ranked(pilot, "moons of mars")
