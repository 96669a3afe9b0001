"""The history list: one line per logged run, newest first. A Line-API list, so thousands of runs
cost only the lines on screen; the columns follow the width (80 columns keep the essentials)."""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text
from textual import events
from textual.binding import Binding

from workbench.store.history import HistoryRow

from .chunk_list import clip, snippet
from .line_list import LineList
from .status_bar import MASK, short_model_id

WIDE = 110  # from this width on: latency, model, and query and instruction in their own columns
# interrupted: its process died before the run finished (the store works that out on reading)
STATUS_STYLE = {"done": "", "running": "yellow", "cancelled": "dim", "interrupted": "red"}


def local_time(iso: str, today: date | None = None) -> str:
    """The time of day for today's runs, month-day and minutes for older ones."""
    try:
        moment = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso[:11]
    return moment.strftime("%H:%M:%S") if moment.date() == (today or date.today()) else moment.strftime("%m-%d %H:%M")


def chunk_label(row: HistoryRow) -> str:
    size = "whole" if row.chunk_tokens == 0 else f"{row.chunk_tokens}/{row.chunk_overlap}"
    return f"{size} {f'top{row.top_k}' if row.aggregate == 'topk' else row.aggregate}"


def seconds(value: float | None, hide: bool) -> str:
    return MASK if hide else ("" if value is None else f"{value:.2f}")


class HistoryList(LineList[HistoryRow]):
    BINDINGS = [
        Binding("enter", "select", "Reopen the run in the main screen", id="history.reopen", show=False),
    ]
    NARROW_COLUMNS = (("", 2), ("#", 6), ("when", 12), ("status", 12), ("pairs", 6), ("chunks", 11), ("query · instruction", 0))

    def __init__(self, hide_volatile: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hide_volatile = hide_volatile
        self.marked: int | None = None
        self.COLUMNS = self.NARROW_COLUMNS

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        if width < WIDE:
            self.COLUMNS = self.NARROW_COLUMNS
        else:
            fixed = (("", 2), ("#", 6), ("when", 12), ("status", 12), ("pairs", 6), ("secs", 7), ("chunks", 11), ("model", 20))
            text = width - sum(w for _, w in fixed)
            self.COLUMNS = (*fixed, ("query", max(10, text // 2)), ("instruction", 0))
        self.refresh()

    def row_key(self, row: HistoryRow) -> int:
        return row.id

    def set_marked(self, run_id: int | None) -> None:
        self.marked = run_id
        self.refresh()

    def render_row(self, r: HistoryRow, index: int, width: int) -> Text:
        widths = dict(self.COLUMNS)
        mark = Text("● ", style="bold magenta") if r.id == self.marked else Text("  ")
        when = MASK if self.hide_volatile else local_time(r.created_at)
        line = Text.assemble(
            mark,
            f"{r.id:<6}",
            f"{when:<12}",
            (f"{r.status:<12}", STATUS_STYLE.get(r.status, "")),
            f"{'' if r.pairs is None else r.pairs:<6}",
        )
        if "secs" in widths:
            line.append(f"{seconds(r.latency_s, self.hide_volatile):<7}")
        line.append(f"{chunk_label(r):<11}")
        if "model" in widths:
            line.append(f"{clip(short_model_id(r.model_id), 19):<20}")
        used = sum(w for _, w in self.COLUMNS)
        rest = max(4, width - used - 1)
        if "query" in widths:
            q = widths["query"]
            line.append(f"{snippet(r.query, q - 1):<{q}}", "bold")
            line.append(snippet(r.instruction, rest), "dim")
        else:
            # The instruction keeps at least 40% of the room: it is what usually changes.
            query = snippet(r.query, max(4, rest * 3 // 5 - 3))
            line.append(query, "bold")
            line.append(" · " + snippet(r.instruction, rest - len(query) - 3), "dim")
        return line
