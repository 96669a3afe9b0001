"""Pick, save and delete instruction presets."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from .dialogs import DIALOG_CSS


class PresetsScreen(ModalScreen[tuple[str, str] | None]):
    """Dismisses with ("use", text), ("save", "") or None. Deleting happens here, via the app."""

    DEFAULT_CSS = """
    PresetsScreen { align: center middle; }
    PresetsScreen OptionList { height: auto; max-height: 12; }
    PresetsScreen #preset-preview { height: auto; max-height: 6; color: $text-muted; padding: 1 0 0 0; }
    """ + DIALOG_CSS
    BINDINGS = [
        Binding("n", "save", "Save current as…", id="presets.save"),
        Binding("delete,x", "delete", "Delete", id="presets.delete"),
        Binding("escape", "cancel", "Close", id="presets.close"),
    ]

    def __init__(self, presets: list[tuple[str, str]], delete: Callable[[str], bool]) -> None:
        """`delete(name)` removes a preset from storage; False when it could not (already said)."""
        super().__init__()
        self.delete = delete
        self.presets = presets

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Instruction presets", classes="title")
            yield OptionList(*[Option(name, id=name) for name, _ in self.presets], id="preset-list")
            yield Label("", id="preset-preview")
            yield Label("enter use · n save the current instruction as a preset · x delete · escape close", classes="hint")

    def on_mount(self) -> None:
        self._preview(0)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview(event.option_index)

    def _preview(self, index: int | None) -> None:
        text = self.presets[index][1] if index is not None and index < len(self.presets) else ""
        self.query_one("#preset-preview", Label).update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(("use", self.presets[event.option_index][1]))

    def action_save(self) -> None:
        self.dismiss(("save", ""))

    def action_delete(self) -> None:
        option_list = self.query_one(OptionList)
        index = option_list.highlighted
        if index is None or index >= len(self.presets):
            return
        name = self.presets[index][0]
        if self.delete(name):
            self.presets.pop(index)
            option_list.remove_option_at_index(index)
            self._preview(option_list.highlighted)

    def action_cancel(self) -> None:
        self.dismiss(None)
