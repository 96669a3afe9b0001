"""The app: b in the ranking pane shows the first stage's rank next to the reranker's.
(A UI test: it lives with the others, tied to the locked Textual; see scripts/check-versions.)"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from workbench.engine.loading import LoadOptions
from workbench.engine.types import ChunkSettings, Document
from workbench.session import NullRecorder
from workbench.ui.app import WorkbenchApp, WorkbenchConfig
from workbench.ui.presets import StorePresets
from workbench.ui.widgets.chunk_list import ChunkList, DocList

QUERY = "visitor parking gate code"
# The first-stage tests' small corpus (tests/first_stage/first_stage_docs.py), by path: that folder
# is on sys.path only when its own tests are collected.
_spec = importlib.util.spec_from_file_location("first_stage_docs", Path(__file__).parents[1] / "first_stage" / "first_stage_docs.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
DOCS = _module.DOCS


async def wait_for(pilot, condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def line_text(widget, y: int) -> str:
    return "".join(segment.text for segment in widget.render_line(y))


async def test_b_turns_on_the_first_stage_column_with_rank_shifts(tiny_scorer, tiny_model_dir, tmp_path):
    config = WorkbenchConfig(load_options=LoadOptions(model=str(tiny_model_dir)), query=QUERY, debounce_s=0.05,
                             documents=[Document(name, text) for name, text in DOCS.items()],
                             chunking=ChunkSettings(tokens=16, overlap=0))
    app = WorkbenchApp(config, scorer=tiny_scorer, recorder=NullRecorder(), presets=StorePresets(tmp_path / "presets.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.session
        await wait_for(pilot, lambda: session.result is not None and not session.running, "a complete ranking")
        chunks, docs = app.widget(ChunkList), app.widget(DocList)
        assert "bm25" not in line_text(chunks, 0)  # off by default: the screen is as it always was
        app.action_show_pane("ranking")
        await pilot.press("b")
        await wait_for(pilot, lambda: app.first_stage.ranking() is not None, "the BM25 ranking")
        await pilot.pause()
        assert line_text(chunks, 0).startswith("#   bm25→#")
        assert line_text(docs, 0).startswith("#   bm25→#")
        ranking = app.first_stage.ranking()
        best = ranking.chunks[0]  # the chunk BM25 puts first: its row shows "1→" its reranker rank
        rank = session.view().ranks[(best.doc_id, best.chunk.index)]
        row = next(n for n, c in enumerate(chunks.rows) if (c.doc_id, c.chunk.index) == (best.doc_id, best.chunk.index))
        chunks.move_cursor(row)
        await pilot.pause()
        assert f"1→{rank}" in line_text(chunks, row + 1 - chunks.scroll_offset.y)
        assert ranking.documents[0].doc_id == "parking.txt"
        parking = next(n for n, r in enumerate(docs.rows) if r.doc_id == "parking.txt")
        assert f"1→{parking + 1}" in line_text(docs, parking + 1)
        app.first_stage.choose("none")  # (b twice more would embed every chunk first: slow here)
        app.refresh_views()
        await pilot.pause()
        assert "bm25" not in line_text(chunks, 0) and "bm25" not in line_text(docs, 0)
