"""Small modal dialogs: one line of input, or a name plus pasted text."""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, TextArea

DIALOG_CSS = """
.dialog { width: 90%; max-width: 100; height: auto; max-height: 90%; border: round $accent;
          background: $surface; padding: 0 1; }
.dialog .title { text-style: bold; padding: 0 0 1 0; }
.dialog .hint { color: $text-muted; padding: 1 0 0 0; }
.dialog .buttons { height: auto; align-horizontal: right; }
.dialog Button { margin-left: 1; }
"""


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (→ or end accepts it)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        head, _, part = value.rpartition(os.sep)
        folder = Path(os.path.expanduser(head or ".")) if head or not value.startswith(os.sep) else Path(os.sep)
        try:
            names = sorted(e.name + (os.sep if e.is_dir() else "") for e in os.scandir(folder) if e.name.startswith(part))
        except OSError:
            return None
        visible = [n for n in names if not n.startswith(".") or part.startswith(".")]
        return value + visible[0][len(part):] if visible and visible[0] != part else None


class InputDialog(ModalScreen[str | None]):
    """Ask for one line (a path, a name). Enter accepts, Escape cancels."""

    DEFAULT_CSS = "InputDialog { align: center middle; }" + DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "", paths: bool = False) -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder, self.hint = title, value, placeholder, hint
        self.suggester = PathSuggester() if paths else None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            yield Input(self.value, placeholder=self.placeholder, suggester=self.suggester, id="dialog-input")
            yield Label(self.hint or "enter accept · escape cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PasteDialog(ModalScreen[tuple[str, str] | None]):
    """A new document from pasted text: a name and the text. ctrl+s adds it."""

    DEFAULT_CSS = (
        "PasteDialog { align: center middle; } PasteDialog TextArea { height: 12; } "
        "PasteDialog .dialog { height: 90%; } PasteDialog TextArea { height: 1fr; }" + DIALOG_CSS
    )
    BINDINGS = [
        Binding("ctrl+s", "accept", "Add document", id="paste.accept"),
        Binding("escape", "cancel", "Cancel", id="paste.cancel"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.default_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New document from text", classes="title")
            yield Input(self.default_name, placeholder="document name", id="paste-name")
            yield TextArea(id="paste-text", soft_wrap=True, tab_behavior="focus")
            with Horizontal(classes="buttons"):
                yield Button("Add (ctrl+s)", variant="primary", id="paste-add")
                yield Button("Cancel (esc)", id="paste-cancel")

    def on_mount(self) -> None:
        self.query_one("#paste-text", TextArea).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#paste-text", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_accept() if event.button.id == "paste-add" else self.action_cancel()

    def action_accept(self) -> None:
        text = self.query_one("#paste-text", TextArea).text
        if not text.strip():
            self.notify("Paste or type some text first.", severity="warning")
            return
        name = self.query_one("#paste-name", Input).value.strip() or self.default_name
        self.dismiss((name, text))

    def action_cancel(self) -> None:
        self.dismiss(None)
