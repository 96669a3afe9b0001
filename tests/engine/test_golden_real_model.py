"""Published values for the real Qwen3-Reranker-0.6B (sentence-transformers' tests, fp32, default
instruction). Runs only where a local copy of the weights is named by WORKBENCH_REAL_MODEL."""

from __future__ import annotations

import os

import pytest

from workbench.engine.loading import LoadOptions, load_scorer
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document

REAL = os.environ.get("WORKBENCH_REAL_MODEL")
pytestmark = [
    pytest.mark.realmodel,
    pytest.mark.skipif(not REAL, reason="set WORKBENCH_REAL_MODEL to a local Qwen3-Reranker-0.6B directory"),
]

QUERY = "Which planet is known as the Red Planet?"
DOCS = [
    "Venus is often called Earth's twin because of its similar size and proximity.",
    "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
    "Jupiter, the largest planet in our solar system, has a prominent red spot.",
    "Saturn, famous for its rings, is sometimes mistaken for the Red Planet.",
]
GOLDEN = [-3.1093, 7.1204, -0.3788, 3.5416]


def test_published_logit_differences():
    from workbench.engine.prompt import DEFAULT_INSTRUCTION

    scorer = load_scorer(LoadOptions(model=REAL, dtype="fp32"))
    docs = [Document(str(i), d) for i, d in enumerate(DOCS)]
    result = Ranker(scorer).rank(QUERY, DEFAULT_INSTRUCTION, docs, ChunkSettings(tokens=0))
    by_id = {d.doc_id: d.chunks[0].logit for d in result.documents}
    assert [by_id[str(i)] for i in range(4)] == pytest.approx(GOLDEN, abs=2e-3)
    assert result.documents[0].doc_id == "1"  # Mars
