"""Snapshots of every screen at 80x24 and 120x40: main (ranking), heat map with a selected chunk,
documents, help, prompt, presets, the add-document dialog, history and compare.

Deterministic by construction: fixed documents and query, the tiny model with fixed weights, timings
and memory masked (`hide_volatile`), and every snapshot taken once the run is complete.
Update with `pytest tests/ui --snapshot-update` after an intended change, and look at the diff.
"""

from __future__ import annotations

import pytest
from ui_helpers import wait_ranked


def snapshot_app(make_app):
    return make_app(query="how fine should the grind be", hide_volatile=True)


async def _ranked(pilot) -> None:
    await wait_ranked(pilot, "how fine should the grind be")


def test_main_screen_80x24(make_app, snap_compare):
    assert snap_compare(snapshot_app(make_app), terminal_size=(80, 24), run_before=_ranked)


def test_main_screen_120x40(make_app, snap_compare):
    assert snap_compare(snapshot_app(make_app), terminal_size=(120, 40), run_before=_ranked)


def _after(*keys: str, pause: float = 0.3):
    async def run_before(pilot) -> None:
        await _ranked(pilot)
        await pilot.press(*keys)
        await pilot.pause(pause)

    return run_before


SCREENS = {
    "heat_map_selected": ("f3", "right", "right", "right"),
    "documents": ("f4",),
    "help": ("f1",),
    "prompt": ("f2", "down", "i"),
    "presets": ("ctrl+t",),
    "distribution": ("f2", "3", "d"),  # a label, so the best cut-off shows
    # Typed over the default (the working folder, which differs between checkouts).
    "add_document_dialog": ("ctrl+o", *"notes/espresso.md"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(make_app, snap_compare, screen, size, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert snap_compare(snapshot_app(make_app), terminal_size=size, run_before=_after(*SCREENS[screen]))


# The run log and its helpers come from the history tests, so these follow any change there.
from test_history import OTHER_INSTRUCTION, run_logger, two_runs  # noqa: E402,F401


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", ["history", "compare"])
def test_history_screens(make_app, snap_compare, run_logger, screen, size):
    app = make_app(query="how fine should the grind be", recorder=run_logger, hide_volatile=True)

    async def run_before(pilot) -> None:
        await two_runs(pilot, run_logger, instruction=OTHER_INSTRUCTION)
        await pilot.press("f5" if screen == "history" else "f9")
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_tuning_screens(make_app, snap_compare, size):
    """Labels in the ranking (r column, metrics in the info line) and the A/B pane after an edit."""
    from ui_helpers import wait_for

    app = snapshot_app(make_app)

    async def run_before(pilot) -> None:
        await _ranked(pilot)
        await pilot.press("f2", "3", "down", "down", "1", "ctrl+b")
        first = app.session.result
        app.main.use_instruction("Find passages about coffee brewing")
        await wait_for(pilot, lambda: app.session.result is not first and not app.session.running and not app.run_pending)
        await pilot.press("f7")
        app.clear_notifications()  # the label and pin toasts would cover the pane
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_instructions_tried_screen(make_app, snap_compare, size, tmp_path):
    from ui_helpers import wait_for

    from workbench.session.sqlite_recorder import SqliteRecorder
    from workbench.store import open_store
    from workbench.ui.screens.tried import TriedScreen

    app = make_app(query="how fine should the grind be", hide_volatile=True,
                   recorder=SqliteRecorder(open_store(tmp_path / "runs.db"), origin="app"))

    async def run_before(pilot) -> None:
        await _ranked(pilot)
        await pilot.press("f2", "3")
        first = app.session.result
        app.main.use_instruction("Find passages about coffee brewing")
        await wait_for(pilot, lambda: app.session.result is not first and not app.session.running and not app.run_pending)
        await wait_for(pilot, lambda: len(app.session.recorder.history().page(False).rows) == 2)
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, TriedScreen))
        app.clear_notifications()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_query_set_pane(make_app, snap_compare, size, tmp_path):
    import json

    from ui_helpers import wait_for

    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"id": "m1", "query": "What are the moons of Mars called?",
                                   "relevant": [{"doc": "mars.md", "contains": "Phobos and Deimos"}]}) + "\n")
    app = make_app(query="how fine should the grind be", hide_volatile=True, queries=queries)

    async def run_before(pilot) -> None:
        await _ranked(pilot)
        await wait_for(pilot, lambda: "nDCG" in str(app.main.query_one("#set-report").render()))
        await pilot.press("f10")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
