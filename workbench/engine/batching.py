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


def default_token_budget(device: torch.device) -> int:
    """Tokens per forward pass. GPUs want big batches; CPUs gain nothing past a few thousand."""
    return 32768 if device.type == "cuda" else 4096


def default_padding_allowance(device: torch.device) -> int:
    """Pad tokens one batch may carry: about the fixed cost of one more forward pass, in tokens.
    CPU: a pass of 64 tokens took 69 ms and one of 128 tokens 120 ms (0.6B shape, 4 layers, 2
    cores), so a pass costs about 20-30 tokens' worth on top of its tokens. GPU: an estimate
    (kernel launches of ~30 layers against a few hundred thousand tokens/s), not yet measured."""
    return 1024 if device.type == "cuda" else 32


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
