"""Our metrics (ir-measures, trec_eval underneath) against a second library (torchmetrics) on
random runs, and the chunk/document resolution rules on a hand-made run."""

from __future__ import annotations

import random

import pytest
import torch
from torchmetrics.functional.retrieval import retrieval_normalized_dcg, retrieval_recall, retrieval_reciprocal_rank

from workbench.engine.types import ChunkScore, ChunkSettings, ChunkSpan, DocumentScore, ModelInfo, RankResult, RunStats
from workbench.evaluation import Item, JudgedQuery, Label, means, per_query, resolve
from workbench.evaluation.metrics import Judged


def _random_judged(rng: random.Random) -> Judged:
    n = rng.randint(3, 30)
    items = [f"d{i}#0" for i in range(n)]
    grades = {item: rng.choice([0, 0, 0, 1, 2, 3]) for item in items}
    if not any(grades.values()):
        grades[rng.choice(items)] = rng.randint(1, 3)
    scores = {item: rng.random() for item in items}
    ranked = sorted(items, key=lambda i: -scores[i])
    return Judged({"chunk": grades, "document": {}}, {"chunk": [(i, scores[i]) for i in ranked], "document": []})


@pytest.mark.parametrize("k", [1, 3, 10])
def test_metrics_match_torchmetrics_on_random_runs(k):
    rng = random.Random(1234 + k)
    judged = {f"q{n}": _random_judged(rng) for n in range(60)}
    ours = per_query(judged, k)
    for qid, j in judged.items():
        items = [item for item, _ in j.runs["chunk"]]
        preds = torch.tensor([score for _, score in j.runs["chunk"]], dtype=torch.float64)
        grades = torch.tensor([j.qrels["chunk"][i] for i in items])
        got = ours[qid]["chunk"]
        assert got[f"nDCG@{k}"] == pytest.approx(float(retrieval_normalized_dcg(preds, grades, top_k=k)), abs=1e-6)
        binary = grades > 0
        assert got[f"MRR@{k}"] == pytest.approx(float(retrieval_reciprocal_rank(preds, binary, top_k=k)), abs=1e-6)
        assert got[f"Recall@{k}"] == pytest.approx(float(retrieval_recall(preds, binary, top_k=k)), abs=1e-6)
    mean = means(ours, k)["chunk"]
    assert mean["queries"] == 60
    assert mean[f"nDCG@{k}"] == pytest.approx(sum(v["chunk"][f"nDCG@{k}"] for v in ours.values()) / 60)


def _result(docs: dict[str, list[tuple[int, int, float]]]) -> RankResult:
    """Documents in the order given (best first), each with (start, end, score) chunks."""
    out = []
    for rank, (doc, chunks) in enumerate(docs.items(), 1):
        scores = [ChunkScore(doc, ChunkSpan(doc, i, s, e, 5), sc, sc, 10, False) for i, (s, e, sc) in enumerate(chunks)]
        out.append(DocumentScore(doc, None, max(c.score for c in scores), rank, scores))
    model = ModelInfo.__new__(ModelInfo)
    return RankResult("q", "i", model, ChunkSettings.__new__(ChunkSettings), "max", 1, out, RunStats())


def test_chunk_and_document_rules():
    texts = {"a.md": "alpha beta gamma delta", "b.md": "one two three four"}
    result = _result({"b.md": [(0, 8, 0.9), (8, 18, 0.2)], "a.md": [(0, 11, 0.5), (11, 22, 0.4)]})
    query = JudgedQuery("q", "x", None, (
        Label(Item("a.md"), 1, "f:1", "gamma"),           # in a.md's chunk 1 (11..22)
        Label(Item("a.md", span=(8, 14)), 2, "f:2"),      # "ta gam": crosses the chunk boundary
        Label(Item("b.md"), 0, "f:3"),                    # b.md judged whole: not relevant
        Label(Item("b.md", chunk=1), 3, "f:4"),           # ...even though a chunk of it is graded 3
    ))
    j = resolve(query, result, texts)
    assert j.qrels["chunk"]["a.md#1"] == 1 and j.qrels["chunk"]["b.md#1"] == 3
    assert any("in no chunk" in item for item in j.qrels["chunk"])  # the split span stays, as a miss
    assert j.notes and "no single chunk" in j.notes[0]
    assert j.qrels["document"] == {"a.md": 2, "b.md": 0}  # max of a's chunk labels; b's own grade wins
    assert [item for item, _ in j.runs["document"]] == ["b.md", "a.md"]
    assert j.first_relevant_chunk() == 3  # b.md#0 0.9, a.md#0 0.5, then a.md#1 0.4 (grade 1)
