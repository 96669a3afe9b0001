"""The score distribution of the ranking on screen, and with labels the cut-off that best separates
relevant chunks from the rest (the same report as `workbench score --calibrate`)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from .dialogs import DIALOG_CSS


class DistributionScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    DistributionScreen { align: center middle; }
    DistributionScreen VerticalScroll { height: auto; max-height: 60vh; }  /* the hint stays on screen */
    """ + DIALOG_CSS
    BINDINGS = [Binding("escape,d,q", "dismiss", "Close", id="distribution.close")]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text, self.lines = title, lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            with VerticalScroll():
                yield Static(Text("\n".join(self.lines), no_wrap=True, overflow="ellipsis"))
            yield Label("label chunks 0-3 for the best cut-off · escape close", classes="hint")
