"""The ranking pane: every chunk (sortable, filterable by document) and the document ranking."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from workbench.engine.types import ChunkScore, Document

from ..heat import score_bar

SORTS = ("score", "document", "position")


def row_key(doc_id: str, index: int) -> str:
    return f"{index}\x00{doc_id}"


def parse_row_key(key: str) -> tuple[str, int]:
    index, doc_id = key.split("\x00", 1)
    return doc_id, int(index)


def snippet(text: str, width: int = 70) -> str:
    flat = " ".join(text[: width * 2].split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def score_cell(score: float) -> Text:
    return score_bar(score, 6) + Text(f" {score:.3f}")


@dataclass
class DocRow:
    doc_id: str
    score: float | None  # None until one of its chunks is scored
    chunks: int
    scored: int
    best: ChunkScore | None


class ChunkTable(DataTable):
    BINDINGS = [
        Binding("s", "app.cycle_sort", "Sort", id="ranking.sort"),
        Binding("f", "app.cycle_filter", "Filter doc", id="ranking.filter"),
        Binding("enter", "select_cursor", "Show in text", show=False, id="ranking.show"),
    ]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for label, key, width in (
            ("#", "rank", 4),
            ("score", "score", 12),
            ("document", "document", 18),
            ("chunk", "chunk", 5),
            ("chars", "position", 13),
            ("text", "text", None),
        ):
            self.add_column(label, key=key, width=width)

    def show(self, chunks: list[ChunkScore], ranks: dict[tuple[str, int], int], texts: dict[str, str]) -> None:
        """Replace the rows, keeping the cursor on the same chunk when it is still listed."""
        keep = None
        if self.row_count and self.cursor_row < self.row_count:
            keep = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        self.clear()
        for c in chunks:
            span = c.chunk
            self.add_row(
                str(ranks.get((c.doc_id, span.index), "")),
                score_cell(c.score),
                clip(c.doc_id, 18),
                str(span.index),
                f"{span.start}–{span.end}",
                snippet(texts.get(c.doc_id, "")[span.start : span.end]),
                key=row_key(c.doc_id, span.index),
            )
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)

    def chunk_at_cursor(self) -> tuple[str, int] | None:
        if not self.row_count:
            return None
        return parse_row_key(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)


class DocRankTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Filter by this document", show=False, id="ranking.doc-filter")]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        for label, key, width in (("#", "rank", 3), ("score", "score", 12), ("document", "document", None), ("chunks", "chunks", 7)):
            self.add_column(label, key=key, width=width)

    def show(self, rows: list[DocRow]) -> None:
        keep = None
        if self.row_count and self.cursor_row < self.row_count:
            keep = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        self.clear()
        for rank, r in enumerate(rows, 1):
            score = score_cell(r.score) if r.score is not None else Text("…", style="dim")
            count = f"{r.chunks}" if r.scored == r.chunks else f"{r.scored}/{r.chunks}"
            self.add_row(str(rank) if r.score is not None else "", score, r.doc_id, count, key=r.doc_id)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)


class RankingPane(Vertical):
    """Toolbar line, then the chunk table and the document ranking (side by side when wide)."""

    DEFAULT_CSS = """
    RankingPane #ranking-info { height: 1; padding: 0 1; color: $text-muted; }
    RankingPane #ranking-body { height: 1fr; }
    RankingPane ChunkTable { height: 1fr; }
    RankingPane DocRankTable { height: 1fr; }
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
        yield Label("", id="ranking-info")
        with Container(id="ranking-body"):
            yield ChunkTable(id="chunk-table")
            yield DocRankTable(id="doc-table")

    def set_info(self, text: Text | str) -> None:
        self.query_one("#ranking-info", Label).update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if isinstance(event.data_table, ChunkTable):
            self.post_message(self.ShowChunk(*parse_row_key(key)))
        else:
            self.post_message(self.FilterDocument(key))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        if isinstance(event.data_table, ChunkTable):
            sort = {"rank": "score", "score": "score", "document": "document", "position": "position", "chunk": "position"}.get(column)
            if sort:
                self.post_message(self.SortBy(sort))


def document_rows(documents: list[Document], spans: dict, scores: dict[tuple[str, int], ChunkScore], aggregate_fn) -> list[DocRow]:
    """Per-document rows from the scores so far, best first; unscored documents last."""
    rows = []
    for d in documents:
        chunks = [scores[(d.id, s.index)] for s in spans.get(d.id, []) if (d.id, s.index) in scores]
        best = max(chunks, key=lambda c: c.score) if chunks else None
        score = aggregate_fn([c.score for c in sorted(chunks, key=lambda c: c.chunk.index)]) if chunks else None
        rows.append(DocRow(d.id, score, len(spans.get(d.id, [])), len(chunks), best))
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0)))
    return rows
