"""Computing the prompt head that every pair of a run shares, once.

All prompts of a run start with the same system text, instruction and query (70+ tokens); only
the document differs. The model is causal, so those tokens' keys and values do not depend on the
document: we run them once and let each batch attend to them, instead of recomputing them for
every chunk. The result is the same computation, in a different order.

Only public transformers API is used: a plain `DynamicCache`, filled by one forward pass, copied
and widened with `batch_repeat_interleave` for each batch. (An earlier version subclassed the
cache to avoid keeping the batch's own keys and values; the next release changed the method it
overrode and every run crashed. A few hundred MB during one forward pass is the price of not
depending on a private contract.) Anything unexpected from the library turns head sharing off for
the scorer, with one warning, and the pairs are scored whole.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Sequence

import torch

log = logging.getLogger(__name__)

MIN_SHARED_TOKENS = 16  # below this the bookkeeping costs more than it saves


def common_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """Tokens all rows share at the start, leaving at least one token of each row unshared
    (the last position must be computed per row)."""
    if len(rows) < 2:
        return 0
    first = rows[0]
    limit = min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return n if n >= MIN_SHARED_TOKENS else 0


def cache_keyword(backbone) -> str | None:
    """The forward argument that takes a KV cache: `past_key_values` up to transformers 5.2x,
    `cache` since (the old name is deprecated for removal in 5.40). None if neither exists."""
    try:
        params = inspect.signature(backbone.forward).parameters
    except (TypeError, ValueError):
        return None
    for name in ("cache", "past_key_values"):
        if name in params:
            return name
    return None


class SharedHeadUnavailable(Exception):
    """The installed transformers cannot give a batch a precomputed head; score whole prompts."""


class SharedPrefix:
    """Keys and values of a shared prompt head, handed to every batch as a fresh cache."""

    def __init__(self, backbone, ids: Sequence[int], device: torch.device):
        keyword = cache_keyword(backbone)
        if keyword is None:
            raise SharedHeadUnavailable("the model's forward takes no KV cache argument")
        try:
            from transformers import DynamicCache

            head = DynamicCache()
            with torch.inference_mode():
                backbone(input_ids=torch.tensor([list(ids)], device=device), use_cache=True, **{keyword: head})
            if head.get_seq_length() != len(ids):
                raise SharedHeadUnavailable(f"the cache kept {head.get_seq_length()} of {len(ids)} head tokens")
        except SharedHeadUnavailable:
            raise
        except Exception as e:  # any library-side change: degrade, never crash a run
            raise SharedHeadUnavailable(f"{type(e).__name__}: {e}") from e
        self.keyword = keyword
        self.length = len(ids)
        self._head = head

    def forward_kwargs(self, rows: int) -> dict:
        """Arguments that make one forward pass of `rows` rows continue after the head. Each call
        gets its own copy: the model appends the batch's keys and values to the cache it is given."""
        cache = copy.deepcopy(self._head)
        if rows > 1:
            cache.batch_repeat_interleave(rows)
        return {self.keyword: cache}
