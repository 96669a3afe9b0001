"""The A/B pane: the pinned ranking (A) against the latest complete one (B), chunk by chunk."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

HOW_TO = (
    "Pin the current ranking as A with ctrl+b, then edit the instruction (or the settings, or "
    "reload another model): every new complete ranking is B, compared with A here: ranks and "
    "scores under A and B, ▲/▼ rank shifts, chunks entering or leaving the top 10, Kendall tau, "
    "rank-biased overlap, and the chunks whose score moved most. Unchanged pairs come from the "
    "cache, so B costs only its new prompts. ctrl+b again unpins."
)


class ABPane(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    ABPane { padding: 0 1; }
    ABPane #ab-text { width: 100%; }
    ABPane #ab-table { width: auto; }  /* wide tables scroll sideways instead of wrapping */
    """

    def compose(self) -> ComposeResult:
        yield Static(Text(HOW_TO, style="dim"), id="ab-text")  # setups and statistics: wrapped
        yield Static("", id="ab-table")  # the rows: one line each

    def show(self, lines: list[str] | None, note: str | None = None) -> None:
        """The comparison as text lines; None: nothing pinned (or no B yet, with `note`)."""
        head, table = self.query_one("#ab-text", Static), self.query_one("#ab-table", Static)
        if lines is None:
            head.update(Text(note or HOW_TO, style="dim"))
            table.update("")
            return
        # Everything above the first table header wraps to the pane; the rows keep one line each.
        split = next((n for n, line in enumerate(lines) if line.startswith("chunk ")), len(lines))
        head.update(Text("\n".join(lines[:split]).rstrip()))
        rows = Text("\n".join(lines[split:]), no_wrap=True)
        for arrow, style in (("▲", "green"), ("▼", "red")):
            rows.highlight_words([arrow], style)
        table.update(rows)
