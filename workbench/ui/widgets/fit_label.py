"""A one-line label that leaves parts out, and ends with "…", rather than cropping its text."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Label


def fit_line(text: Text | str, width: int, keep_last: bool = False) -> Text:
    """One line of `width` cells from parts joined by " · ". Too wide, parts are left out: from the
    end, or (keep_last) from the one before the last backwards, keeping the first and the last (a chunk title
    keeps its document and its score); what still does not fit ends with "…"."""
    text = Text(text) if isinstance(text, str) else text.copy()
    text.no_wrap, text.overflow, text.end = True, "ellipsis", ""
    if width <= 0 or text.cell_len <= width:
        return text
    plain = text.plain
    cuts, at = [], plain.find(" · ")
    while at > 0:
        cuts.append(at)
        at = plain.find(" · ", at + 3)
    parts = list(text.divide(cuts))
    while len(parts) > 1 and sum(p.cell_len for p in parts) > width:
        if keep_last and len(parts) > 2:
            parts.pop(-2)  # the details nearest the end first: tokens, chars, chunk
        elif keep_last:
            break  # first and last: the first is cut below
        else:
            parts.pop()
    if len(parts) > 1 and keep_last:
        head, tail = parts[0], Text("").join(parts[1:])
        room = width - tail.cell_len
        if head.cell_len > room:
            head = head[: max(0, room - 1)]
            head.append("…")
        line = head + tail
    else:
        line = Text("").join(parts)
    line.no_wrap, line.overflow, line.end = True, "ellipsis", ""
    if line.cell_len > width:
        line.truncate(width - 1)
        line.append("…")
    return line


class FitLabel(Label):
    """A one-line label that fits its text to its width (see fit_line) instead of cropping it."""

    def __init__(self, text: Text | str = "", keep_last: bool = False, **kwargs) -> None:
        super().__init__(text, **kwargs)
        self.keep_last = keep_last

    def render(self):
        content = self.content
        if isinstance(content, (str, Text)):
            return fit_line(content, self.content_region.width or self.size.width, self.keep_last)
        return super().render()
