"""The fixed 0..1 colour scale shared by heat strips, score bars and the legend.

Colours are xterm-256 palette indices, so they look the same in 256-colour terminals (tmux)
and in true-colour ones. The scale never adapts to the scores shown: the same colour means the
same score in every document and every run.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

# Dark purple -> teal -> green -> yellow (viridis-like), one colour per tenth of the scale.
RAMP: tuple[int, ...] = (54, 55, 61, 67, 73, 72, 71, 106, 142, 226)
PENDING = Style(color="color(240)")
CELL = "█"
PENDING_CELL = "·"


def heat_index(score: float) -> int:
    return min(len(RAMP) - 1, max(0, int(score * len(RAMP))))


def heat_style(score: float) -> Style:
    return Style(color=f"color({RAMP[heat_index(score)]})")


def heat_bg(score: float) -> Style:
    return Style(bgcolor=f"color({RAMP[heat_index(score)]})")


def score_bar(score: float, width: int = 8) -> Text:
    """A horizontal bar of `width` cells, in eighths, coloured by the score's heat."""
    eighths = round(max(0.0, min(1.0, score)) * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
    return Text(bar.ljust(width), style=heat_style(score))


def legend() -> Text:
    """'0.0 ██████████ 1.0' with each cell coloured as the scale does."""
    text = Text("score 0 ", style="dim")
    for i, colour in enumerate(RAMP):
        text.append(CELL, Style(color=f"color({colour})"))
    text.append(" 1   ", style="dim")
    text.append(PENDING_CELL, PENDING)
    text.append(" not scored yet", style="dim")
    return text
