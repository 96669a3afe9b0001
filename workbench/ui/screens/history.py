"""F5: the runs of this session (or of all sessions), newest first. Enter reopens one; mark one
with space and press c on another to compare them (c alone compares with the run before)."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from workbench.store import StoreError
from workbench.store.history import HistoryRow

from ..history_messages import HistoryFailed, HistoryLoaded
from workbench.session.history import RunHistory
from ..widgets.history_list import HistoryList, chunk_label, local_time, seconds
from ..widgets.line_list import LineList
from ..widgets.status_bar import MASK, short_model_id
from .compare import CompareScreen

PREFETCH = 40  # rows before the end of what is loaded at which the next page is fetched
HINT = "enter reopen · space mark · c compare · a all sessions · r reload · esc back"


def one_line(label: str, text: str) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(label, "dim")
    line.append(" ".join(text.split()) or "(empty)")
    return line


class HistoryScreen(Screen[int | None]):
    """Dismisses with the id of the run to reopen, or None."""

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; width: 100%; padding: 0 1; background: $panel; text-style: bold; }
    HistoryScreen #history-message { height: auto; width: 100%; padding: 1 2; display: none; }
    HistoryScreen.-empty #history-message { display: block; }
    HistoryScreen.-empty #history-list { display: none; }
    HistoryScreen #history-detail { height: 4; padding: 0 1; border-top: hkey $secondary 40%; }
    HistoryScreen #history-hint { height: 1; width: 100%; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("space,m", "mark", "Mark the run to compare (again: unmark)", id="history.mark", show=False),
        Binding("c", "compare", "Compare the marked run with this one (no mark: with the run before)", id="history.compare", show=False),
        Binding("a", "toggle_all", "This session only / all sessions", id="history.all-sessions", show=False),
        Binding("r", "reload", "Read the list again", id="history.reload", show=False),
        Binding("escape,f5", "close", "Back to the main screen", id="history.close", show=False),
        Binding("f1", "app.help", "Help", show=False),
    ]

    def __init__(self, source: RunHistory | str, hide_volatile: bool = False) -> None:
        super().__init__()
        self.source, self.hide_volatile = source, hide_volatile
        self.all_sessions = False
        self.token = 0  # pages of an older listing (before a toggle or reload) are dropped
        self.more = self.loading = False
        self.total: int | None = None
        self.scope = ""

    def compose(self) -> ComposeResult:
        yield Label("History", id="history-title")
        yield Label("", id="history-message")
        yield HistoryList(hide_volatile=self.hide_volatile, id="history-list")
        yield Static("", id="history-detail")
        yield Label(HINT, id="history-hint")

    def on_mount(self) -> None:
        self.query_one(HistoryList).focus()
        if isinstance(self.source, str):
            self._message(self.source)
            self._title("History unavailable")
        else:
            self.action_reload()

    # -- loading ------------------------------------------------------------------------------

    def action_reload(self) -> None:
        if isinstance(self.source, str):
            return
        self.token += 1
        self.more, self.loading = False, True
        self._title(f"History · {'all sessions' if self.all_sessions else 'this session'} · reading…")
        self.read_page(self.source, self.all_sessions, None, self.token)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="history listing")
    def read_page(self, source: RunHistory, all_sessions: bool, after: tuple[str, int] | None, token: int) -> None:
        try:
            page = source.page(all_sessions, after)
        except StoreError as e:  # locked past the busy timeout, damaged: say so here
            self.post_message(HistoryFailed(f"The run log could not be read: {e}"))
            return
        self.post_message(HistoryLoaded(page, after is not None, token))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if message.token != self.token:
            return
        page, listing = message.page, self.query_one(HistoryList)
        self.loading, self.more, self.scope = False, page.more, page.scope
        if page.total is not None:
            self.total = page.total
        listing.set_rows(listing.rows + page.rows if message.append else page.rows)
        if not listing.rows:
            other = "a lists all sessions." if not self.all_sessions else ""
            self._message(f"No runs in {page.scope} yet. Type a query in the main screen: every ranking is logged. {other}")
        else:
            self.set_class(False, "-empty")
            self._show_detail(listing.rows[listing.cursor])
        self._title_counts()

    def on_history_failed(self, message: HistoryFailed) -> None:
        self.loading = False
        self._message(message.text)
        self._title("History unavailable")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Failures of this screen's workers (the app's own handler sees only its workers)."""
        if event.state == WorkerState.ERROR:
            self.loading = False
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title="History failed", severity="error", timeout=10)

    # -- the list -----------------------------------------------------------------------------

    @on(LineList.Highlighted, "#history-list")
    def _highlighted(self, event: LineList.Highlighted) -> None:
        event.stop()
        listing = self.query_one(HistoryList)
        if listing.rows:
            self._show_detail(listing.rows[listing.cursor])
        if self.more and not self.loading and listing.cursor >= listing.row_count - PREFETCH:
            self.loading = True
            self.read_page(self.source, self.all_sessions, listing.rows[-1].cursor, self.token)

    @on(LineList.Selected, "#history-list")
    def _selected(self, event: LineList.Selected) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_mark(self) -> None:
        listing = self.query_one(HistoryList)
        key = listing.key_at_cursor()
        if key is not None:
            listing.set_marked(None if listing.marked == key else key)
            self._title_counts()

    def action_compare(self) -> None:
        listing = self.query_one(HistoryList)
        if isinstance(self.source, str) or not listing.rows:
            return
        here = listing.cursor
        ids = listing.keys()
        if listing.marked is not None and listing.marked != ids[here]:
            there = ids.index(listing.marked) if listing.marked in ids else None
        else:
            there = here + 1 if here + 1 < len(ids) else None
        if there is None:
            self.notify("Mark a run with space first, or pick a run that has an older one below it.", severity="warning")
            return
        older, newer = (ids[there], ids[here]) if there > here else (ids[here], ids[there])
        self.app.push_screen(CompareScreen(self.source, older, newer, hide_volatile=self.hide_volatile))

    def action_toggle_all(self) -> None:
        self.all_sessions = not self.all_sessions
        self.action_reload()

    def action_close(self) -> None:
        self.dismiss(None)

    # -- text ---------------------------------------------------------------------------------

    def _message(self, text: str) -> None:
        self.query_one("#history-message", Label).update(text)
        self.query_one("#history-detail", Static).update("")
        self.set_class(True, "-empty")

    def _title(self, text: str) -> None:
        self.query_one("#history-title", Label).update(text)

    def _title_counts(self) -> None:
        listing = self.query_one(HistoryList)
        shown, total = listing.row_count, self.total if self.total is not None else listing.row_count
        counts = f"{total} run{'s' * (total != 1)}" + (f", newest {shown} listed" if shown < total else "")
        marked = f" · run #{listing.marked} marked" if listing.marked is not None else ""
        self._title(f"History · {self.scope} · {counts}{marked}")

    def _show_detail(self, r: HistoryRow) -> None:
        when = MASK if self.hide_volatile else local_time(r.created_at)
        facts = [f"run #{r.id}", r.status, when, f"chunks {chunk_label(r)}", f"{r.documents} docs"]
        if r.pairs is not None:
            facts += [f"{r.pairs} pairs", f"{seconds(r.latency_s, self.hide_volatile)} s"]
        facts += [short_model_id(r.model_id), f"session {r.session_name}"]
        head = Text(" · ".join(facts), style="bold", no_wrap=True, overflow="ellipsis")
        self.query_one("#history-detail", Static).update(
            Group(head, one_line("query ", r.query), one_line("instruction ", r.instruction))
        )
