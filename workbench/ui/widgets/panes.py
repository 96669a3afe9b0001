"""The heat-map pane (strips, legend, document text) and the documents pane."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Label

from workbench.engine.types import Document

from ..heat import legend
from .document_view import DocumentView
from .chunk_list import clip
from .fit_label import FitLabel
from .heat_map import HeatMap


SELECT_HINT = "Select a chunk (heat map cell or ranking row) to see it in its document."


class HeatPane(Vertical):
    DEFAULT_CSS = """
    HeatPane #heat-scroll { height: auto; max-height: 40%; scrollbar-size-vertical: 1; }
    HeatPane #legend { height: 1; padding: 0 1; }
    HeatPane #doc-title { width: 100%; height: 1; padding: 0 1; background: $panel; }
    """

    def compose(self) -> ComposeResult:
        yield Label(legend(), id="legend")
        with VerticalScroll(id="heat-scroll", can_focus=False):
            yield HeatMap(id="heat-map")
        yield FitLabel(SELECT_HINT, id="doc-title")
        yield DocumentView(id="doc-view")

    def show_title(self, text: Text | str | None) -> None:
        """The line over the document text: the selected chunk (None: how to select one). One
        fixed line, fitted to the width (parts left out from the end): no reflow of the screen."""
        self.query_one("#doc-title", FitLabel).update(SELECT_HINT if text is None else text, layout=False)


class DocumentTable(DataTable):
    # Out of the footer: the hint line under the table lists them, and the footer must fit 80 columns.
    BINDINGS = [
        Binding("a", "app.add_document", "Add file", id="docs.add", show=False),
        Binding("p", "app.paste_document", "Paste new", id="docs.paste", show=False),
        Binding("e", "app.edit_document", "Edit", id="docs.edit", show=False),
        Binding("delete,x", "app.remove_document", "Remove", id="docs.remove", show=False),
    ]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        for label, key, width in (("#", "n", 3), ("document", "id", 28), ("chars", "chars", 8), ("chunks", "chunks", 7), ("source", "path", None)):
            self.add_column(label, key=key, width=width)

    def show(self, documents: list[Document], chunk_counts: dict[str, int], edited: set[str]) -> None:
        signature = [(d.id, len(d.text), d.path, chunk_counts.get(d.id), d.id in edited) for d in documents]
        if signature == getattr(self, "_signature", None):
            return  # a DataTable repaints every cell after a rebuild
        self._signature = signature
        keep = self.current_id()
        self.clear()
        for n, d in enumerate(documents, 1):
            source = d.path or "(pasted)"
            if d.id in edited:
                source += "  (edited here)"
            count = chunk_counts.get(d.id)
            self.add_row(str(n), clip(d.id, 27), f"{len(d.text):,}", "" if count is None else str(count), source, key=d.id)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    def current_id(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value


class DocumentsPane(Vertical):
    DEFAULT_CSS = """
    DocumentsPane #docs-hint { width: 100%; height: auto; padding: 0 1; color: $text-muted; }
    DocumentsPane DocumentTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield DocumentTable(id="doc-list")
        yield Label(
            "a / ctrl+o add file or folder · p / ctrl+n paste text · e edit here · "
            "ctrl+e edit in $EDITOR · x / delete remove",
            id="docs-hint",
        )
