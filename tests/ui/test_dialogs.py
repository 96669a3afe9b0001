"""The path dialogs (ctrl+o add, ctrl+s export): keys sent in one burst (as tmux send-keys or a
terminal without bracketed paste delivers them), pastes, and an empty path."""

from __future__ import annotations

import json

from textual import events
from textual.widgets import Input, Label

from workbench.ui.screens.dialogs import InputDialog

from ui_helpers import wait_for, wait_ranked

SIZE = (80, 24)
KEY_NAMES = {"/": "slash", ".": "full_stop", "_": "underscore", "-": "minus", " ": "space", "~": "tilde"}


def burst(app, keys: list[str]) -> None:
    """Queue every key at once, with no pause for the app between them."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(KEY_NAMES.get(key, key), key))
        else:
            app.post_message(events.Key(key, "\r" if key == "enter" else None))


def recording_dismissals(monkeypatch) -> list:
    seen: list = []
    original = InputDialog.dismiss

    def dismiss(self, result=None):
        seen.append(result)
        return original(self, result)

    monkeypatch.setattr(InputDialog, "dismiss", dismiss)
    return seen


def dialog_error(app) -> str:
    label = app.screen.query_one("#dialog-error", Label)
    return str(label.render()) if label.display else ""


async def test_a_burst_of_keys_in_the_add_dialog_is_kept_whole(make_app, tmp_path, monkeypatch):
    folder = tmp_path / "notes dir"
    folder.mkdir()
    target = folder / "tamping_notes-2.md"
    target.write_text("Tamping pressure matters less than an even distribution of the coffee bed.\n")
    (folder / "tamping_notes-1.md").write_text("A similar name, so that the path completion suggests it.\n")
    seen = recording_dismissals(monkeypatch)
    app = make_app(query="tamping")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        burst(app, ["ctrl+o", *str(target), "enter"])  # the dialog opens while the keys are queued
        await wait_for(pilot, lambda: seen, what="the dialog to close")
        assert seen == [str(target)]
        await wait_for(pilot, lambda: any(d.id == target.name for d in getattr(app, "session", app).documents), what="the new document")


async def test_pilot_presses_and_a_paste_in_the_export_dialog_write_the_file(make_app, tmp_path, monkeypatch):
    seen = recording_dismissals(monkeypatch)
    app = make_app(query="grind")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        typed = tmp_path / "out" / "ranking_1.json"
        await pilot.press("ctrl+s", *str(typed), "enter")
        await wait_for(pilot, typed.exists, what="the typed export")
        # A paste, with line breaks around it (copied with the lines before and after).
        pasted = tmp_path / "out" / "ranking_2.csv"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, InputDialog)
        app.screen.query_one(Input).post_message(events.Paste(f"\n{pasted}\n"))
        burst(app, ["enter"])
        await wait_for(pilot, pasted.exists, what="the pasted export")
        assert seen == [str(typed), str(pasted)]
        assert json.loads(typed.read_text())


async def test_an_empty_path_is_refused_in_the_dialog(make_app, monkeypatch):
    seen = recording_dismissals(monkeypatch)
    app = make_app(query="grind")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("ctrl+o")
        dialog = app.screen
        assert isinstance(dialog, InputDialog)
        await pilot.press("backspace")  # the default is selected: this empties the field
        assert dialog.query_one(Input).value == ""
        await pilot.press("enter")
        assert app.screen is dialog and not seen
        assert "Type a path first" in dialog_error(app)
        await pilot.press("space", "space", "enter")  # blank is empty too
        assert app.screen is dialog and not seen and "Type a path first" in dialog_error(app)
        await pilot.press("x")  # typing clears the message
        assert dialog_error(app) == ""
        await pilot.press("escape")
        assert seen == [None] and app.screen is not dialog
