"""Two runs compared chunk by chunk: how each chunk's rank moved from run A (older) to run B,
with Kendall tau and top-k overlap, and the two runs' query and instruction side by side."""

from __future__ import annotations

from rich.console import Console, Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from workbench.store import StoreError
from workbench.store.compare import RunComparison
from workbench.store.history import HistoryRow

from ..history_messages import ComparisonLoaded, HistoryFailed
from workbench.session.history import ComparisonView, RunHistory
from ..widgets.compare_list import DOWN, UP, CompareList
from ..widgets.history_list import chunk_label, local_time
from ..widgets.status_bar import MASK, short_model_id

HINT = "▲ up in B · ▼ down · = same · new: only in B · gone: only in A · escape back"


def summary(c: RunComparison) -> Text:
    """Kendall tau over the shared chunks, then top-k overlap, in one line (fits 80 columns)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Kendall τ ", "bold")
    text.append("n/a" if c.kendall_tau is None else f"{c.kendall_tau:+.2f}")
    text.append(f" over {c.common} shared chunks", "dim")
    text.append(" · ")
    text.append(f"top-{'/'.join(str(k) for k in c.top_k_overlap)} overlap", "bold")
    for value in c.top_k_overlap.values():
        text.append(" –" if value is None else f" {value:.0%}")
    return text


def moves(c: RunComparison) -> Text:
    up = sum(1 for ch in c.chunks if (ch.change or 0) > 0)
    down = sum(1 for ch in c.chunks if (ch.change or 0) < 0)
    new = sum(1 for ch in c.chunks if ch.rank_a is None)
    gone = sum(1 for ch in c.chunks if ch.rank_b is None)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"▲{up} up", UP)
    text.append(" · ")
    text.append(f"▼{down} down", DOWN)
    text.append(f" · ={c.common - up - down} same · {new} new · {gone} gone", "dim")
    return text


def run_panel(run: HistoryRow, other: HistoryRow, hide_volatile: bool, width: int = 0) -> Group:
    """What the run was asked; the parts that differ from the other run stand out. Text that does
    not fit its lines at `width` ends in "…" (0: width unknown, let the panel crop)."""

    def part(label: str, mine: str, theirs: str, lines: int) -> Text:
        text = Text(no_wrap=lines == 1, overflow="ellipsis")
        text.append(label, "dim")
        text.append(" ".join(mine.split()) or "(empty)", "bold yellow" if mine != theirs else "")
        if lines > 1 and width > 1:
            wrapped = text.wrap(Console(width=width), width)
            if len(wrapped) > lines:
                last = wrapped[lines - 1]
                last.truncate(width - 1)
                last.rstrip()
                last.append("…")
                text = Text("\n").join(wrapped[:lines])
        return text

    when = MASK if hide_volatile else local_time(run.created_at)
    head = Text(f"{short_model_id(run.model_id)} · {chunk_label(run)} · {when}", style="dim", no_wrap=True, overflow="ellipsis")
    return Group(head, part("query ", run.query, other.query, 1), part("instr. ", run.instruction, other.instruction, 2))


class CompareScreen(Screen[None]):
    DEFAULT_CSS = """
    CompareScreen #compare-title { height: 1; width: 100%; padding: 0 1; background: $panel; text-style: bold; }
    CompareScreen #compare-runs { height: 6; }
    CompareScreen .run-panel { width: 1fr; height: 6; border: round $secondary 50%; padding: 0 1; }
    CompareScreen #compare-stats, CompareScreen #compare-moves { height: 1; width: 100%; padding: 0 1; }
    CompareScreen #compare-hint { height: 1; width: 100%; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="compare.close", tooltip="Compare screen: back to where it was opened from"),
        Binding("f1", "app.help", "Help", show=False),
    ]

    def __init__(self, source: RunHistory, a: int, b: int, hide_volatile: bool = False) -> None:
        super().__init__()
        self.source, self.a, self.b, self.hide_volatile = source, a, b, hide_volatile
        self.view: ComparisonView | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"Compare run #{self.a} (A) → run #{self.b} (B) · reading…", id="compare-title")
        with Horizontal(id="compare-runs"):
            yield Static("", id="run-a", classes="run-panel")
            yield Static("", id="run-b", classes="run-panel")
        yield Label("", id="compare-stats")
        yield Label("", id="compare-moves")
        yield CompareList(id="compare-list")
        yield Label(HINT, id="compare-hint")

    def on_mount(self) -> None:
        self.query_one("#run-a").border_title = f"A · run #{self.a}"
        self.query_one("#run-b").border_title = f"B · run #{self.b}"
        self.query_one(CompareList).focus()
        self.read_comparison(self.source, self.a, self.b)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare", name="comparison")
    def read_comparison(self, source: RunHistory, a: int, b: int) -> None:
        try:
            view = source.compare(a, b)
        except (StoreError, LookupError) as e:
            self.post_message(HistoryFailed(f"Could not compare runs #{a} and #{b}: {e}"))
            return
        self.post_message(ComparisonLoaded(view))

    def on_comparison_loaded(self, message: ComparisonLoaded) -> None:
        view = self.view = message.view
        c = view.comparison
        self.query_one("#compare-title", Label).update(
            f"Compare run #{self.a} (A) → run #{self.b} (B) · {len(c.chunks)} chunks, by rank in B"
        )
        for panel, run, other in (("#run-a", view.a, view.b), ("#run-b", view.b, view.a)):
            widget = self.query_one(panel, Static)
            widget.update(run_panel(run, other, self.hide_volatile, widget.content_size.width))
        self.query_one("#compare-stats", Label).update(summary(c))
        self.query_one("#compare-moves", Label).update(moves(c))
        self.query_one(CompareList).show(c.chunks, view.snippets)

    def on_history_failed(self, message: HistoryFailed) -> None:
        self.query_one("#compare-title", Label).update(message.text)
        self.notify(message.text, severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title="Comparison failed", severity="error", timeout=10)

    def action_close(self) -> None:
        self.dismiss(None)
