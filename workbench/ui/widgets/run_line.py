"""The line above the status bar: what the app is doing now (loading, scoring, waiting, hints)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, LoadingIndicator, ProgressBar


class RunLine(Horizontal):
    DEFAULT_CSS = """
    RunLine { height: 1; padding: 0 1; }
    RunLine LoadingIndicator { width: 6; height: 1; min-height: 1; display: none; }
    RunLine.-busy LoadingIndicator { display: block; }
    RunLine #run-message { width: 1fr; height: 1; }
    RunLine ProgressBar { width: auto; display: none; }
    RunLine.-scoring ProgressBar { display: block; }
    RunLine ProgressBar Bar { width: 20; }
    """

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label("", id="run-message")
        # No percentage label: updating one reflows the whole screen on every batch.
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="run-progress")

    def say(self, message: str | Text, *, busy: bool = False, scoring: bool = False) -> None:
        self.query_one("#run-message", Label).update(message, layout=False)  # fixed size: no reflow
        self.set_class(busy, "-busy")
        self.set_class(scoring, "-scoring")

    def progress(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(1, total), progress=done)
