"""F1: every key, grouped by where it works, built from the bindings themselves."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

INTRO = (
    "Type a query: after a short pause every chunk of every document is scored, the previous run "
    "is cancelled and unchanged pairs come from the cache. With a reranker, scores are "
    "probabilities on a fixed 0..1 scale, the same colours in every document. The offline "
    "fallback (all-MiniLM-L6-v2 embeddings) ignores the instruction and shows cosine similarity, "
    "not a probability."
)

# The banner over the editors while the offline fallback scores. Each line fits 80 columns (78
# inside the padding); a short terminal shows only the first line, so it carries what matters.
FALLBACK_BANNER = (
    "OFFLINE FALLBACK: scores are cosine similarity; it ignores the instruction",
    "Scores are not probabilities (all-MiniLM-L6-v2, not Qwen3-Reranker). F1: why.",
)


def fallback_note(reason: str | None) -> str:
    """What F1 says first while the offline fallback is in use (the banner has no room for it)."""
    return (
        "OFFLINE FALLBACK in use: no reranker could be loaded"
        + (f" ({reason})" if reason else "")
        + ". Scores are the cosine similarity of all-MiniLM-L6-v2 embeddings of the query and each "
        "chunk, not a probability, and the instruction is ignored: editing it changes nothing."
    )


def key_display(key: str) -> str:
    return " / ".join(k.replace("delete", "del") for k in key.split(","))


def bindings_table(groups: list[tuple[str, list[Binding]]]) -> Group:
    parts = []
    for title, bindings in groups:
        parts.append(Text(title, style="bold underline"))
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, min_width=14)
        table.add_column(ratio=1)
        for b in bindings:
            if b.description and b.id:  # id-less ones are plain navigation (arrows, paging)
                table.add_row(key_display(b.key), b.tooltip or b.description)
        parts += [table, Text("")]
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent;
                                background: $surface; padding: 0 1; }
    HelpScreen #help-intro { width: 100%; padding: 0 0 1 0; }
    HelpScreen #help-note { width: 100%; padding: 0 0 1 0; text-style: bold; color: $error; }
    """
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    def __init__(self, groups: list[tuple[str, list[Binding]]], note: str | None = None) -> None:
        super().__init__()
        self.groups = groups
        self.note = note  # said first, e.g. that the offline fallback is in use and why

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys (escape closes)"
            if self.note:
                yield Label(self.note, id="help-note")
            yield Label(INTRO, id="help-intro")
            yield Static(bindings_table(self.groups))
