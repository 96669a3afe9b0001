"""8-bit and 4-bit loading through bitsandbytes, on the CPU with the tiny model: the same path a
GPU user takes with --quantize, checked for load, score and drift from the unquantised scores."""

from __future__ import annotations

import pytest
import torch

from device_under_test import load_options
from workbench.engine.loading import load_scorer
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document

pytest.importorskip("bitsandbytes")
pytest.importorskip("accelerate")

QUERY = "What does the rover find on Mars?"
DOCS = [
    Document("mars", "The rover found signs of ancient water on Mars, in layered rocks."),
    Document("venus", "Venus has a thick atmosphere of carbon dioxide."),
    Document("coffee", "Grind finer when the espresso shot runs fast and sour."),
    Document("zh", "火星车在火星上发现了古代水的痕迹。"),
]
# Measured on the tiny model (seed 0, CPU, bitsandbytes 0.50): 8-bit moved probabilities by at
# most 0.024 and kept the ranking; 4-bit NF4 moved them by up to 0.45 (16 levels are harsh on a
# 2-layer random model with std-0.5 weights) yet kept the best document and logit correlation
# 0.97. The bounds below leave room for other CPUs' kernels.


@pytest.fixture(scope="module")
def reference(tiny_scorer):
    return Ranker(tiny_scorer).rank(QUERY, "", DOCS, ChunkSettings(tokens=0))


@pytest.mark.parametrize("mode", ["8bit", "4bit"])
def test_quantized_model_loads_scores_and_stays_close(tiny_model_dir, reference, mode, caplog):
    scorer = load_scorer(load_options(model=str(tiny_model_dir), quantize=mode))
    assert scorer.info.quantization == mode
    # The yes/no head stays unquantised: a plain float tensor.
    assert scorer.head.dtype.is_floating_point
    with caplog.at_level("DEBUG"):
        result = Ranker(scorer).rank(QUERY, "", DOCS, ChunkSettings(tokens=0))
    # bitsandbytes logs a notice on every 8-bit matmul: thousands of lines a run, kept quiet.
    assert not [r for r in caplog.records if "MatMul8bitLt" in r.getMessage()]
    got = {d.doc_id: d.score for d in result.documents}
    want = {d.doc_id: d.score for d in reference.documents}
    drift = max(abs(got[k] - want[k]) for k in want)
    print(f"{mode}: max |score drift| vs fp32 = {drift:.4f}")
    assert result.documents[0].doc_id == reference.documents[0].doc_id
    ids = sorted(want)
    logits = lambda r: torch.tensor([{d.doc_id: d.chunks[0].logit for d in r.documents}[k] for k in ids])
    assert torch.corrcoef(torch.stack([logits(result), logits(reference)]))[0, 1] > 0.9
    if mode == "8bit":
        assert drift < 0.05
        assert [d.doc_id for d in result.documents] == [d.doc_id for d in reference.documents]
    # Quantisation is part of the cache identity: quantised scores never mix with fp32 ones.
    assert scorer.info.fingerprint() != reference.model.fingerprint()
