"""Snapshots of the main screen (80x24 and 120x40), the heat-map pane and the help screen.

Deterministic by construction: fixed documents and query, the tiny model with fixed weights, timings
and memory masked (`hide_volatile`), and every snapshot taken once the run is complete.
Update with `pytest tests/ui --snapshot-update` after an intended change, and look at the diff.
"""

from __future__ import annotations

from ui_helpers import wait_ranked


def snapshot_app(make_app):
    return make_app(query="how fine should the grind be", hide_volatile=True)


async def _ranked(pilot) -> None:
    await wait_ranked(pilot, "how fine should the grind be")


def test_main_screen_80x24(make_app, snap_compare):
    assert snap_compare(snapshot_app(make_app), terminal_size=(80, 24), run_before=_ranked)


def test_main_screen_120x40(make_app, snap_compare):
    assert snap_compare(snapshot_app(make_app), terminal_size=(120, 40), run_before=_ranked)


def test_heat_map_with_a_selected_chunk_120x40(make_app, snap_compare):
    async def select(pilot) -> None:
        await _ranked(pilot)
        await pilot.press("f3", "right", "right", "right")
        await pilot.pause()

    assert snap_compare(snapshot_app(make_app), terminal_size=(120, 40), run_before=select)


def test_help_screen_80x24(make_app, snap_compare):
    async def help_open(pilot) -> None:
        await _ranked(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(snapshot_app(make_app), terminal_size=(80, 24), run_before=help_open)
