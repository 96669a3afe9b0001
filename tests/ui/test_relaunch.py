"""Relaunching starts where the user left off; `--new` starts clean; each launch is its own session."""

from __future__ import annotations

from ui_helpers import wait_for, wait_ranked

from workbench.engine.types import ChunkSettings
from workbench.session.sqlite_recorder import SqliteRecorder
from workbench.store import open_store

SIZE = (100, 30)


def launch(make_app, db, **config):
    return make_app(recorder=SqliteRecorder(open_store(db), origin="app"), **config)


async def first_launch(make_app, db) -> None:
    app = launch(make_app, db, query="moons of mars", instruction="Find passages about space",
                 chunking=ChunkSettings(40, 8))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot, "moons of mars")
        await wait_for(pilot, lambda: app.session.recorder.take_notices() == [] and app.session.recorder.session_id)


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
