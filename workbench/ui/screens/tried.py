"""Every instruction tried for the query, best first under the user's labels; enter restores one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from workbench.documents import one_line
from workbench.session.live_metrics import LIVE_K
from workbench.session.tried import Tried

from .dialogs import DIALOG_CSS


def tried_line(t: Tried, width: int = 200) -> Text:
    chunk = (t.metrics or {}).get("chunk", {})
    figures = (f"nDCG@{LIVE_K} {chunk[f'nDCG@{LIVE_K}']:.2f} MRR {chunk[f'MRR@{LIVE_K}']:.2f}" if chunk
               else "no labelled metrics ")
    runs = f"{t.runs} runs" if t.runs != 1 else "1 run"
    return Text.assemble((f"{figures:<24}", "bold"), (f"#{t.run_id:<5} {runs:<8} ", "dim"), one_line(t.instruction, width))


class TriedScreen(ModalScreen[str | None]):
    """Dismisses with the instruction to restore, or None."""

    DEFAULT_CSS = """
    TriedScreen { align: center middle; }
    TriedScreen OptionList { height: auto; max-height: 14; }
    TriedScreen #tried-preview { height: auto; max-height: 6; color: $text-muted; padding: 1 0 0 0; }
    """ + DIALOG_CSS
    BINDINGS = [Binding("escape,f6", "cancel", "Close", id="tried.close")]

    def __init__(self, query: str, tried: list[Tried]) -> None:
        super().__init__()
        self.query_text, self.tried = query, tried

    def compose(self) -> ComposeResult:
        labelled = any(t.metrics for t in self.tried)
        order = "best first by chunk nDCG with your labels" if labelled else "newest first (label chunks 0-3 to rank them)"
        with Vertical(classes="dialog"):
            yield Label(f"Instructions tried for {one_line(self.query_text, 50)!r}: {order}", classes="title")
            yield OptionList(*[Option(tried_line(t), id=str(n)) for n, t in enumerate(self.tried)], id="tried-list")
            yield Label("", id="tried-preview")
            yield Label("enter restore this instruction · escape close", classes="hint")

    def on_mount(self) -> None:
        self._preview(0)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview(event.option_index)

    def _preview(self, index: int | None) -> None:
        text = self.tried[index].instruction if index is not None and index < len(self.tried) else ""
        self.query_one("#tried-preview", Label).update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.tried[event.option_index].instruction)

    def action_cancel(self) -> None:
        self.dismiss(None)
