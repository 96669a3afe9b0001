"""The one read model of recorded runs for the app: pages of the history (keyset-paged), a whole
run to reopen, two runs compared.

Every method blocks (a busy database waits up to the busy timeout): call them from a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workbench.engine.types import ChunkSpan
from workbench.store import RunComparison, RunLog, Store, StoredRun
from workbench.store.history import HistoryRow, chunk_snippets, history_page, history_row, last_two_done

PAGE_SIZE = 200  # rows fetched at a time; the next page loads as the cursor nears the end


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    scope: str  # what is listed: "session app 2026-11-29 23:41:07" or "all sessions"
    total: int | None  # runs in scope; counted with the first page only
    more: bool  # older runs remain


@dataclass(frozen=True)
class ComparisonView:
    comparison: RunComparison
    a: HistoryRow
    b: HistoryRow
    snippets: dict[tuple[str, int, int], str]  # chunk text openings by (document hash, start, end)


class RunHistory:
    """`current_session` says which session this process writes to: (id or None if it has
    recorded nothing yet, name)."""

    def __init__(self, store: Store, current_session: Callable[[], tuple[int | None, str]]) -> None:
        self.store = store
        self.log = RunLog(store)
        self.current_session = current_session

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


def stored_spans(run: StoredRun) -> dict[str, list[ChunkSpan]] | None:
    """Every document's chunks in order, as logged; None when the log lacks some of them."""
    spans: dict[str, list[ChunkSpan]] = {d.id: [] for d in run.documents}
    for c in sorted(run.chunk_scores, key=lambda c: c.chunk.index):
        spans.setdefault(c.doc_id, []).append(c.chunk)
    complete = all(s.index == i for chunks in spans.values() for i, s in enumerate(chunks))
    return spans if complete and run.status == "done" and run.chunk_scores else None
