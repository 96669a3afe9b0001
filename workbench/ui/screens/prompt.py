"""Prompt inspection: exactly what the model saw for one chunk."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from workbench.engine.ranking import PromptView


def describe(view: PromptView, chunk_start: int, chunk_chars: int) -> Text:
    text = Text()
    text.append(f"{view.tokens} tokens", "bold")
    if view.truncated:
        kept = view.kept_chars or 0
        text.append("  TRUNCATED", "bold white on color(124)")
        text.append(
            f"  the model saw {kept:,} of the chunk's {chunk_chars:,} characters; "
            f"cut at document character {chunk_start + kept:,}"
        )
    else:
        text.append("  not truncated: the whole chunk fits", "dim")
    return text


class PromptScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    PromptScreen { background: $surface; }
    PromptScreen Label { width: 100%; }
    PromptScreen #prompt-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    PromptScreen #prompt-facts { height: auto; padding: 0 1; }
    PromptScreen TextArea { height: 1fr; }
    PromptScreen #prompt-hint { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="prompt.close"),
        Binding("ctrl+y", "copy", "Copy prompt", id="prompt.copy"),
    ]

    def __init__(self, title: str, view: PromptView, chunk_start: int, chunk_chars: int) -> None:
        super().__init__()
        self.title_text, self.view = title, view
        self.facts = describe(view, chunk_start, chunk_chars)

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, id="prompt-title")
        yield Label(self.facts, id="prompt-facts")
        yield TextArea(self.view.text, read_only=True, soft_wrap=True, id="prompt-text")
        yield Label("escape close · ctrl+y copy the prompt text", id="prompt-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.view.text)
        self.notify("Prompt copied to the clipboard.")
