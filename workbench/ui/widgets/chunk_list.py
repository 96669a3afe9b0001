"""The two ranking lists: every chunk (with its text) and the documents by aggregated score."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from workbench.engine.types import ChunkScore
from workbench.session.view_model import DocumentRow

from ..heat import score_bar
from .line_list import LineList

# The sort a click on each chunk-list header selects (any other column: score).
HEADER_SORTS = {"document": "document", "chunk": "position", "at": "position"}
SHIFT_WIDTH = 10  # the first-stage column: "1234→5678"
SHIFT_TITLES = {"bm25": "bm25→#", "embedding": "emb→#"}


def snippet(text: str, width: int) -> str:
    flat = " ".join(text[: width * 3].split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def score_text(score: float) -> Text:
    return score_bar(score, 4) + Text(f" {score:.3f} ")


def shift_text(before: int | None, after: int | None) -> Text:
    """The move from the first stage's rank to the reranker's, "9→1" (green up, red down)."""
    if before is None:
        return Text(f"{'…':<{SHIFT_WIDTH}}", style="dim")
    cell = f"{before}→{'…' if after is None else after}"
    style = "dim" if after is None or after == before else ("green" if after < before else "red")
    return Text(f"{clip(cell, SHIFT_WIDTH - 1):<{SHIFT_WIDTH}}", style=style)


def with_shift_column(columns: tuple[tuple[str, int], ...], first_stage: str | None) -> tuple[tuple[str, int], ...]:
    """The columns with the first stage's right after the rank, when one is shown."""
    if first_stage is None:
        return columns
    return (columns[0], (SHIFT_TITLES.get(first_stage, first_stage), SHIFT_WIDTH), *columns[1:])


def grade_text(grade: int | None) -> Text:
    """A relevance label as one cell and a space: the grade 0-3, or a dim dot when unlabelled."""
    return Text("· ", style="dim") if grade is None else Text(f"{grade} ", style="bold" if grade else "dim")


# Keys stay out of the footer (their F1 sentences are too long for it); the pane's info line
# and F1 list them.
class ChunkList(LineList[ChunkScore]):
    COLUMNS = (("#", 4), ("score", 11), ("r", 2), ("document", 16), ("chunk", 6), ("at", 8), ("text", 0))
    BINDINGS = [
        Binding("enter", "select", "Chunk list: show the chunk in its document", id="ranking.show", show=False),
        Binding("s", "app.cycle_sort", "Sort by score / document / position", id="ranking.sort", show=False),
        Binding("f", "app.cycle_filter", "Filter: one document at a time, then all", id="ranking.filter", show=False),
        Binding("b", "app.cycle_first_stage", "First stage's rank next to the reranker's: off / BM25 / embedding",
                id="ranking.first-stage", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ranks: dict[tuple[str, int], int] = {}
        self.texts: dict[str, str] = {}
        self.grades: dict[tuple[str, int], int] = {}
        self.first_stage_ranks: dict[tuple[str, int], int] | None = None  # None: no first-stage column

    def show(self, rows: list[ChunkScore], ranks: dict[tuple[str, int], int], texts: dict[str, str], capacity: int = 0,
             grades: dict[tuple[str, int], int] | None = None, first_stage: str | None = None,
             first_stage_ranks: dict[tuple[str, int], int] | None = None) -> None:
        """`first_stage` ("bm25"...) adds a column with each chunk's move from its first-stage rank."""
        self.ranks, self.texts, self.grades = ranks, texts, grades or {}
        self.COLUMNS = with_shift_column(type(self).COLUMNS, first_stage)
        self.first_stage_ranks = (first_stage_ranks or {}) if first_stage else None
        self.set_rows(rows, capacity)

    def sort_for_column(self, column: int) -> str:
        """The sort a click on header number `column` selects."""
        return HEADER_SORTS.get(self.COLUMNS[column][0], "score")

    def row_key(self, row: ChunkScore) -> tuple[str, int]:
        return (row.doc_id, row.chunk.index)

    def chunk_at_cursor(self) -> tuple[str, int] | None:
        return self.key_at_cursor()

    def render_row(self, c: ChunkScore, index: int, width: int) -> Text:
        span = c.chunk
        used = sum(w for _, w in self.COLUMNS)
        rank = self.ranks.get((c.doc_id, span.index))
        shift = () if self.first_stage_ranks is None else (shift_text(self.first_stage_ranks.get((c.doc_id, span.index)), rank),)
        return Text.assemble(
            f"{'' if rank is None else rank:<4}",
            *shift,
            score_text(c.score),
            grade_text(self.grades.get((c.doc_id, span.index))),
            f"{clip(c.doc_id, 15):<16}",
            f"{span.index:<6}",
            f"{span.start:<8}",
            snippet(self.texts.get(c.doc_id, "")[span.start : span.end], max(4, width - used - 1)),
        )




class DocList(LineList[DocumentRow]):
    COLUMNS = (("#", 4), ("score", 11), ("r", 2), ("chunks", 8), ("document", 0))
    # Not enter: in the ranking pane enter means "show the chunk in its document" (ChunkList), and
    # F1 lists the pane's keys together, so each key keeps one meaning there.
    BINDINGS = [
        Binding("space", "select", "Document ranking: show only this document's chunks (again: all)", id="ranking.doc-filter", show=False)
    ]

    def show(self, rows: list[DocumentRow], first_stage: str | None = None) -> None:
        """`first_stage` ("bm25"...) adds a column with each document's move from its first-stage rank."""
        self.COLUMNS = with_shift_column(type(self).COLUMNS, first_stage)
        self.set_rows(rows)

    def row_key(self, row: DocumentRow) -> str:
        return row.doc_id

    def render_row(self, r: DocumentRow, index: int, width: int) -> Text:
        count = f"{r.chunks}" if r.scored == r.chunks else f"{r.scored}/{r.chunks}"
        score = score_text(r.score) if r.score is not None else Text("   …       ", style="dim")
        rank = f"{index + 1:<4}" if r.score is not None else "    "
        used = sum(w for _, w in self.COLUMNS)
        grade = grade_text(r.grade)
        shift = () if len(self.COLUMNS) == len(type(self).COLUMNS) else (
            shift_text(r.first_stage_rank, index + 1 if r.score is not None else None),)
        return Text.assemble(rank, *shift, score, grade, f"{count:<8}", clip(r.doc_id, max(4, width - used - 1)))
