"""The query and instruction editors: soft-wrapped multi-line text areas."""

from __future__ import annotations

from textual.widgets import TextArea


class PromptEditor(TextArea):
    """A plain-text editor for one part of the prompt. Tab moves focus on (no tab characters)."""

    DEFAULT_CSS = """
    PromptEditor { border: round $secondary 50%; padding: 0 1; }
    PromptEditor:focus { border: round $accent; }
    """

    def __init__(self, text: str, title: str, placeholder: str = "", **kwargs) -> None:
        super().__init__(
            text,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder=placeholder,
            **kwargs,
        )
        self.border_title = title
