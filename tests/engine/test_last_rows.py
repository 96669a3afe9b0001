"""The final layer's MLP runs for the one token per pair the score is read from (last_rows.py),
and the model stays whole for anyone else who runs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from official_reference import official_logit_diffs
from workbench.engine.ranking import Ranker
from workbench.engine.reranker import Qwen3Reranker
from workbench.engine.types import ChunkSettings, Document, ModelInfo

QUERY = "How do I rotate the backup encryption key?"
INSTR = "Given a web search query, retrieve relevant passages that answer the query"
DOCS = [
    "Backups are encrypted with a key kept in the vault; run backup rotate-key to replace it.",
    "The cafeteria opens at eight and lunch is served from noon until two.",
    "Disk quotas are per team: ask the storage group to raise one, or prune old snapshots first. " * 3,
    "Photosynthesis happens in the leaves of plants.",
    "Rotate keys yearly.",
]


@contextmanager
def mlp_tokens(model, layer: int) -> Iterator[list[int]]:
    """Tokens each forward pass runs through one decoder layer's MLP, as the passes run."""
    seen: list[int] = []
    handle = model.base_model.layers[layer].mlp.register_forward_pre_hook(
        lambda _m, args: seen.append(args[0].shape[:-1].numel()))
    try:
        yield seen
    finally:
        handle.remove()


def _rank(scorer, docs):
    result = Ranker(scorer).rank(QUERY, INSTR, [Document(str(i), d) for i, d in enumerate(docs)],
                                 chunking=ChunkSettings(tokens=0))
    by_id = {d.doc_id: d.chunks[0] for d in result.documents}
    return [by_id[str(i)] for i in range(len(docs))]


def test_the_last_layer_runs_its_mlp_for_one_token_per_pair(tiny_hf):
    model, tokenizer = tiny_hf
    expected = official_logit_diffs(model, tokenizer, INSTR, QUERY, DOCS, batch_size=2)
    scorer = Qwen3Reranker(model, tokenizer, _info())
    assert scorer.last_rows_only
    with mlp_tokens(model, -1) as last, mlp_tokens(model, 0) as first:
        got = _rank(scorer, DOCS)
    assert [c.logit for c in got] == pytest.approx(expected, abs=1e-5)
    # The first layer's MLP runs on every token of every pass (pads too); the last layer's on the
    # shared head's tokens (their pass sets no positions) and then one token per pair.
    prompts = scorer.build_prompts(INSTR, QUERY, DOCS)
    shared = scorer._shared_length(prompts)
    assert shared > 0 and sum(first) >= sum(p.tokens - shared for p in prompts) + shared
    assert sum(last) == len(DOCS) + shared


def test_the_model_scores_as_before_for_other_callers(tiny_hf):
    """The hook is on the caller's model object: a plain forward over it (here the official way)
    must not notice, before or after the engine has scored with it, nor a second scorer on it."""
    model, tokenizer = tiny_hf
    before = official_logit_diffs(model, tokenizer, INSTR, QUERY, DOCS, batch_size=2)
    first, second = Qwen3Reranker(model, tokenizer, _info()), Qwen3Reranker(model, tokenizer, _info())
    assert [c.logit for c in _rank(first, DOCS)] == pytest.approx(before, abs=1e-5)
    assert [c.logit for c in _rank(second, DOCS)] == pytest.approx(before, abs=1e-5)
    assert official_logit_diffs(model, tokenizer, INSTR, QUERY, DOCS, batch_size=2) == before


def test_an_unknown_layer_keeps_the_whole_last_layer(tiny_hf, monkeypatch):
    from workbench.engine import last_rows

    model, tokenizer = tiny_hf
    monkeypatch.setattr(last_rows, "_KNOWN_LAYERS", ("SomeOtherDecoderLayer",))
    scorer = Qwen3Reranker(model, tokenizer, _info())
    assert not scorer.last_rows_only
    with mlp_tokens(model, -1) as seen:
        got = _rank(scorer, DOCS[:2])
    assert [c.logit for c in got] == pytest.approx(official_logit_diffs(model, tokenizer, INSTR, QUERY, DOCS[:2], batch_size=2),
                                                   abs=1e-5)
    prompts = scorer.build_prompts(INSTR, QUERY, DOCS[:2])
    assert sum(seen) > len(DOCS[:2]) + scorer._shared_length(prompts)  # every token, not one per pair


def _info() -> ModelInfo:
    return ModelInfo(model_id="tiny", kind="qwen3-reranker", device="cpu", dtype="fp32")
