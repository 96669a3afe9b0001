"""Padding-free packed batches: several document parts share one row of a forward pass.

The padded path (reranker.py) gives every document part its own row, right-padded to the
longest row of the batch. Here parts are laid end to end instead, and a custom 4D attention mask
keeps them apart: each token sees every position of the shared head (system text, instruction,
query: keys and values computed once, shared_prefix.py) plus the earlier tokens of its own part,
nothing else. Positions restart after the head for each part, so every part is computed exactly
as it would be alone, and the hidden state of its last token is the one the padded path reads.

Why a 4D mask and not varlen flash attention: transformers passes a 4D `attention_mask` through
untouched to the sdpa and eager attention functions (masking_utils `create_causal_mask`: "It can
also be an already prepared 4D mask, in which case it is returned as-is"), cache or no cache.
Its own padding-free route (restarting `position_ids`, no mask) is taken only when no cache is
given, i.e. it cannot reuse the shared head. The price of a dense mask: attention runs over the
whole pack, P x (head + P) per row, so packs are kept short and the mask is bounded
(MAX_MASK_ELEMENTS); whether this wins over sorted, padded batches depends on the workload and the
kernel, which is why it is a separate function the scorer can switch to, not a replacement.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .overlap import to_device
from .shared_prefix import SharedPrefix

DEFAULT_PACK_TOKENS = 2048
# Largest mask one forward pass may build: packs x P x (head + P) elements (2^26 = 256 MB in fp32).
MAX_MASK_ELEMENTS = 1 << 26
# Attention functions that take a prepared additive 4D mask as it is. flash_attention_* read only
# a 2D padding mask or position ids, flex_attention wants a BlockMask: refused, not mis-scored.
MASKED_ATTENTION = ("sdpa", "eager")


class PackingUnavailable(Exception):
    """This model cannot run packed batches (its attention takes no custom 4D mask)."""


def plan_packs(lengths: Sequence[int], pack_tokens: int) -> list[list[int]]:
    """Indices grouped into packs of at most `pack_tokens` tokens, first-fit decreasing. A row
    longer than `pack_tokens` gets a pack of its own (rows are never split)."""
    if pack_tokens < 1:
        raise ValueError("pack_tokens must be positive")
    packs: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        for p, free in enumerate(room):
            if lengths[i] <= free:
                packs[p].append(i)
                room[p] -= lengths[i]
                break
        else:
            packs.append([i])
            room.append(pack_tokens - lengths[i])
    return packs


def plan_packed_batches(lengths: Sequence[int], token_budget: int, pack_tokens: int = DEFAULT_PACK_TOKENS) -> list[list[int]]:
    """Row indices per forward pass for packed scoring: whole packs, as many as fit `token_budget`
    (at least one). The counterpart of batching.plan_batches, whose batches group rows of similar
    length for padding; packing a batch planned that way leaves its packs part-empty."""
    batches: list[list[int]] = []
    used = token_budget
    for pack in plan_packs(lengths, pack_tokens):
        size = max(pack_tokens, sum(lengths[i] for i in pack))
        if used + size > token_budget:
            batches.append([])
            used = 0
        batches[-1].extend(pack)
        used += size
    return batches


def check_packable(backbone) -> None:
    """Raise PackingUnavailable unless the model's attention takes a custom 4D mask."""
    config = getattr(backbone, "config", None)
    # Read the same way loading.py records it in ModelInfo; set by from_pretrained/set_attn_implementation.
    impl = getattr(config, "_attn_implementation", None)
    if impl not in MASKED_ATTENTION:
        raise PackingUnavailable(f"packed batches need sdpa or eager attention, not {impl!r}")
    if "sliding_attention" in (getattr(config, "layer_types", None) or ()):
        # The one mask we pass would also be used, unwindowed, by sliding-window layers.
        raise PackingUnavailable("packed batches do not support sliding-window layers")


@torch.inference_mode()
def packed_forward(
    backbone,
    rows: Sequence[Sequence[int]],
    head: SharedPrefix | None,
    pad_id: int,
    device: torch.device,
    pack_tokens: int = DEFAULT_PACK_TOKENS,
) -> torch.Tensor:
    """Final hidden state at each row's last token, shape [len(rows), hidden], in input order.

    `rows` are the token ids after the shared head (`head`, or None when nothing is shared)."""
    check_packable(backbone)
    if any(len(r) == 0 for r in rows):
        raise ValueError("every row needs at least one token")
    lengths = [len(r) for r in rows]
    head_len = head.length if head is not None else 0
    dtype = backbone.get_input_embeddings().weight.dtype
    out: torch.Tensor | None = None
    for group in _group_packs(plan_packs(lengths, pack_tokens), lengths, head_len):
        ids, positions, mask, where = _layout(rows, group, head_len, pad_id, dtype)
        extra = head.forward_kwargs(len(group)) if head is not None else {}
        hidden = backbone(
            input_ids=to_device(ids, device),
            attention_mask=to_device(mask, device),
            position_ids=to_device(positions, device),
            use_cache=False,
            **extra,
        ).last_hidden_state
        pack_of, index = where
        final = hidden[pack_of.to(device), index.to(device)]
        if out is None:
            out = final.new_empty((len(rows), final.shape[-1]))
        out[torch.tensor([i for pack in group for i in pack], device=device)] = final
    assert out is not None, "no rows"
    return out


def _group_packs(packs: list[list[int]], lengths: Sequence[int], head_len: int) -> list[list[list[int]]]:
    """Consecutive packs per forward pass, so that no mask exceeds MAX_MASK_ELEMENTS (a single
    pack always runs, however long: it is one row, as the padded path would run it)."""
    groups: list[list[list[int]]] = []
    width = 0
    for pack in sorted(packs, key=lambda p: -sum(lengths[i] for i in p)):
        size = sum(lengths[i] for i in pack)
        if groups:
            wider = max(width, size)
            if (len(groups[-1]) + 1) * wider * (head_len + wider) <= MAX_MASK_ELEMENTS:
                groups[-1].append(pack)
                width = wider
                continue
        groups.append([pack])
        width = size
    return groups


def _layout(
    rows: Sequence[Sequence[int]], group: list[list[int]], head_len: int, pad_id: int, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Input ids, position ids and additive mask [packs, 1, W, head + W] for one forward pass,
    and where (pack, index) each row's last token sits, rows in the group's order."""
    width = max(sum(len(rows[i]) for i in pack) for pack in group)
    ids = torch.full((len(group), width), pad_id, dtype=torch.long)
    positions = torch.full((len(group), width), head_len, dtype=torch.long)
    # Segment number of each token; the padding at a pack's end is a segment of its own, so every
    # query sees at least itself (a fully masked row would give NaN in some kernels).
    segment = torch.empty((len(group), width), dtype=torch.long)
    pack_of, last = [], []
    for p, pack in enumerate(group):
        start = 0
        for s, i in enumerate(pack):
            n = len(rows[i])
            ids[p, start : start + n] = torch.tensor(rows[i], dtype=torch.long)
            positions[p, start : start + n] = torch.arange(head_len, head_len + n)
            segment[p, start : start + n] = s
            pack_of.append(p)
            last.append(start + n - 1)
            start += n
        segment[p, start:] = len(pack)
        positions[p, start:] = torch.arange(head_len, head_len + width - start)
    causal = torch.ones((width, width), dtype=torch.bool).tril()
    visible = (segment[:, :, None] == segment[:, None, :]) & causal
    mask = torch.zeros((len(group), 1, width, head_len + width), dtype=dtype)
    # Additive form (0 = attend, most negative = not): eager adds the mask to the scores as it is,
    # sdpa takes a float mask the same way; a boolean mask would be added as 0/1 by eager.
    mask[:, 0, :, head_len:].masked_fill_(~visible, torch.finfo(dtype).min)
    return ids, positions, mask, (torch.tensor(pack_of), torch.tensor(last))
