"""The app scoring through a rerank server: picked from the palette, named in the status bar,
and a server that stops answering is a message, not a crash."""

from __future__ import annotations

import pytest
from ui_helpers import wait_for, wait_ranked

from workbench.testing.protocol_server import ProtocolServer, VllmLikeModel
from workbench.ui.widgets.status_bar import StatusBar


@pytest.fixture
def server(tiny_model_dir):
    score = VllmLikeModel.from_dir(tiny_model_dir)
    with ProtocolServer(score, model="Qwen/Qwen3-Reranker-0.6B", root=str(tiny_model_dir)) as s:
        yield s


async def test_switch_to_a_rerank_server_and_back(make_app, server):
    app = make_app(query="moons of mars")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        local = [d.doc_id for d in app.session.result.documents]
        app.load_other_model(backend=(server.url,))
        await wait_for(pilot, lambda: app.model_state == "loaded" and app.session.model.backend, what="the server")
        app.main.query_one("#query").load_text("moons of mars ")  # a new run through the server
        await wait_for(pilot, lambda: app.session.result.model.backend and not app.session.running and not app.run_pending,
                       what="a ranking from the server")
        assert [d.doc_id for d in app.session.result.documents] == local
        assert server.documents_scored() > 0
        assert "Qwen/Qwen3-Reranker-0.6B vllm 0.0.test" in str(app.widget(StatusBar).render())
        app.action_model_details()
        assert any(f"scored by vllm 0.0.test at {server.url}" in n for n, _ in app.notices)
        server.faults = ["500"] * 100
        app.main.query_one("#query").load_text("phobos and deimos")
        await wait_for(pilot, lambda: any("answered 500" in n for n, _ in app.notices), timeout=30, what="the failure notice")
        app.load_other_model(backend="not a url".split())
        assert any("--backend needs a server address" in n for n, _ in app.notices)
