"""History (F5), reopening a logged run, and comparing runs (F9), on a real SQLite run log."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from workbench.session.history import PAGE_SIZE
from workbench.session.sqlite_recorder import SqliteRecorder
from workbench.store import open_store
from workbench.ui.screens.compare import CompareScreen
from workbench.ui.screens.history import HistoryScreen
from workbench.ui.widgets.chunk_list import ChunkList
from workbench.ui.widgets.compare_list import CompareList, change_text
from workbench.ui.widgets.history_list import HistoryList

from ui_helpers import wait_for, wait_ranked

SIZE = (120, 40)
Q1, Q2 = "how fine should the grind be", "moons of mars"
OTHER_INSTRUCTION = "Find passages about space missions"


@pytest.fixture
def run_logger(tmp_path):
    logger = SqliteRecorder(open_store(tmp_path / "runs.db"), origin="app", session="history test")
    yield logger
    logger.close()


def done_runs(logger) -> list:
    return [r for r in logger.log.history_page(limit=100) if r.status == "done"]


async def two_runs(pilot, logger, *, instruction: str | None = None, query: str = Q2) -> None:
    """The app's first query is ranked and logged, then one edit makes a second logged run."""
    app = pilot.app
    await wait_ranked(pilot, Q1)
    await wait_for(pilot, lambda: len(done_runs(logger)) == 1, what="the first run logged")
    if instruction is not None:
        app.main.query_one("#instruction", TextArea).load_text(instruction)
        query = Q1
    else:
        app.main.query_one("#query", TextArea).load_text(query)  # one edit: one run
    await wait_ranked(pilot, query)
    await wait_for(pilot, lambda: len(done_runs(logger)) == 2, what="the second run logged")


async def open_history(pilot) -> HistoryList:
    await pilot.press("f5")
    assert isinstance(pilot.app.screen, HistoryScreen)
    listing = pilot.app.screen.query_one(HistoryList)
    await wait_for(pilot, lambda: listing.row_count > 0, what="the history listing")
    return listing


async def test_history_lists_compares_and_reopens_runs(make_app, run_logger):
    app = make_app(query=Q1, recorder=run_logger)
    async with app.run_test(size=SIZE) as pilot:
        await two_runs(pilot, run_logger)
        listing = await open_history(pilot)
        assert [r.query for r in listing.rows] == [Q2, Q1]  # newest first
        newer, older = listing.keys()
        assert all(r.status == "done" and r.pairs for r in listing.rows)

        # Compare: mark the newer run, go to the older one, c.
        await pilot.press("space", "down", "c")
        assert isinstance(app.screen, CompareScreen) and (app.screen.a, app.screen.b) == (older, newer)
        compare = app.screen
        await wait_for(pilot, lambda: compare.view is not None, what="the comparison")
        comparison = run_logger.log.compare_runs(older, newer)
        stats = str(compare.query_one("#compare-stats").render())
        assert f"Kendall τ {comparison.kendall_tau:+.2f}" in stats
        assert "top-1/3/5/10 overlap " + " ".join(f"{v:.0%}" for v in comparison.top_k_overlap.values()) in stats
        rows = compare.query_one(CompareList).rows
        assert [r.rank_b for r in rows] == sorted(r.rank_b for r in rows)  # by rank in B
        moves = {change_text(r).plain[0] for r in rows}
        assert moves <= {"▲", "▼", "="} and moves & {"▲", "▼"}
        assert (compare.view.a.query, compare.view.b.query) == (Q1, Q2)

        # Back in the history, reopen the older run.
        await pilot.press("escape")
        assert app.screen is not compare and isinstance(app.screen, HistoryScreen)
        generation = app.session.generation
        await pilot.press("enter")  # the cursor is on the older run
        await wait_for(pilot, lambda: app.session.result is not None and app.session.result.query == Q1 and app.screen is app.main,
                       what="the reopened run")
        # Its ranking comes from the log: nothing was scored again.
        stored = run_logger.log.load_run(older)
        assert app.main.query_one("#query", TextArea).text == Q1
        assert not app.session.running and app.session.generation == generation + 1
        table = app.widget(ChunkList)
        assert table.row_count == len(stored.chunk_scores) > 3
        assert [(c.doc_id, c.chunk.index, c.score) for c in table.rows] == [
            (c.doc_id, c.chunk.index, c.score) for c in stored.chunk_scores
        ]
        assert f"Reopened run #{older}" in str(app.main.query_one("#run-message").render())
        await pilot.pause(0.2)
        assert len(done_runs(run_logger)) == 2 and not app.session.running  # reopening started no run

        # F9 compares the reopened run with the one before it: there is none.
        await pilot.press("f9")
        await wait_for(pilot, lambda: any("two finished runs" in n for n, _ in app.notices), what="a notice")

        # Editing scores as usual again.
        app.action_focus_query()
        await pilot.press("end", *" espresso")
        await wait_ranked(pilot, Q1 + " espresso")
        await wait_for(pilot, lambda: done_runs(run_logger)[0].query == Q1 + " espresso", what="the edited run logged")


async def test_compare_with_the_previous_run_shortcut(make_app, run_logger):
    app = make_app(query=Q1, recorder=run_logger)
    async with app.run_test(size=SIZE) as pilot:
        await two_runs(pilot, run_logger, instruction=OTHER_INSTRUCTION)
        first, second = sorted(r.id for r in done_runs(run_logger))
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        assert (app.screen.a, app.screen.b) == (first, second)
        await wait_for(pilot, lambda: app.screen.view is not None, what="the comparison")
        assert app.screen.view.b.instruction == OTHER_INSTRUCTION != app.screen.view.a.instruction


async def test_history_pages_and_toggles_all_sessions(make_app, run_logger, tiny_scorer):
    from workbench.engine.types import ChunkSettings, Document, DocumentScore, RankResult, RunStats
    from workbench.store import run_fingerprint

    log = run_logger.log
    other = log.ensure_session("older session")
    mine = log.ensure_session("history test")
    doc = Document("a.txt", "some text", None)
    for n in range(PAGE_SIZE + 60):
        result = RankResult(f"query {n}", "", tiny_scorer.info, ChunkSettings(48, 8), "max", 3,
                            [DocumentScore("a.txt", None, 0.5, 1, [])], RunStats(0, 0, 0, 0, 0.0))
        log.log_result(mine if n % 2 else other, [doc], result, run_fingerprint("x"))
    app = make_app(query="", recorder=run_logger)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.session.ranker is not None, what="the model")
        listing = await open_history(pilot)
        assert listing.row_count == (PAGE_SIZE + 60) // 2  # this session only: one page
        assert listing.rows[0].query == f"query {PAGE_SIZE + 59}"
        await pilot.press("a")
        await wait_for(pilot, lambda: listing.row_count == PAGE_SIZE, what="the first page of all sessions")
        await pilot.press("end")  # near the end of what is loaded: the next page comes
        await wait_for(pilot, lambda: listing.row_count == PAGE_SIZE + 60, what="the second page")
        assert [r.query for r in listing.rows] == [f"query {n}" for n in reversed(range(PAGE_SIZE + 60))]
        assert "260 runs" in str(app.screen.query_one("#history-title").render())


async def test_history_without_a_run_log(make_app, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    app = make_app(query="mars", db=blocker / "runs.db", recorder=None)  # opening config.db fails
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ranked(pilot, "mars")  # scoring works without a log
        await pilot.press("f5")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.pause()
        message = str(app.screen.query_one("#history-message").render())
        assert "could not be opened" in message and app.screen.query_one("#history-message").display
        await pilot.press("escape", "f9")
        await wait_for(pilot, lambda: any("could not be opened" in n for n, _ in app.notices), what="a notice")
        assert app.screen is app.main


async def test_history_with_a_log_that_keeps_no_history(make_app):
    app = make_app(query="mars")  # the fake run log
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ranked(pilot, "mars")
        await pilot.press("f5")
        await pilot.pause()
        assert "No history: runs are kept in a test's memory" in str(app.screen.query_one("#history-message").render())


def test_compare_screen_80x24(make_app, run_logger, snap_compare):
    app = make_app(query=Q1, recorder=run_logger, hide_volatile=True)

    async def compared(pilot) -> None:
        await two_runs(pilot, run_logger, instruction=OTHER_INSTRUCTION)
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.view is not None,
                       what="the comparison")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=compared)
