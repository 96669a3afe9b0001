"""`workbench.load_setup(...).rerank(...)`: the same ranking and scores as `workbench score` for the
same setup, and the answers a script gets for odd input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading

import pytest
from api_data import DOCS, QUERY
from typer.testing import CliRunner

import workbench
from workbench.cli import app
from workbench.setup_file import Setup, write_setup


def _best_chunk(chunks: list[dict]) -> dict:
    return max(chunks, key=lambda c: c["logit"])


def test_rerank_equals_workbench_score_for_the_same_setup_file(tiny_setup, tiny_reranker, tmp_path):
    setup_file = write_setup(workbench.read_setup(tiny_setup), tmp_path / "setup.toml")
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": str(n), "text": t}) + "\n" for n, t in enumerate(DOCS)), encoding="utf-8")
    result = CliRunner().invoke(app, ["score", "--docs-jsonl", str(docs), "-q", QUERY, "--setup", str(setup_file),
                                      "-f", "json", "--no-log", "--no-cache"])
    assert result.exit_code == 0, result.stderr
    cli = json.loads(result.stdout)
    assert cli["instruction"] == tiny_setup["instruction"] and cli["settings"]["aggregate"] == "topk"

    hits = workbench.load_setup(setup_file).rerank(QUERY, DOCS)
    assert [str(h.index) for h in hits] == [d["id"] for d in cli["documents"]]
    for hit, doc in zip(hits, cli["documents"]):
        assert hit.rank == doc["rank"] and hit.text == DOCS[hit.index]
        assert hit.score == pytest.approx(doc["score"], abs=1e-6)
        best = _best_chunk(doc["chunks"])
        assert (hit.best_chunk.start, hit.best_chunk.end, hit.best_chunk.index) == (best["start"], best["end"], best["index"])
        assert hit.best_chunk.logit == pytest.approx(best["logit"], abs=1e-5)
        assert hit.best_chunk.score == pytest.approx(1 / (1 + math.exp(-hit.best_chunk.logit)))
        assert hit.chunks == len(doc["chunks"])
        # topk of 2: the document's score is the mean of its two best chunk scores
        top2 = sorted((c["score"] for c in doc["chunks"]), reverse=True)[:2]
        assert hit.score == pytest.approx(sum(top2) / len(top2), abs=1e-6)
        assert hit.logit == pytest.approx(math.log(hit.score / (1 - hit.score)))
    assert sum(len(d["chunks"]) for d in cli["documents"]) > len(DOCS)  # chunking was on


def test_a_rerank_call_scores_no_early_batch_for_a_quick_first_row(tiny_reranker):
    """A call returns whole: every batch on a core of its own (throughput), as the commands do."""
    scorer = tiny_reranker._loaded().ranker.scorer
    assert not scorer.quick_first_batch
    if scorer.device.type == "cpu":
        assert any(c.endswith("no quick first batch (a batch command: throughput first)") for c in tiny_reranker.model.choices)


def test_top_n_keeps_the_best_and_max_aggregate_reports_the_chunk_logit(tiny_reranker, tiny_setup):
    full = tiny_reranker.rerank(QUERY, DOCS)
    assert [h.rank for h in full] == [1, 2, 3, 4] and [h.score for h in full] == sorted((h.score for h in full), reverse=True)
    assert tiny_reranker.rerank(QUERY, DOCS, top_n=2) == full[:2]
    assert tiny_reranker.rerank(QUERY, DOCS, top_n=10) == full
    best = workbench.load_setup({**tiny_setup, "aggregate": "max"}).rerank(QUERY, DOCS)
    for hit in best:
        assert hit.logit == hit.best_chunk.logit and hit.score == hit.best_chunk.score


def test_normalize_from_the_setup_is_minmax_over_the_call(tiny_setup):
    hits = workbench.load_setup({**tiny_setup, "normalize": "minmax"}).rerank(QUERY, DOCS)
    lo, hi = min(h.score for h in hits), max(h.score for h in hits)
    assert [h.normalized for h in hits] == pytest.approx([(h.score - lo) / (hi - lo) for h in hits])
    assert workbench.load_setup(tiny_setup).rerank(QUERY, DOCS)[0].normalized is None


def test_bad_input_gets_a_clear_error(tiny_reranker, tmp_path):
    assert tiny_reranker.rerank(QUERY, []) == []
    with pytest.raises(TypeError, match="document 1 is a bytes, not text"):
        tiny_reranker.rerank(QUERY, ["fine", b"bytes"])
    with pytest.raises(ValueError, match="query is empty"):
        tiny_reranker.rerank("  ", DOCS)
    with pytest.raises(ValueError, match="top_n"):
        tiny_reranker.rerank(QUERY, DOCS, top_n=0)
    with pytest.raises(workbench.SetupError, match="setup file not found: .*nowhere.toml"):
        workbench.load_setup(tmp_path / "nowhere.toml")


def test_a_model_that_cannot_load_is_a_setup_error_on_first_use(tmp_path):
    lazy = workbench.load_setup({"model": str(tmp_path / "no-such-model")})  # nothing loads yet
    assert lazy.model is None
    with pytest.raises(workbench.SetupError, match="cannot load the setup's model"):
        lazy.rerank(QUERY, DOCS)


def test_threads_share_one_reranker(tiny_reranker):
    expected = tiny_reranker.rerank(QUERY, DOCS)
    queries = [QUERY, "when does the cafeteria open"] * 3
    serial = {q: tiny_reranker.rerank(q, DOCS) for q in set(queries)}
    results: list = [None] * len(queries)

    def work(n: int) -> None:
        results[n] = tiny_reranker.rerank(queries[n], DOCS)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(queries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [serial[q] for q in queries] and serial[QUERY] == expected


def test_import_workbench_is_cheap_and_imports_no_framework():
    code = (
        "import sys, workbench, workbench.api, workbench.integrations\n"
        "s = workbench.read_setup({'chunk_tokens': 64})\n"
        "heavy = [m for m in ('torch', 'transformers', 'textual', 'langchain_core', 'llama_index') if m in sys.modules]\n"
        "print(heavy, callable(workbench.load_setup), type(s).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True Setup"


def test_a_setup_object_works_as_well_as_a_dict(tiny_reranker, tiny_setup):
    assert workbench.load_setup(Setup(**tiny_setup)).setup == tiny_reranker.setup
