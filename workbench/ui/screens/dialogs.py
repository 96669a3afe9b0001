"""Small modal dialogs: one line of input, or a name plus pasted text."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual import events
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
.dialog .hint { width: 100%; color: $text-muted; padding: 1 0 0 0; }
.dialog .title { width: 100%; }
.dialog .error { width: 100%; height: auto; color: $error; text-style: bold; display: none; }
.dialog .error.-visible { display: block; }
.dialog .buttons { height: auto; align-horizontal: right; }
.dialog Button { margin-left: 1; }
"""


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (→ or end accepts it)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        # Off the event loop: a large or slow folder must not hold up the keys typed after it.
        return await asyncio.to_thread(self.complete, value)

    @staticmethod
    def complete(value: str) -> str | None:
        head, _, part = value.rpartition(os.sep)
        folder = Path(os.path.expanduser(head or ".")) if head or not value.startswith(os.sep) else Path(os.sep)
        try:
            names = sorted(e.name + (os.sep if e.is_dir() else "") for e in os.scandir(folder) if e.name.startswith(part))
        except OSError:
            return None
        visible = [n for n in names if not n.startswith(".") or part.startswith(".")]
        return value + visible[0][len(part):] if visible and visible[0] != part else None


class DialogInput(Input):
    """An Input whose paste keeps the first non-blank line.

    Input keeps only the first line of a paste; a paste that starts with a line break (a path copied
    with the line before it) inserted nothing, and replaced the selected default with it: the
    field was emptied and enter then closed the dialog with nothing done.
    """

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's own handler as well
        event.stop()
        line = next((part.strip() for part in event.text.splitlines() if part.strip()), "")
        if not line:
            return
        if self.selection.is_empty:
            self.insert_text_at_cursor(line)
        else:
            self.replace(line, *self.selection)


class InputDialog(ModalScreen[str | None]):
    """Ask for one line (a path, a name). Enter accepts, Escape cancels.

    What is accepted is the field's value when enter is handled, never a copy taken earlier; an
    empty (or blank) value is refused with a message in the dialog, which stays open.
    """

    DEFAULT_CSS = "InputDialog { align: center middle; }" + DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "", paths: bool = False) -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder, self.hint = title, value, placeholder, hint
        self.suggester = PathSuggester() if paths else None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            yield DialogInput(self.value, placeholder=self.placeholder, suggester=self.suggester, id="dialog-input")
            yield Label("", id="dialog-error", classes="error")
            yield Label(self.hint or "enter accept · escape cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = self.query_one("#dialog-input", Input).value.strip()
        if not value:
            what = "a path" if self.suggester is not None else "a name"
            self.show_error(f"Type {what} first (escape cancels).")
            return
        self.dismiss(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.show_error("")

    def show_error(self, text: str) -> None:
        error = self.query_one("#dialog-error", Label)
        error.update(text)
        error.set_class(bool(text), "-visible")

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
            yield DialogInput(self.default_name, placeholder="document name", id="paste-name")
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
