"""The ranking pane: every chunk (sortable, filterable by document) and the document ranking."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.message import Message

from .chunk_list import ChunkList, DocList
from .fit_label import FitLabel
from .line_list import LineList



class RankingPane(Vertical):
    """A line saying what is shown, then the chunk list and the document ranking (side by side
    when wide, stacked when narrow)."""

    DEFAULT_CSS = """
    RankingPane #ranking-info { width: 100%; height: 1; padding: 0 1; color: $text-muted; }
    RankingPane #ranking-body { height: 1fr; }
    """

    class ShowChunk(Message):
        def __init__(self, doc_id: str, index: int) -> None:
            super().__init__()
            self.doc_id = doc_id
            self.index = index

    class FilterDocument(Message):
        def __init__(self, doc_id: str) -> None:
            super().__init__()
            self.doc_id = doc_id

    class SortBy(Message):
        def __init__(self, sort: str) -> None:
            super().__init__()
            self.sort = sort

    def compose(self) -> ComposeResult:
        yield FitLabel("", id="ranking-info")
        with Container(id="ranking-body"):
            yield ChunkList(id="chunk-table")
            yield DocList(id="doc-table")

    def set_info(self, text: Text | str) -> None:
        self.query_one("#ranking-info", FitLabel).update(text, layout=False)

    @on(LineList.Selected, "#chunk-table")
    def _chunk_selected(self, event: LineList.Selected) -> None:
        event.stop()
        self.post_message(self.ShowChunk(*event.value))

    @on(LineList.Selected, "#doc-table")
    def _doc_selected(self, event: LineList.Selected) -> None:
        event.stop()
        self.post_message(self.FilterDocument(event.value))

    @on(LineList.HeaderClicked, "#chunk-table")
    def _header_clicked(self, event: LineList.HeaderClicked) -> None:
        event.stop()
        self.post_message(self.SortBy(self.query_one(ChunkList).sort_for_column(event.value)))
