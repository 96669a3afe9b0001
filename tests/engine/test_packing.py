"""Packed batches (several document parts per row, a 4D mask keeping them apart) give the scores
the padded path gives: same rows, same head, whatever the pack boundaries."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
import torch

from workbench.engine import packing
from workbench.engine.packing import PackingUnavailable, packed_forward, plan_packed_batches, plan_packs
from workbench.engine.shared_prefix import SharedPrefix

# 1 token to a few hundred, in no particular order (packing reorders them; results must not).
LENGTHS = [1, 300, 7, 64, 2, 150, 33, 1, 211, 18]


def _rows(lengths, seed=0):
    rng = random.Random(seed)
    return [tuple(rng.randrange(1000, 150000) for _ in range(n)) for n in lengths]


def _head(backbone, device, n=50):
    ids = _rows([n], seed=1)[0]
    return SharedPrefix(backbone, ids, device)


def _logits(scorer, final: torch.Tensor) -> list[float]:
    yes_no = final.float() @ scorer.head.T
    if scorer.head_bias is not None:
        yes_no = yes_no + scorer.head_bias
    return (yes_no[:, 0] - yes_no[:, 1]).tolist()


# ------------------------------------------------------------------------------------- planner


def test_plan_packs_places_every_row_once_within_the_budget():
    lengths = [5, 9, 1, 12, 3, 3, 7, 30, 2]
    packs = plan_packs(lengths, 12)
    assert sorted(i for p in packs for i in p) == list(range(len(lengths)))
    for p in packs:
        # Only a row longer than the budget may exceed it, and then it is alone.
        assert sum(lengths[i] for i in p) <= 12 or len(p) == 1
    assert [7] in packs  # 30 tokens: a pack of its own
    # 72 tokens, one of them 30 alone: the other 42 fit in 4 packs of 12, first-fit decreasing does it.
    assert len(packs) == 5


def test_plan_packs_of_one_token_gives_one_row_per_pack():
    assert sorted(plan_packs([3, 1, 2], 1)) == [[0], [1], [2]]


def test_packed_batches_hold_whole_packs_within_the_token_budget():
    lengths = [5, 9, 1, 12, 3, 3, 7, 30, 2, 11, 4]
    batches = plan_packed_batches(lengths, token_budget=24, pack_tokens=12)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        packs = plan_packs([lengths[i] for i in b], 12)
        assert len(packs) * 12 <= 24 or len(packs) == 1
    assert [7] in batches  # longer than the budget: alone
    assert len(batches) == 4  # 30 alone, then 57 tokens in 5 packs of 12, two per batch


# ----------------------------------------------------------------------------- equal to padded


@pytest.mark.parametrize("shared_head", [False, True], ids=["no-head", "head"])
@pytest.mark.parametrize("pack_tokens", [1, 37, 301, 4096])
def test_packed_scores_equal_the_padded_path(tiny_scorer, shared_head, pack_tokens):
    rows = _rows(LENGTHS)
    head = _head(tiny_scorer.backbone, tiny_scorer.device) if shared_head else None
    expected = tiny_scorer._forward(rows, head).tolist()
    final = packed_forward(tiny_scorer.backbone, rows, head, tiny_scorer.pad_id, tiny_scorer.device, pack_tokens)
    assert final.shape == (len(rows), tiny_scorer.backbone.config.hidden_size)
    assert _logits(tiny_scorer, final) == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_packed_hidden_states_equal_each_row_run_alone(tiny_scorer):
    """The strictest reference: every part through the model by itself, no padding, no neighbours."""
    rows = _rows([1, 120, 9, 240, 3])
    head = _head(tiny_scorer.backbone, tiny_scorer.device)
    final = packed_forward(tiny_scorer.backbone, rows, head, tiny_scorer.pad_id, tiny_scorer.device, 400)
    for j, r in enumerate(rows):
        with torch.inference_mode():
            alone = tiny_scorer.backbone(
                input_ids=torch.tensor([r], device=tiny_scorer.device), use_cache=False, **head.forward_kwargs(1)
            ).last_hidden_state[0, -1]
        torch.testing.assert_close(final[j], alone, rtol=1e-5, atol=1e-5)


def test_eager_attention_packs_the_same(tiny_scorer, tiny_model_dir):
    """Eager adds the mask to the scores as it is: the mask must be additive, not boolean."""
    from transformers import AutoModelForCausalLM

    eager = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="eager")
    eager = eager.to(tiny_scorer.device).eval().base_model
    rows = _rows(LENGTHS)
    expected = tiny_scorer._forward(rows, _head(tiny_scorer.backbone, tiny_scorer.device)).tolist()
    final = packed_forward(eager, rows, _head(eager, tiny_scorer.device), tiny_scorer.pad_id, tiny_scorer.device, 301)
    assert _logits(tiny_scorer, final) == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_a_mask_over_the_bound_splits_the_forward_pass(tiny_scorer, monkeypatch):
    rows = _rows(LENGTHS)
    head = _head(tiny_scorer.backbone, tiny_scorer.device)
    expected = tiny_scorer._forward(rows, head).tolist()
    calls = []
    forward = tiny_scorer.backbone.forward

    def counting(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape)
        return forward(*args, **kwargs)

    monkeypatch.setattr(packing, "MAX_MASK_ELEMENTS", 64 * (50 + 64))
    monkeypatch.setattr(tiny_scorer.backbone, "forward", counting)
    final = packed_forward(tiny_scorer.backbone, rows, head, tiny_scorer.pad_id, tiny_scorer.device, 64)
    assert len(calls) > 1
    for shape in calls[1:]:  # after the oversized rows, each pass keeps within the bound
        assert shape[0] * shape[1] * (50 + shape[1]) <= packing.MAX_MASK_ELEMENTS or shape[0] == 1
    assert _logits(tiny_scorer, final) == pytest.approx(expected, rel=1e-5, abs=1e-5)


# -------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("impl", ["flash_attention_2", "flex_attention", None])
def test_attention_without_4d_masks_is_refused(impl):
    backbone = SimpleNamespace(config=SimpleNamespace(_attn_implementation=impl, layer_types=["full_attention"]))
    with pytest.raises(PackingUnavailable):
        packed_forward(backbone, [(1, 2)], None, 0, torch.device("cpu"))


def test_sliding_window_layers_are_refused():
    config = SimpleNamespace(_attn_implementation="sdpa", layer_types=["full_attention", "sliding_attention"])
    with pytest.raises(PackingUnavailable):
        packed_forward(SimpleNamespace(config=config), [(1, 2)], None, 0, torch.device("cpu"))
