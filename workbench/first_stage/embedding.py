"""Dense first stage: cosine similarity from the bundled all-MiniLM-L6-v2 (no download needed).

It is the model the offline fallback scorer uses (workbench.engine.fallback), used here as the
bi-encoder retriever a RAG pipeline would put in front of the reranker. A chunk longer than its
254-token window is embedded from its start, as a retriever would index it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

_lock = threading.Lock()  # one loaded model, used by one thread at a time (CLI or an app worker)
_model = None


def _encoder():
    global _model
    if _model is None:
        from workbench.engine.fallback import EmbeddingFallback

        _model = EmbeddingFallback(device="cpu", reason="first stage")
    return _model


def embedding_scores(query: str, texts: Sequence[str]) -> list[float]:
    """Cosine similarity between the query's and each text's mean-pooled embedding (-1..1)."""
    if not texts:
        return []
    with _lock:
        model = _encoder()
        prompts = model.build_prompts("", query, list(texts))  # the instruction cannot steer it
        scores = [0.0] * len(texts)
        for batch in model.score_prompts(prompts):
            for index, cosine in batch:
                scores[index] = float(cosine)
    return scores
