"""Heat strips: one row per document, one cell per chunk, coloured on the fixed 0..1 scale.

The cursor cell is the selected chunk; moving it (arrow keys or a click) selects that chunk.
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.widget import Widget

from workbench.session.view_model import HeatStrip

from ..heat import CELL, PENDING, PENDING_CELL, RAMP, heat_index, heat_style

CURSOR_CELL = "◆"
SCORE_W = 6  # " 0.812"


class HeatMap(Widget, can_focus=True):
    DEFAULT_CSS = """
    HeatMap { height: auto; padding: 0 1; }
    HeatMap:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("left", "move(0, -1)", "Previous chunk", show=False, id="heat.left"),
        Binding("right", "move(0, 1)", "Next chunk", show=False, id="heat.right"),
        Binding("up", "move(-1, 0)", "Previous document", show=False, id="heat.up"),
        Binding("down", "move(1, 0)", "Next document", show=False, id="heat.down"),
        Binding("home", "edge(-1)", "First chunk", show=False, id="heat.home"),
        Binding("end", "edge(1)", "Last chunk", show=False, id="heat.end"),
    ]

    class Selected(Message):
        def __init__(self, doc_id: str, index: int) -> None:
            super().__init__()
            self.doc_id = doc_id
            self.index = index

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.strips: list[HeatStrip] = []
        self.cursor: tuple[int, int] | None = None  # (strip row, chunk index)
        self._scroll_pending = False  # selected while hidden: bring it into view once shown

    # -- data ---------------------------------------------------------------------------------

    def show(self, strips: list[HeatStrip], selected: tuple[str, int] | None) -> None:
        changed_shape = [(s.doc_id, s.count) for s in strips] != [(s.doc_id, s.count) for s in self.strips]
        self.strips = strips
        self._set_cursor(selected)
        self.refresh(layout=changed_shape)

    def select(self, selected: tuple[str, int] | None) -> None:
        self._set_cursor(selected)
        self.refresh()
        self._scroll_to_cursor()

    def _set_cursor(self, selected: tuple[str, int] | None) -> None:
        self.cursor = None
        if selected is not None:
            for row, s in enumerate(self.strips):
                if s.doc_id == selected[0] and 0 <= selected[1] < s.count:
                    self.cursor = (row, selected[1])

    # -- layout -------------------------------------------------------------------------------

    def _label_width(self, width: int) -> int:
        return max(8, min(24, width // 4))

    def _cells_per_line(self, width: int) -> int:
        return max(4, width - self._label_width(width) - 1 - SCORE_W - 1)

    def _lines_of(self, strip: HeatStrip, per_line: int) -> int:
        return max(1, math.ceil(strip.count / per_line))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        per_line = self._cells_per_line(width)
        return max(1, sum(self._lines_of(s, per_line) for s in self.strips))

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        if not self.strips:
            return Text("No chunks yet: type a query and add documents.", style="dim")
        label_w, per_line = self._label_width(width), self._cells_per_line(width)
        out = Text(no_wrap=True, overflow="crop")
        for row, s in enumerate(self.strips):
            for line in range(self._lines_of(s, per_line)):
                if line == 0:
                    out.append(_clip(s.doc_id, label_w).ljust(label_w) + " ", "bold" if self._is_cursor_row(row) else "")
                    if s.doc_score is None:
                        out.append("    … ", "dim")
                    else:
                        out.append(f"{s.doc_score:.3f} ".rjust(SCORE_W), heat_style(s.doc_score))
                else:
                    out.append(" " * (label_w + 1 + SCORE_W))
                out.append(" ")
                for index in range(line * per_line, min(s.count, (line + 1) * per_line)):
                    out.append(*self._cell(row, index, s))
                out.append("\n")
        out.rstrip()
        return out

    def _is_cursor_row(self, row: int) -> bool:
        return self.cursor is not None and self.cursor[0] == row

    def _cell(self, row: int, index: int, s: HeatStrip) -> tuple[str, Style]:
        score = s.scores.get(index)
        if self.cursor == (row, index):
            bg = "color(240)" if score is None else f"color({RAMP[heat_index(score)]})"
            return CURSOR_CELL, Style(color="color(231)", bgcolor=bg, bold=True)
        if score is None:
            return PENDING_CELL, PENDING
        return CELL, heat_style(score)

    def _line_of(self, row: int, index: int) -> int:
        per_line = self._cells_per_line(self.content_region.width or self.size.width)
        return sum(self._lines_of(s, per_line) for s in self.strips[:row]) + index // per_line

    def _scroll_to_cursor(self) -> None:
        # The map does not scroll itself; its scrolling container does. While the pane is hidden
        # (a chunk chosen in the ranking pane) nothing is laid out yet: scroll once it is shown.
        parent = self.parent
        if self.cursor is None or not isinstance(parent, Widget):
            return
        if not (self.size.height and parent.size.height and self.content_region.width):
            self._scroll_pending = True
            return
        self._scroll_pending = False
        y = self._line_of(*self.cursor)
        parent.scroll_to_region(Region(0, y, 1, 1), animate=False, immediate=True)

    def on_resize(self) -> None:
        if self._scroll_pending:
            self.call_after_refresh(self._scroll_to_cursor)

    def on_show(self) -> None:
        if self._scroll_pending:
            self.call_after_refresh(self._scroll_to_cursor)

    # -- input --------------------------------------------------------------------------------

    def action_move(self, d_row: int, d_index: int) -> None:
        if not self.strips:
            return
        row, index = self.cursor or (0, -1 if d_index > 0 else 0)
        if d_row:
            row = max(0, min(len(self.strips) - 1, row + d_row))
            index = max(0, index)
        else:
            index += d_index
        index = max(0, min(self.strips[row].count - 1, index))
        self._choose(row, index)

    def action_edge(self, direction: int) -> None:
        if self.strips:
            row = self.cursor[0] if self.cursor else 0
            self._choose(row, 0 if direction < 0 else self.strips[row].count - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.strips:
            return
        width = self.content_region.width
        label_w, per_line = self._label_width(width), self._cells_per_line(width)
        x = offset.x - (label_w + 1 + SCORE_W + 1)
        y = offset.y
        for row, s in enumerate(self.strips):
            lines = self._lines_of(s, per_line)
            if y < lines:
                index = y * per_line + max(0, x)
                if x < 0:
                    index = (self.cursor[1] if self.cursor and self.cursor[0] == row else 0)
                if index < s.count:
                    self._choose(row, index)
                return
            y -= lines

    def _choose(self, row: int, index: int) -> None:
        self.cursor = (row, index)
        self.refresh()
        self._scroll_to_cursor()
        self.post_message(self.Selected(self.strips[row].doc_id, index))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
