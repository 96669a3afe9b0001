"""Against a real rerank server process (Infinity, see real_server.py): the protocol it speaks, its
numbers against transformers on the same weights, and `workbench score --backend` ranking with it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import pytest
import torch
from real_server import SERVED_NAME
from typer.testing import CliRunner

from workbench.cli import app

REPO = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO / "sample_data" / "docs"
# The small sample documents (the long handbook alone is ~60k tokens: minutes on 2 cores).
DOC_NAMES = ["backup_retention_policy.md", "note_visitor_parking.txt", "faq_home_wifi.md",
             "recipes_weeknight_and_weekend.md"]
QUERY = "How long are nightly database backups kept before they are deleted?"
TEXTS = [
    "Nightly backups are kept for thirty days, then deleted.",
    "The espresso grinder needs a finer setting when shots run fast.",
    "Spirit got stuck in soft soil and never drove again.",
    "Retention policy: snapshots older than a year move to cold storage.",
]


class TransformersCrossEncoder:
    """The independent computation: the saved model through transformers, sigmoid of the logit."""

    def __init__(self, model_dir: Path):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()

    @torch.no_grad()
    def __call__(self, query: str, document: str) -> float:
        pair = self.tokenizer(query.strip(), document.strip(), truncation="longest_first", return_tensors="pt")
        return float(torch.sigmoid(self.model(**pair).logits[0, 0]))


@pytest.fixture(scope="module")
def reference(cross_encoder_dir) -> TransformersCrossEncoder:
    return TransformersCrossEncoder(cross_encoder_dir)


def rerank(url: str, query: str, documents: list[str]) -> dict:
    response = httpx.post(url + "/rerank", json={"model": SERVED_NAME, "query": query, "documents": documents,
                                                 "return_documents": False}, timeout=60.0)
    assert response.status_code == 200, response.text
    return response.json()


def test_server_answers_cohere_style_rerank(rerank_server):
    answer = rerank(rerank_server.url, QUERY, TEXTS)
    results = answer["results"]
    assert sorted(r["index"] for r in results) == list(range(len(TEXTS)))
    assert all(0.0 < r["relevance_score"] < 1.0 for r in results)
    # Infinity lists the best first, not in request order: clients must map by index.
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    models = httpx.get(rerank_server.url + "/models", timeout=10.0).json()
    assert [m["id"] for m in models["data"]] == [SERVED_NAME]
    # No vLLM-style /version: `--backend-api auto` must take it for a plain /rerank server.
    assert httpx.get(rerank_server.url + "/version", timeout=10.0).status_code == 404


def test_server_scores_equal_transformers(rerank_server, reference):
    by_index = {r["index"]: r["relevance_score"] for r in rerank(rerank_server.url, QUERY, TEXTS)["results"]}
    expected = [reference(QUERY, text) for text in TEXTS]
    for i, want in enumerate(expected):
        assert by_index[i] == pytest.approx(want, abs=1e-4), f"document {i}: {TEXTS[i]!r}"
    # The weights are random but not degenerate: the documents do not all score alike.
    assert max(expected) - min(expected) > 1e-2


@pytest.mark.parametrize("api", ["rerank", "auto"])  # auto must find out it is not vLLM
def test_workbench_score_ranks_like_the_server(api, rerank_server, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    argv = [
        "score", *(str(DOCS_DIR / name) for name in DOC_NAMES), "--query", QUERY,
        "--backend", rerank_server.url, "--backend-api", api,
        "--model", str(rerank_server.model_dir),  # the tokenizer that chunks and counts tokens
        "--chunk-tokens", "128", "--chunk-overlap", "0", "--aggregate", "max",
        "--no-log", "--no-cache", "--format", "json",
    ]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, f"{result.output}\nserver log:\n{rerank_server.log_tail()}"
    run = json.loads(result.stdout)
    documents = run["documents"]
    assert len(documents) == len(DOC_NAMES)
    assert run["model"]["kind"] == "remote-reranker"
    assert rerank_server.url in run["model"]["backend"] and "Infinity" in run["model"]["backend"]
    assert any(len(d["chunks"]) > 1 for d in documents), "the test should exercise chunk aggregation"

    # Score every chunk the workbench made, directly: against the server and with transformers.
    expected_doc = {}
    for doc in documents:
        text = _document_text(doc)
        chunks = [text[c["start"]:c["end"]] for c in doc["chunks"]]
        served = {r["index"]: r["relevance_score"] for r in rerank(rerank_server.url, QUERY, chunks)["results"]}
        independent = [reference(QUERY, chunk) for chunk in chunks]
        for i, reported in enumerate(doc["chunks"]):
            assert served[i] == pytest.approx(independent[i], abs=1e-4)
            assert reported["score"] == pytest.approx(independent[i], abs=1e-4), f"{doc['id']} chunk {i}"
        expected_doc[doc["id"]] = max(independent)

    # The workbench's order is the order of the independently computed document scores (ties
    # within float noise may go either way).
    order = [d["id"] for d in documents]
    for better, worse in zip(order, order[1:]):
        assert expected_doc[better] >= expected_doc[worse] - 1e-4, f"{better} ranked above {worse}"
    assert [d["rank"] for d in documents] == list(range(1, len(documents) + 1))
    assert not math.isclose(expected_doc[order[0]], expected_doc[order[-1]], abs_tol=1e-3)


def _document_text(doc: dict) -> str:
    path = Path(doc["path"]) if doc.get("path") else DOCS_DIR / doc["id"]
    return path.read_text(encoding="utf-8")
