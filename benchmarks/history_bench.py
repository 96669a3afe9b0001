"""History benchmark: N logged runs (20 chunks each, 10 sessions), then the reads the history and
compare screens do, and the same driven through the app with Pilot at 80x24.

    .venv/bin/python benchmarks/history_bench.py [--runs 3000] [--model DIR]

Without --model a tiny random Qwen3 reranker is built in a temp directory (the app needs a
scorer; nothing here scores). Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
sys.path.insert(0, str(Path(__file__).parent))

from store_bench import make_run, report, timed  # noqa: E402

from workbench.engine.loading import LoadOptions, load_scorer  # noqa: E402
from workbench.session.sqlite_recorder import SqliteRecorder  # noqa: E402
from workbench.store import RunLog, open_store  # noqa: E402
from workbench.store.history import chunk_snippets, history_page  # noqa: E402
from workbench.session.history import PAGE_SIZE  # noqa: E402


def fill(path: Path, runs: int) -> None:
    import random

    store = open_store(path)
    log = RunLog(store)
    sessions = [log.ensure_session(f"session {s}") for s in range(10)]
    rng = random.Random(0)
    for i in range(runs):
        docs, result = make_run(i, rng)
        log.log_result(sessions[i % 10], docs, result, {"prompt_template_hash": "abc"})
    store.close()


def store_figures(path: Path, runs: int) -> None:
    logger = SqliteRecorder(open_store(path), origin="app", session="session 3")
    source = logger.history()
    session_id, _ = source.current_session()
    report(f"history_page, session, first {PAGE_SIZE + 1}", timed(lambda: history_page(logger.store, session_id, PAGE_SIZE + 1)))
    report(f"history_page, all {runs}, first {PAGE_SIZE + 1}", timed(lambda: history_page(logger.store, None, PAGE_SIZE + 1)))
    rows = history_page(logger.store, None, runs)
    deep = rows[-PAGE_SIZE - 1].cursor
    report(f"history_page, all, last page (keyset)", timed(lambda: history_page(logger.store, None, PAGE_SIZE + 1, deep)))
    report("RunHistory.page (first page + count), all", timed(lambda: source.page(True)))
    a, b = rows[10].id, rows[0].id
    report("RunHistory.compare (20 vs 20 + snippets)", timed(lambda: source.compare(a, b)))
    report("  of which chunk_snippets", timed(lambda: chunk_snippets(logger.store, [a, b])))
    report("RunHistory.load (reopen: 4 docs, 20 chunks)", timed(lambda: source.load(b)))
    logger.close()


async def ui_figures(path: Path, model_dir: str) -> None:
    from textual.widgets import TextArea

    from workbench.ui.app import WorkbenchApp, WorkbenchConfig
    from workbench.ui.screens.compare import CompareScreen
    from workbench.ui.widgets.history_list import HistoryList

    class NoPresets:
        def list(self):
            return []

    scorer = load_scorer(LoadOptions(model=model_dir))
    logger = SqliteRecorder(open_store(path), origin="app", session="session 3")
    app = WorkbenchApp(WorkbenchConfig(load_options=LoadOptions(model=model_dir), fresh=True), scorer=scorer,
                       recorder=logger, presets=NoPresets())

    async def until(pilot, condition, timeout: float = 30.0) -> float:
        start = time.perf_counter()
        while not condition():
            if time.perf_counter() - start > timeout:
                raise TimeoutError
            await pilot.pause(0.002)
        return (time.perf_counter() - start) * 1000

    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.session.ranker is not None)
        for attempt in ("first", "second"):
            start = time.perf_counter()
            app.action_help()
            await until(pilot, lambda: app.screen.is_mounted and type(app.screen).__name__ == "HelpScreen")
            report(f"UI baseline: help screen mounted ({attempt} time)", (time.perf_counter() - start) * 1000)
            app.screen.dismiss()
            await pilot.pause()
        for attempt in ("first", "second"):
            start = time.perf_counter()
            app.action_history()
            await until(pilot, lambda: type(app.screen).__name__ == "HistoryScreen" and app.screen.query(HistoryList))
            listing = app.screen.query_one(HistoryList)
            await until(pilot, lambda: listing.row_count > 0)
            report(f"UI: history opened, {listing.row_count} runs listed ({attempt} time)", (time.perf_counter() - start) * 1000)
            if attempt == "first":
                app.screen.dismiss(None)
                await pilot.pause()
        screen = app.screen
        start = time.perf_counter()
        screen.action_toggle_all()
        await until(pilot, lambda: not screen.loading and listing.row_count > 0)
        report(f"UI: all sessions, first page ({listing.row_count} rows)", (time.perf_counter() - start) * 1000)
        start, pages = time.perf_counter(), 0
        while screen.more:
            listing.action_move(10**9)  # the `end` key
            pages += 1
            await pilot.pause()  # the cursor's Highlighted message starts the next page
            await until(pilot, lambda: not screen.loading)
        report(f"UI: `end` until all {listing.row_count} listed ({pages} more pages)", (time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        listing.action_move(-10**9)
        await pilot.pause()
        report("UI: `home` over all rows, redrawn", (time.perf_counter() - start) * 1000)
        listing.action_move(0)
        screen.action_mark()
        listing.action_move(1)
        start = time.perf_counter()
        screen.action_compare()
        await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.view is not None)
        report("UI: compare screen with its comparison shown", (time.perf_counter() - start) * 1000)
        app.screen.dismiss()
        await pilot.pause()
        start = time.perf_counter()
        listing.action_select()
        await until(pilot, lambda: app.result is not None and app.screen is app.main)
        report("UI: run reopened, its ranking shown", (time.perf_counter() - start) * 1000)
        assert app.main.query_one("#query", TextArea).text.startswith("query")
    logger.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--model", default=None, help="a local reranker directory (default: a tiny random one)")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name) / "bench.db"
    start = time.perf_counter()
    fill(path, args.runs)
    print(f"logged {args.runs} runs in {time.perf_counter() - start:.1f} s")
    store_figures(path, args.runs)
    model_dir = args.model
    if model_dir is None:
        from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

        model_dir = str(save_tiny_qwen3_reranker(Path(tmp.name) / "tiny-qwen3"))
    asyncio.run(ui_figures(path, model_dir))
    tmp.cleanup()


if __name__ == "__main__":
    main()
