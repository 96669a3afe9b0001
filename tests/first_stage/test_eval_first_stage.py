"""`workbench eval --first-stage bm25`: the first stage judged next to the reranker."""

from __future__ import annotations

import json

import bm25s
import ir_measures
import pytest
from first_stage_docs import DOCS
from ir_measures import RR, R, nDCG
from typer.testing import CliRunner

from workbench.cli import app

pytestmark = pytest.mark.usefixtures("shared_scorer")
runner = CliRunner()
QUERIES = [
    {"id": "gate", "query": "visitor parking gate", "relevant": [{"doc": "parking.txt", "contains": "visitor parking gate"}]},
    {"id": "soil", "query": "rover stuck in soft soil near the garage", "relevant": [{"doc": "mars.md", "contains": "soft soil"}]},
    {"id": "key", "query": "key rotation for espresso servers", "relevant": [{"doc": "backups.txt", "contains": "encryption key"}]},
    {"id": "storm", "query": "grind finer, tamping evenly, and the dust storm", "relevant": [{"doc": "mars.md", "contains": "dust storm"}]},
]


def eval_json(tmp_path, small_corpus, tiny_model_dir, *args):
    queries = tmp_path / "q.jsonl"
    queries.write_text("\n".join(json.dumps(q) for q in QUERIES) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(queries), str(small_corpus), "--model", str(tiny_model_dir), *args])
    assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}"
    return result


def test_bm25_row_equals_an_independent_ir_measures_computation(tmp_path, small_corpus, tiny_model_dir):
    # Chunking off: each document is one chunk, so bm25s over the files is the same corpus.
    data = json.loads(eval_json(tmp_path, small_corpus, tiny_model_dir, "--first-stage", "bm25", "--k", "2",
                                "--chunk-tokens", "0", "-f", "json").stdout)
    rows = {r["label"]: r for r in data["instructions"]}
    assert list(rows) == ["default", "bm25"] and rows["bm25"]["first_stage"] == "bm25"
    names = list(DOCS)
    index = bm25s.BM25()
    index.index(bm25s.tokenize([DOCS[n] for n in names], stopwords="en", show_progress=False), show_progress=False)
    run, qrels = {}, {}
    for q in QUERIES:
        words = bm25s.tokenize([q["query"]], stopwords="en", return_ids=False, show_progress=False)[0]
        scores = index.get_scores(words)
        relevant = q["relevant"][0]["doc"]
        assert scores[names.index(relevant)] > 0 and list(scores).count(scores[names.index(relevant)]) == 1
        run[q["id"]] = {n: float(s) for n, s in zip(names, scores)}
        qrels[q["id"]] = {relevant: 1}
    measures = [nDCG @ 2, RR @ 2, R @ 2]
    # One chunk per document: the chunk level's items are "DOC#0", its figures the same as documents'.
    for level, item in (("document", "{}"), ("chunk", "{}#0")):
        expected = ir_measures.calc_aggregate(
            measures, {q: {item.format(d): g for d, g in v.items()} for q, v in qrels.items()},
            {q: {item.format(d): s for d, s in v.items()} for q, v in run.items()})
        got = rows["bm25"]["metrics"][level]
        assert got["nDCG@2"] == pytest.approx(expected[nDCG @ 2])
        assert got["MRR@2"] == pytest.approx(expected[RR @ 2])
        assert got["Recall@2"] == pytest.approx(expected[R @ 2])
    assert 0 < expected[RR @ 2] < 1  # some relevant document is not first: the figures discriminate
    assert any(c["candidate"] == "bm25" and c["baseline"] == "default" for c in data["comparisons"])


def test_the_table_has_a_bm25_row(tmp_path, small_corpus, tiny_model_dir):
    out = eval_json(tmp_path, small_corpus, tiny_model_dir, "--first-stage", "bm25", "--chunk-tokens", "16",
                    "--chunk-overlap", "0").stdout
    lines = out.splitlines()
    assert any(line.startswith("bm25 ") and line.count(".") >= 6 for line in lines)  # its metrics row
    assert "[bm25] first stage: BM25" in out
    assert "bring their own instruction" not in out
