"""Document score from its chunk scores."""

from __future__ import annotations

from collections.abc import Sequence

from .types import AGGREGATES, DEFAULT_AGGREGATE, DEFAULT_TOP_K


def check_aggregate(how: str, top_k: int) -> None:
    """Refuse an unknown aggregate or a k below 1, with a message for the user."""
    _check_name(how)
    if top_k < 1:
        raise ValueError(f"--top-k must be at least 1 (got {top_k}): it is how many of the best chunks topk averages")


def _check_name(how: str) -> None:
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)} (got {how!r})")


def aggregate(scores: Sequence[float], how: str = DEFAULT_AGGREGATE, top_k: int = DEFAULT_TOP_K) -> float:
    """`scores` in document order. max: the best passage; first: the lead chunk only (what a
    truncating reranker sees); mean: whole-document relevance; topk: mean of the best k.

    A k below 1 counts as 1 here rather than failing: runs logged by older versions may hold one,
    and reopening them must still work. New settings are refused up front by check_aggregate."""
    _check_name(how)
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
