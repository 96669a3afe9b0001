"""The query-set pane: `workbench eval` for the instruction being tuned, redone after each edit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

HOW_TO = (
    "Start the workbench with --queries FILE (judged queries, as for `workbench eval`; --qrels FILE "
    "for TREC qrels) and every query of the set is scored here in the background whenever the "
    "ranking on screen is complete: nDCG@10, MRR@10 and Recall@10 at chunk and document level for "
    "the current instruction, and against the pinned A (ctrl+b) with wins, losses and paired "
    "p-values. An edit cancels it; it starts again when the live ranking is done."
)


class QuerySetPane(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    QuerySetPane { padding: 0 1; }
    QuerySetPane #set-status { width: 100%; }
    QuerySetPane #set-report { width: auto; }  /* wide rows scroll sideways */
    """

    def compose(self) -> ComposeResult:
        yield Static(Text(HOW_TO, style="dim"), id="set-status")
        yield Static("", id="set-report")

    def status(self, text: str) -> None:
        self.query_one("#set-status", Static).update(Text(text, style="dim"))

    def report(self, lines: list[str]) -> None:
        self.query_one("#set-report", Static).update(Text("\n".join(lines), no_wrap=True))
