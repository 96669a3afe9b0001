"""Batch planning: mixed-length pairs are not padded to the longest of the call, and how pairs are
grouped never changes a score."""

from __future__ import annotations

import random

import pytest

from workbench.engine.batching import plan_batches
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document


def _computed_tokens(lengths, batches):
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_mixed_lengths_carry_little_padding():
    rng = random.Random(1)
    lengths = [rng.randint(32, 384) for _ in range(64)]
    unbounded = plan_batches(lengths, token_budget=4096)
    bounded = plan_batches(lengths, token_budget=4096, padding_allowance=32)
    # Every prompt is scored exactly once either way.
    assert sorted(i for b in bounded for i in b) == list(range(64))
    waste = _computed_tokens(lengths, bounded) - sum(lengths)
    assert waste <= 32 * len(bounded)
    # Padding every batch to its longest row computed far more than the real tokens.
    assert _computed_tokens(lengths, unbounded) > 1.2 * sum(lengths)
    assert all(len(b) * max(lengths[i] for i in b) <= 4096 or len(b) == 1 for b in bounded)


def test_equal_lengths_still_share_a_batch():
    """Chunks of one size (the usual case) are batched up to the budget, not one per pass."""
    batches = plan_batches([256] * 40, token_budget=4096, padding_allowance=32)
    assert [len(b) for b in batches] == [16, 16, 8]


@pytest.mark.parametrize("allowance", [None, 0, 32])
def test_grouping_does_not_change_scores(tiny_scorer, allowance):
    docs = [Document(str(i), "Backups are kept for thirty days. " * (1 + 7 * i)) for i in range(6)]
    old = tiny_scorer.padding_allowance
    try:
        tiny_scorer.padding_allowance = None
        reference = Ranker(tiny_scorer).rank("how long are backups kept", "", docs, ChunkSettings(tokens=0))
        tiny_scorer.padding_allowance = allowance
        got = Ranker(tiny_scorer).rank("how long are backups kept", "", docs, ChunkSettings(tokens=0))
    finally:
        tiny_scorer.padding_allowance = old
    expected = {d.doc_id: d.chunks[0].logit for d in reference.documents}
    assert {d.doc_id: d.chunks[0].logit for d in got.documents} == pytest.approx(expected, abs=1e-4)


def test_packed_batches_score_as_padded_ones(tiny_scorer):
    """The packing switch (a GPU lever) changes how pairs share a forward pass, never a score."""
    # Sentences numbered: no chunk repeats another (a run scores a repeated prompt once).
    docs = [Document(str(i), "".join(f"Backup set {i}.{j} is kept for thirty days. " for j in range(1 + 5 * i)))
            for i in range(7)]
    query = "how long are backups kept"
    reference = Ranker(tiny_scorer).rank(query, "", docs, ChunkSettings(tokens=48, overlap=8))
    old = tiny_scorer.packing, tiny_scorer.pack_tokens
    try:
        tiny_scorer.packing, tiny_scorer.pack_tokens = True, 160
        packed = Ranker(tiny_scorer).rank(query, "", docs, ChunkSettings(tokens=48, overlap=8))
    finally:
        tiny_scorer.packing, tiny_scorer.pack_tokens = old
    expected = {(c.doc_id, c.chunk.index): c.logit for d in reference.documents for c in d.chunks}
    got = {(c.doc_id, c.chunk.index): c.logit for d in packed.documents for c in d.chunks}
    assert got.keys() == expected.keys() and len(got) > 7
    assert got == pytest.approx(expected, abs=1e-4)


def test_launching_ahead_of_reading_back_keeps_every_score(tiny_scorer):
    """On a GPU the next batch is launched before the last one is read back; forced on here, the
    scores and the streaming of batches are what they are without it."""
    docs = [Document(str(i), f"Backup policy {i}: copies are kept for {i + 2} weeks. " * (2 + 3 * i)) for i in range(6)]
    query = "how long are backups kept"
    reference = Ranker(tiny_scorer).rank(query, "", docs, ChunkSettings(tokens=40, overlap=0))
    old = tiny_scorer.overlap, tiny_scorer.token_budget
    try:
        tiny_scorer.overlap, tiny_scorer.token_budget = True, 120  # many small batches
        prompts = tiny_scorer.build_prompts("", query, [d.text for d in docs])
        batches = list(tiny_scorer.score_prompts(prompts))
        overlapped = Ranker(tiny_scorer).rank(query, "", docs, ChunkSettings(tokens=40, overlap=0))
    finally:
        tiny_scorer.overlap, tiny_scorer.token_budget = old
    assert len(batches) > 2 and sorted(i for b in batches for i, _ in b) == list(range(len(docs)))
    expected = {(c.doc_id, c.chunk.index): c.logit for d in reference.documents for c in d.chunks}
    got = {(c.doc_id, c.chunk.index): c.logit for d in overlapped.documents for c in d.chunks}
    assert got == pytest.approx(expected, abs=1e-4)


def test_cpu_batches_of_big_models_stay_small_in_memory():
    """On a CPU, a batch's keys and values of the real shapes stay within a few hundred MB; the
    tiny test model, whose passes are mostly fixed cost, keeps big batches."""
    import torch

    from workbench.engine.batching import CPU_BATCH_CACHE_BYTES, default_token_budget
    from workbench.testing.tiny_qwen import real_shape_config, tiny_qwen3_config

    cpu = torch.device("cpu")
    for size in ("0.6B", "4B", "8B"):
        config = real_shape_config(size)
        budget = default_token_budget(cpu, config)
        held = budget * 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * 4
        assert 256 <= budget and held <= CPU_BATCH_CACHE_BYTES
    assert default_token_budget(cpu, tiny_qwen3_config()) == 4096
    assert default_token_budget(torch.device("cuda"), real_shape_config("8B")) == 32768
