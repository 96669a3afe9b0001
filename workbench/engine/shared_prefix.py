"""Computing the prompt head that every pair of a run shares, once.

All prompts of a run start with the same system text, instruction and query (70+ tokens); only
the document differs. The model is causal, so those tokens' keys and values do not depend on the
document: we run them once and let each batch attend to them, instead of recomputing them for
every chunk. The result is the same computation, in a different order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

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


def _read_only_cache_class():
    """A transformers cache that holds the shared head and never grows.

    A normal cache would also keep every batch's own keys and values: the whole KV cache of the
    batch, hundreds of MB for nothing, since each pair ends in one forward pass. This one hands
    the layers the head (broadcast over the batch, no copy) joined with their fresh states, and
    forgets those again.
    """
    from transformers import DynamicCache

    class ReadOnlyHeadCache(DynamicCache):
        def update(self, key_states, value_states, layer_idx, cache_kwargs=None):
            layer = self.layers[layer_idx]
            n = key_states.shape[0]
            return (
                torch.cat([layer.keys.expand(n, -1, -1, -1), key_states], dim=-2),
                torch.cat([layer.values.expand(n, -1, -1, -1), value_states], dim=-2),
            )

        def fill(self, key_values) -> None:
            for i, (k, v) in enumerate(key_values):
                DynamicCache.update(self, k, v, i)

    return ReadOnlyHeadCache


class SharedPrefix:
    """Keys and values of a shared prompt head, as a read-only cache every batch can use."""

    def __init__(self, backbone, ids: Sequence[int], device: torch.device):
        with torch.inference_mode():
            out = backbone(input_ids=torch.tensor([list(ids)], device=device), use_cache=True)
        self.cache = _read_only_cache_class()(config=backbone.config)
        self.cache.fill((layer.keys, layer.values) for layer in out.past_key_values.layers)

    @staticmethod
    def supported() -> bool:
        """Needs the per-layer cache API of transformers >= 4.56; older ones score full prompts."""
        from transformers import DynamicCache

        return hasattr(DynamicCache(), "layers")
