"""Edit a document's text in place (the copy in the workbench; files on disk are not written)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from workbench.engine.types import Document


class EditDocumentScreen(ModalScreen[str | None]):
    """Returns the new text on ctrl+s, None on escape."""

    DEFAULT_CSS = """
    EditDocumentScreen { background: $surface; }
    EditDocumentScreen Label { width: 100%; }
    EditDocumentScreen #edit-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    EditDocumentScreen TextArea { height: 1fr; }
    EditDocumentScreen #edit-hint { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="edit.save"),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
    ]

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document

    def compose(self) -> ComposeResult:
        yield Label(f"Editing {self.document.id}", id="edit-title")
        yield TextArea(self.document.text, soft_wrap=True, tab_behavior="indent", id="edit-text")
        yield Label("ctrl+s keep changes (in the workbench only; the file is not written) · escape discard", id="edit-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
