"""A pane of text reports (the A/B and query-set panes): a head that wraps to the pane, then rows
that keep one line each and scroll sideways when wide."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class ReportPane(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    ReportPane { padding: 0 1; }
    ReportPane .head { width: 100%; }
    ReportPane .rows { width: auto; }
    """
    HOW_TO = ""  # shown until there is something to report
    HEAD_ID, ROWS_ID = "report-head", "report-rows"

    def compose(self) -> ComposeResult:
        yield Static(Text(self.HOW_TO, style="dim"), id=self.HEAD_ID, classes="head")
        yield Static("", id=self.ROWS_ID, classes="rows")

    def note(self, text: str | None = None, *, keep_rows: bool = False) -> None:
        """A dim sentence in the head (None: how to use the pane)."""
        self.query_one(f"#{self.HEAD_ID}", Static).update(Text(text or self.HOW_TO, style="dim"))
        if not keep_rows:
            self.rows([])

    def head(self, lines: list[str]) -> None:
        self.query_one(f"#{self.HEAD_ID}", Static).update(Text("\n".join(lines).rstrip()))

    def rows(self, lines: list[str]) -> None:
        text = Text("\n".join(lines), no_wrap=True)
        for arrow, style in (("▲", "green"), ("▼", "red")):
            text.highlight_words([arrow], style)
        self.query_one(f"#{self.ROWS_ID}", Static).update(text)
