"""How a call's prompts are grouped into forward passes.

Rows are padded on the right to the longest row of their batch, and every pad token costs as much
compute as a real one. So prompts are sorted longest first and a batch is closed when it would
exceed the token budget, hold too many rows, or carry more padding than one more forward pass
costs. That last rule matters most on a CPU, where a pass has little fixed cost and a batch of
mixed lengths spends most of its time on pads (8 pairs of 32..384 tokens in one batch computed
2.5x the real tokens).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

MAX_BATCH = 128


# On a CPU, the keys and values a batch holds while it runs (the shared head's cache grows by the
# batch's own) may take this much: 0.6B in fp32 holds 229 KB per token, so about 1,100 tokens.
CPU_BATCH_CACHE_BYTES = 256 * 2**20


def default_token_budget(device: torch.device, config=None) -> int:
    """Tokens per forward pass. GPUs want big batches: on an H200 (0.6B shape, bf16, head shared,
    benchmarks/gpu_levers.py) 8,192 tokens ran x0.94/x0.93 as fast as 32,768 (512-token chunks /
    32..2048 tokens) and 65,536 x1.02/x1.09 at up to twice the memory. A CPU's matmuls run as fast at a few hundred
    rows as at thousands, while memory grows with the batch: 0.6B shape, 16 chunks of 256 tokens,
    2 cores, 4096 tokens per pass gave 0.51 pairs/s at 2.1 GB peak, 1024 tokens 0.48-0.56 pairs/s
    at 0.6 GB (bench_engine.py --batch-tokens). Smaller batches also bring a live run's first rows
    sooner. Small models keep big batches: their passes are cheap and mostly fixed cost."""
    if device.type == "cuda":
        return 32768
    if config is None:
        return 4096
    per_token = 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * 4  # K and V, fp32
    return max(256, min(4096, CPU_BATCH_CACHE_BYTES // per_token))


def default_padding_allowance(device: torch.device, config=None) -> int:
    """Pad tokens one batch may carry: about the fixed cost of one more forward pass, in tokens.
    CPU, 0.6B shape (16M weights a layer), 2 cores: a pass of 64 tokens took 69 ms and one of 128
    tokens 120 ms (4 layers), so a pass costs about 20-30 tokens' worth on top of its tokens. A
    pass's fixed cost is per layer while a token's cost grows with the layer's weights, so smaller
    layers get a larger allowance (the tiny test model: thousands of tokens; 8B: 8). GPU: an
    estimate (kernel launches of ~30 layers against a few hundred thousand tokens/s), not measured."""
    if device.type == "cuda":
        return 1024
    if config is None:
        return 32
    return int(max(8, min(4096, 32 * 15.7e6 / weights_per_layer(config))))


def weights_per_layer(config) -> int:
    """Matmul weights of one decoder layer (attention projections and the gated MLP): what a
    token costs per layer, in multiply-adds."""
    h = config.hidden_size
    q = config.num_attention_heads * config.head_dim
    kv = config.num_key_value_heads * config.head_dim
    return h * q + 2 * h * kv + q * h + 3 * h * config.intermediate_size


def plan_batches(
    lengths: Sequence[int], token_budget: int, padding_allowance: int | None = None, max_batch: int = MAX_BATCH
) -> list[list[int]]:
    """Group prompt indices longest first; every batch pads to its first (longest) row.
    `padding_allowance=None` puts no bound on padding (only the budget and `max_batch` cut)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    padding = 0
    for i in order:
        width = lengths[current[0]] if current else lengths[i]
        extra = width - lengths[i]
        if current and (
            (len(current) + 1) * width > token_budget
            or len(current) >= max_batch
            or (padding_allowance is not None and padding + extra > padding_allowance)
        ):
            batches.append(current)
            current, padding, extra = [], 0, 0
        current.append(i)
        padding += extra
    if current:
        batches.append(current)
    return batches


def spread(batches: list[list[int]], parts: int) -> list[list[int]]:
    """At least `parts` batches where rows allow, for `parts` passes at once (core_pool.py): the
    batch with most rows is halved, alternate rows to each half, so both keep about its width."""
    batches = [list(b) for b in batches]
    while len(batches) < parts:
        widest = max(range(len(batches)), key=lambda i: len(batches[i]), default=None)
        if widest is None or len(batches[widest]) < 2:
            break
        rows = batches.pop(widest)
        batches[widest:widest] = [rows[0::2], rows[1::2]]
    return batches


def padded_tokens(batch: Sequence[int], lengths: Sequence[int]) -> int:
    """Tokens a padded batch computes: its rows x its widest row."""
    return len(batch) * max(lengths[i] for i in batch)


def costliest_first(batches: list[list[int]], lengths: Sequence[int]) -> list[list[int]]:
    """Batches by the tokens they compute (padded_tokens), most first. Passes at once on
    several cores each take the next batch as they free up: with the costliest first the last to
    start are the cheapest, and the cores finish together (longest-processing-time-first). Longest
    rows first is not the same: 8 pairs of 32..384 tokens on 2 cores ended with a 2-row batch of
    196 tokens on one core while the other sat idle for 13% of the call."""
    return sorted(batches, key=lambda b: padded_tokens(b, lengths), reverse=True)
