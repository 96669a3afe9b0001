"""A list with a header and a cursor, drawn with the Line API (Toolong's approach).

Only visible rows are rendered, and replacing the rows costs nothing until they are drawn. The
DataTable rebuilds and re-renders every cell on each update (~5 ms a line here), which froze the
interface for a tenth of a second at every batch of scores. Subclasses say how a row looks.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Row = TypeVar("Row")


class LineList(ScrollView, Generic[Row], can_focus=True):
    DEFAULT_CSS = """
    LineList { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    LineList > .line-list--header { text-style: bold; color: $text-muted; }
    LineList > .line-list--cursor { background: $surface-lighten-2; }
    LineList:focus > .line-list--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {"line-list--header", "line-list--cursor"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000000)", "First", show=False),
        Binding("end", "move(1000000000)", "Last", show=False),
    ]
    # (title, width) per column; the last column takes the rest of the line.
    COLUMNS: tuple[tuple[str, int], ...] = ()

    class _ListMessage(Message):
        def __init__(self, line_list: "LineList", value: object) -> None:
            super().__init__()
            self.line_list = line_list
            self.value = value

        @property
        def control(self) -> "LineList":
            return self.line_list

    class Highlighted(_ListMessage):
        """The cursor moved to the row with key `value`."""

    class Selected(_ListMessage):
        """Enter (or a second click) on the row with key `value`."""

    class HeaderClicked(_ListMessage):
        """A click on the header of column number `value`."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[Row] = []
        self.cursor = 0

    # -- for subclasses -----------------------------------------------------------------------

    def row_key(self, row: Row) -> object:
        raise NotImplementedError

    def render_row(self, row: Row, index: int, width: int) -> Text:
        raise NotImplementedError

    # -- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def keys(self) -> list:
        return [self.row_key(r) for r in self.rows]

    def key_at_cursor(self):
        return self.row_key(self.rows[self.cursor]) if self.rows else None

    def set_rows(self, rows: list[Row], capacity: int = 0) -> None:
        """Replace the rows; the cursor stays on the same key when it is still listed, except on
        the first row, where it stays: a ranking filling in batch by batch keeps its best row under
        the cursor, rather than the best of the first batch scored.

        `capacity`: rows expected soon. Sizing for them at once spares a screen reflow each time
        rows are added (a changed virtual size re-lays out the whole screen).
        """
        keep = self.key_at_cursor() if self.cursor > 0 else None
        self.rows = rows
        if keep is not None:
            where = {k: n for n, k in enumerate(self.keys())}
            self.cursor = where.get(keep, min(self.cursor, max(0, len(rows) - 1)))
        else:
            self.cursor = 0
        size = Size(self.size.width, max(len(rows), capacity) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self.refresh()

    # -- rendering ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("line-list--header")
            titles = "".join(f"{title:<{w}}" for title, w in self.COLUMNS[:-1]) + self.COLUMNS[-1][0]
            return Strip([Segment(titles, style)]).extend_cell_length(width, style).crop(0, width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        base = self.get_component_rich_style("line-list--cursor") if index == self.cursor else self.rich_style
        line = self.render_row(self.rows[index], index, width)
        line.no_wrap, line.end = True, ""
        if line.cell_len > width:  # a cut name or text ends with "…", not mid-word
            line.truncate(max(1, width - 1))
            line.append("…")
        segments = [Segment(s.text, base + s.style if s.style else base) for s in line.render(self.app.console)]
        return Strip(segments).extend_cell_length(width, base).crop(0, width)

    # -- input --------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.move_cursor(max(0, min(len(self.rows) - 1, self.cursor + delta)))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 2))

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.key_at_cursor()))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = 0
            for column, (_, w) in enumerate(self.COLUMNS):
                if offset.x < x + w or column == len(self.COLUMNS) - 1:
                    self.post_message(self.HeaderClicked(self, column))
                    return
                x += w
            return
        index = self.scroll_offset.y + offset.y - 1
        if index < len(self.rows):
            again = index == self.cursor or event.chain > 1
            self.move_cursor(index)
            if again:
                self.action_select()

    def move_cursor(self, index: int) -> None:
        self.cursor = index
        # Screen line 0 is the header, so row r shows when top <= r <= top + visible - 1.
        top, visible = self.scroll_offset.y, max(1, self.size.height - 1)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index > top + visible - 1:
            self.scroll_to(y=index - visible + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self, self.key_at_cursor()))
