"""Two runs side by side, chunk by chunk: rank in A, rank in B and how far it moved, by rank in B."""

from __future__ import annotations

from rich.text import Text

from workbench.store.compare import ChunkRankChange

from .chunk_list import clip, snippet
from .line_list import LineList

UP, DOWN = "green", "red"  # 256-colour safe


def change_text(c: ChunkRankChange) -> Text:
    """▲n moved up n places in B, ▼n down, = same; new: only in B; gone: only in A."""
    if c.rank_a is None:
        return Text("new", style="bold cyan")
    if c.rank_b is None:
        return Text("gone", style="dim")
    moved = c.change or 0
    if moved > 0:
        return Text(f"▲{moved}", style=f"bold {UP}")
    if moved < 0:
        return Text(f"▼{-moved}", style=f"bold {DOWN}")
    return Text("=", style="dim")


def span_text(c: ChunkRankChange) -> str:
    return f"{c.start}–{c.end}"


class CompareList(LineList[ChunkRankChange]):
    COLUMNS = (("B", 5), ("A", 5), ("move", 6), ("document", 16), ("chunk", 6), ("span", 12), ("text", 0))
    SPAN_MIN = 6  # "span" and a space

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.snippets: dict[tuple[str, int, int], str] = {}

    def show(self, rows: list[ChunkRankChange], snippets: dict[tuple[str, int, int], str]) -> None:
        self.snippets = snippets
        # The span column fits the widest span plus a space, so a long one never runs into the text.
        span_w = max([self.SPAN_MIN] + [len(span_text(r)) + 1 for r in rows])
        self.COLUMNS = tuple((title, span_w if title == "span" else w) for title, w in type(self).COLUMNS)
        self.set_rows(rows)

    def row_key(self, row: ChunkRankChange) -> tuple[str, int, int]:
        return (row.document_hash, row.start, row.end)

    def render_row(self, c: ChunkRankChange, index: int, width: int) -> Text:
        doc = c.doc_id_b if c.doc_id_b is not None else c.doc_id_a
        chunk = c.index_b if c.index_b is not None else c.index_a
        used = sum(w for _, w in self.COLUMNS)
        moved = change_text(c)
        moved.pad_right(6 - moved.cell_len)
        return Text.assemble(
            f"{'' if c.rank_b is None else c.rank_b:<5}",
            (f"{'' if c.rank_a is None else c.rank_a:<5}", "dim"),
            moved,
            f"{clip(doc or '?', 15):<16}",
            f"{'' if chunk is None else chunk:<6}",
            f"{span_text(c):<{dict(self.COLUMNS)['span']}}",
            (snippet(self.snippets.get(self.row_key(c), ""), max(4, width - used - 1)), "dim"),
        )
