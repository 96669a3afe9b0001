"""A document's text with its chunks: the selected one highlighted, every chunk start marked.

A Line-API view (Toolong's approach): only visible lines are rendered, from a wrap computed once
per width, so a 150 KB document scrolls and re-highlights without a widget per line.
"""

from __future__ import annotations

import bisect

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.engine.types import ChunkSpan, Document

from ..heat import heat_style

GUTTER = 6  # "#123▐ "
# Control characters shown as spaces: same length, so offsets into the text stay valid.
_DISPLAY = {c: " " for c in range(32) if c != 10} | {127: " "}
ODD_CHUNK = Style(color="color(250)")
SELECTED = Style(bgcolor="color(238)", color="color(231)")
CHUNK_START = Style(underline=True, bold=True)


def wrap_lines(text: str, width: int) -> list[tuple[int, int]]:
    """(start, end) offsets of display lines: text lines cut at word breaks to fit `width` cells."""
    width = max(8, width)
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        if line.isascii():
            while end - start > width:
                cut = text.rfind(" ", start, start + width + 1)
                cut = cut + 1 if cut > start else start + width
                lines.append((start, cut))
                start = cut
        else:
            from rich.cells import cell_len

            cells = 0
            for i in range(start, end):
                w = cell_len(text[i])
                if cells + w > width:
                    lines.append((start, i))
                    start, cells = i, 0
                cells += w
        lines.append((start, end))
        pos = end + 1
    return lines


class DocumentView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    DocumentView { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    """
    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.document: Document | None = None
        self.display_text = ""
        self.spans: list[ChunkSpan] = []
        self.starts: list[int] = []
        self.scores: dict[int, float] = {}
        self.selected: int | None = None
        self.lines: list[tuple[int, int]] = []
        self.line_starts: list[int] = []
        self._wrapped_for: tuple[int, int] | None = None  # (document identity, width)
        self._cache: dict[int, Strip] = {}
        self._scroll_pending = False

    def show(self, document: Document | None, spans: list[ChunkSpan], scores: dict[int, float], selected: int | None, scroll: bool = True) -> None:
        if document is not self.document:
            self.document = document
            self.display_text = document.text.translate(_DISPLAY) if document else ""
            self._wrapped_for = None
        self.spans = spans
        self.starts = [s.start for s in spans]
        self.scores = scores
        self.selected = selected
        self._cache.clear()
        self._rewrap()
        self.refresh()
        if scroll:
            self._scroll_pending = True
            self.call_after_refresh(self._scroll_to_selected)

    def on_resize(self) -> None:
        self._rewrap()
        if self.selected is not None:
            self._scroll_pending = True
            self.call_after_refresh(self._scroll_to_selected)

    def _text_width(self) -> int:
        return max(8, self.size.width - GUTTER - 1)  # one column for the scrollbar

    def _rewrap(self) -> None:
        key = (id(self.document), self._text_width())
        if self._wrapped_for == key or not self.size.width:
            return
        self._wrapped_for = key
        self.lines = wrap_lines(self.display_text, self._text_width()) if self.document else []
        self.line_starts = [s for s, _ in self.lines]
        self._cache.clear()
        self.virtual_size = Size(self.size.width - 1, len(self.lines))

    def _scroll_to_selected(self) -> None:
        if not self._scroll_pending or self.selected is None or self.selected >= len(self.spans) or not self.lines:
            return
        self._scroll_pending = False
        line = bisect.bisect_right(self.line_starts, self.spans[self.selected].start) - 1
        self.scroll_to(y=max(0, line - 2), animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        strip = self._cache.get(index)
        if strip is None:
            strip = self._render_text_line(index)
            if len(self._cache) > 2000:
                self._cache.clear()
            self._cache[index] = strip
        return strip.extend_cell_length(self.size.width, self.rich_style).crop(0, self.size.width)

    def _render_text_line(self, index: int) -> Strip:
        if index >= len(self.lines):
            return Strip.blank(0)
        start, end = self.lines[index]
        sel = self.spans[self.selected] if self.selected is not None and self.selected < len(self.spans) else None
        segments = self._gutter(start, end, sel)
        cuts = {start, end}
        for s in self.spans:
            for p in (s.start, s.start + 1):
                if start < p < end:
                    cuts.add(p)
        if sel is not None:
            cuts.update(p for p in (sel.start, sel.end) if start < p < end)
        points = sorted(cuts)
        start_set = set(self.starts)
        for a, b in zip(points, points[1:]):
            chunk = bisect.bisect_right(self.starts, a) - 1
            style = ODD_CHUNK if chunk % 2 else Style()
            if a in start_set and b == a + 1:
                style += CHUNK_START
            if sel is not None and sel.start <= a < sel.end:
                style += SELECTED
            segments.append(Segment(self.display_text[a:b], style))
        return Strip(segments)

    def _gutter(self, start: int, end: int, sel: ChunkSpan | None) -> list[Segment]:
        i = bisect.bisect_left(self.starts, start)
        label, style = "", Style(dim=True)
        if i < len(self.starts) and self.starts[i] < max(end, start + 1):
            label = f"#{i}"
            if i in self.scores:
                style = heat_style(self.scores[i]) + Style(bold=True)
        in_sel = sel is not None and start < sel.end and end >= sel.start
        mark = Segment("▐", heat_style(self.scores.get(self.selected, 0.0)) if in_sel else Style()) if in_sel else Segment(" ")
        return [Segment(label.rjust(GUTTER - 2)[: GUTTER - 2], style), mark, Segment(" ")]
