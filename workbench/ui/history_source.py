"""Where the history and compare screens read runs from: the run log the app writes to.

Every method blocks (a busy database waits up to the busy timeout): call them from thread workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.store import RunComparison, StoredRun
from workbench.store.history import (
    HistoryRow,
    chunk_snippets,
    history_page,
    history_row,
    last_two_done,
    session_named,
)
from workbench.store.sessions import default_session_name

PAGE_SIZE = 200  # rows fetched at a time; the next page loads as the cursor nears the end


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    scope: str  # what is listed: "session 2025-01-31" or "all sessions"
    total: int | None  # runs in scope; counted with the first page only
    more: bool  # older runs remain


@dataclass(frozen=True)
class ComparisonView:
    comparison: RunComparison
    a: HistoryRow
    b: HistoryRow
    snippets: dict[tuple[str, int, int], str]  # chunk text openings by (document hash, start, end)


class HistorySource:
    """Reads through a workbench.runlog.RunLogger (its store is safe to share between threads)."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.store = logger.store
        self.log = logger.log

    def current_session(self) -> tuple[int | None, str]:
        """(id or None when nothing was logged in it yet, name) of the session runs go to."""
        # The logger fixes its session on first use (the date may have changed since): ask it
        # first, and look the name up only when it has logged nothing yet, creating nothing.
        known = getattr(self.logger, "_session_id", None)
        name = getattr(self.logger, "session_name", None) or default_session_name()
        if known is not None:
            return known, self.log.get_session(known).name
        return session_named(self.store, name), name

    def page(self, all_sessions: bool, after: tuple[str, int] | None = None) -> HistoryPage:
        session_id, name = (None, "") if all_sessions else self.current_session()
        scope = "all sessions" if all_sessions else f"session {name}"
        if not all_sessions and session_id is None:
            return HistoryPage([], scope, 0, False)
        rows = history_page(self.store, session_id, PAGE_SIZE + 1, after)
        total = self.log.count_runs(session_id) if after is None else None
        return HistoryPage(rows[:PAGE_SIZE], scope, total, len(rows) > PAGE_SIZE)

    def load(self, run_id: int) -> StoredRun:
        return self.log.load_run(run_id)

    def compare(self, a: int, b: int) -> ComparisonView:
        comparison = self.log.compare_runs(a, b)
        row_a, row_b = history_row(self.store, a), history_row(self.store, b)
        if row_a is None or row_b is None:
            raise LookupError(f"run {a if row_a is None else b} is no longer in the log")
        return ComparisonView(comparison, row_a, row_b, chunk_snippets(self.store, [a, b]))

    def previous_pair(self, up_to: int | None = None) -> tuple[int, int] | None:
        """(older, newer): the newest finished run of this session (or run `up_to`) and the one before."""
        session_id = self.current_session()[0] if up_to is None else None
        if session_id is None and up_to is None:
            return None
        ids = last_two_done(self.store, session_id, up_to)
        return (ids[1], ids[0]) if len(ids) == 2 else None


def find_source(app: Any) -> HistorySource | str:
    """The app's run log as a HistorySource, or a sentence saying why there is no history."""
    log = getattr(app.live, "log", None) if app.live is not None else None
    logger = log.logger if log is not None else app._run_logger
    if logger is None:
        if app.model_state == "loading":
            return "The run log opens while the model loads; history is available in a moment."
        if app.model_state == "failed":
            return "The run log opens with the model, which could not be loaded: no history this time."
        return (
            "No run log: it could not be opened (see the notice shown at start-up), so runs are "
            "not recorded and there is no history to show. Scoring works as usual."
        )
    if not all(hasattr(logger, name) for name in ("store", "log")):
        return "This run log keeps no history (runs are not stored in a database)."
    return HistorySource(logger)
