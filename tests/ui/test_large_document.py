"""A ~150 KB (~32k-token) document: the views stay correct and the redraws stay cheap."""

from __future__ import annotations

import time

from ui_helpers import wait_for, wait_ranked

from workbench.engine.types import ChunkSettings, Document
from workbench.ui.widgets.document_view import DocumentView


def big_document() -> Document:
    paragraphs = [
        f"Section {n}. The pump pressure at step {n} was {n % 9 + 1} bar, and the grind setting was "
        f"{n % 30 + 5}. Operators noted that channelling appeared when the puck was uneven. " * 3
        for n in range(400)
    ]
    return Document("handbook.md", "\n\n".join(paragraphs), "docs/handbook.md")


async def test_a_large_document_scores_and_shows_its_last_chunk(make_app):
    doc = big_document()
    assert len(doc.text) > 140_000
    app = make_app(documents=[doc], chunking=ChunkSettings(256, 32), query="channelling")
    timings: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        original = app.refresh_views

        def timed() -> None:
            t = time.perf_counter()
            original()
            timings.append(time.perf_counter() - t)

        app.refresh_views = timed
        await wait_ranked(pilot, timeout=90)
        chunks = len(app.session.spans["handbook.md"])
        assert chunks > 100
        await pilot.press("f3", "end")
        await wait_for(pilot, lambda: app.session.options.selected == ("handbook.md", chunks - 1))
        view = app.widget(DocumentView)
        shown = " ".join(view.render_line(y).text for y in range(view.size.height))
        assert "Section 399." in shown
        # Typing goes on while the big document is on screen.
        app.action_focus_query()
        await pilot.press(*" pump")
        await wait_ranked(pilot, "channelling pump", timeout=90)
    print(f"\nredraws: {len(timings)}, longest {max(timings) * 1000:.0f} ms")
