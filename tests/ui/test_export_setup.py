"""The palette's "Export setup…": the ranking on screen as a setup file that ranks the same way
through the Python API."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from ui_helpers import wait_for, wait_ranked

import workbench
from workbench.setup_file import read_setup
from workbench.ui.screens.dialogs import InputDialog

SIZE = (120, 40)


async def test_export_setup_from_the_palette_ranks_the_same_through_the_api(make_app, tmp_path, tiny_model_dir):
    app = make_app(query="mars", instruction="Find facts about planets")
    target = tmp_path / "tuned.toml"
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("ctrl+p", *"export setup")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, InputDialog), what="the file name dialog")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists, what="the setup file")
        result, documents = app.session.result, list(app.session.documents)
    setup = read_setup(target)
    assert (setup.model, setup.instruction) == (str(tiny_model_dir), "Find facts about planets")
    assert (setup.chunk_tokens, setup.chunk_overlap, setup.aggregate) == (48, 8, result.aggregate)
    hits = workbench.load_setup(target).rerank("mars", [d.text for d in documents])
    assert [documents[h.index].id for h in hits] == [d.doc_id for d in result.documents]
    assert [h.score for h in hits] == pytest.approx([d.score for d in result.documents], abs=1e-6)
