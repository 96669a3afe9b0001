"""Document score from its chunk scores."""

from __future__ import annotations

from collections.abc import Sequence

from .types import AGGREGATES


def aggregate(scores: Sequence[float], how: str = "max", top_k: int = 3) -> float:
    """`scores` in document order. max: the best passage; first: the lead chunk only (what a
    truncating reranker sees); mean: whole-document relevance; topk: mean of the best k."""
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)} (got {how!r})")
    if not scores:
        return 0.0
    if how == "max":
        return max(scores)
    if how == "first":
        return scores[0]
    if how == "mean":
        return sum(scores) / len(scores)
    best = sorted(scores, reverse=True)[: max(1, top_k)]  # topk
    return sum(best) / len(best)
