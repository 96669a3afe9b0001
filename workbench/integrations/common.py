"""What both adapters share: turning a setup argument into a Reranker, the metadata they attach,
and the message for a framework that is not installed. No framework is imported here."""

from __future__ import annotations

from typing import Any

from workbench.api import RerankedDocument, Reranker, load_setup

# Metadata keys the adapters add to each document they return (flat values, so vector-store
# metadata filters and serialisers take them as they are).
SCORE_KEY = "relevance_score"  # probability of relevance, 0..1 (LangChain's rerankers use this key)
LOGIT_KEY = "relevance_logit"  # the model's raw yes-no logit difference
NORMALIZED_KEY = "normalized_score"  # only when the setup has normalize = minmax | zscore
CHUNK_START_KEY, CHUNK_END_KEY = "best_chunk_start", "best_chunk_end"  # characters [start, end) of the text
METADATA_KEYS = (SCORE_KEY, LOGIT_KEY, NORMALIZED_KEY, CHUNK_START_KEY, CHUNK_END_KEY)


def reranker_of(setup: Any) -> Reranker:
    """A Reranker as is (to share one loaded model between adapters), or one for a setup file,
    dict or Setup (its model loads on the first rerank)."""
    return setup if isinstance(setup, Reranker) else load_setup(setup)


def hit_metadata(hit: RerankedDocument) -> dict[str, Any]:
    meta: dict[str, Any] = {SCORE_KEY: hit.score, LOGIT_KEY: hit.logit}
    if hit.normalized is not None:
        meta[NORMALIZED_KEY] = hit.normalized
    if hit.best_chunk is not None:
        meta[CHUNK_START_KEY], meta[CHUNK_END_KEY] = hit.best_chunk.start, hit.best_chunk.end
    return meta


def missing_framework(module: str, framework: str, extra: str) -> ImportError:
    return ImportError(f"{module} needs {framework}, which is not installed: pip install 'rerank-workbench[{extra}]'")
