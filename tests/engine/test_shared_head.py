"""The shared prompt head is an optimisation only: same scores with it on, off, or broken.

These run against whichever transformers is installed; `scripts/check-versions` runs them again
on the lowest and the newest releases we support.
"""

from __future__ import annotations

import logging

import pytest

from workbench.engine.chunking import ChunkSettings
from workbench.engine.ranking import Ranker
from workbench.engine.types import Document

QUERY = "How do I rotate the backup encryption key?"
INSTR = "Given a web search query, retrieve relevant passages that answer the query"
TEXTS = [
    "Backups are encrypted with a key kept in the vault. To rotate it, run `backup rotate-key` and "
    "then re-run the nightly job so every archive is re-encrypted with the new key.",
    "The cafeteria opens at eight. Lunch is served from noon until two, and the coffee machine on "
    "the third floor is cleaned every Friday afternoon.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen in the chloroplasts.",
    "短文档：备份密钥每九十天轮换一次。",
    "Disk quotas are per team. Ask the storage group to raise a quota; they answer within a day.",
    "x",
]


def _docs(n: int) -> list[Document]:
    return [Document(id=f"d{i}", text=TEXTS[i % len(TEXTS)] * (1 + i // len(TEXTS))) for i in range(n)]


def _logits(scorer, docs, share: bool) -> list[float]:
    scorer.share_prefix, before = share, scorer.share_prefix
    try:
        result = Ranker(scorer).rank(QUERY, INSTR, docs, ChunkSettings(tokens=24, overlap=4))
    finally:
        scorer.share_prefix = before
    chunks = sorted(result.ranked_chunks(), key=lambda c: (c.doc_id, c.chunk.index))
    return [c.logit for c in chunks]


@pytest.mark.parametrize("n_docs", [1, 2, 9])
def test_sharing_the_head_changes_no_score(tiny_scorer, n_docs):
    docs = _docs(n_docs)
    shared = _logits(tiny_scorer, docs, share=True)
    whole = _logits(tiny_scorer, docs, share=False)
    assert len(shared) >= n_docs
    assert shared == pytest.approx(whole, abs=1e-5)


@pytest.fixture
def heads(monkeypatch) -> list:
    """Every shared head the reranker computes, as it computes them."""
    from workbench.engine import reranker as reranker_module

    made = []
    original = reranker_module.SharedPrefix

    def spy(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(reranker_module, "SharedPrefix", spy)
    return made


@pytest.fixture
def sharing(tiny_scorer, monkeypatch):
    """The head shared whatever the device's default (a GPU scores whole prompts)."""
    monkeypatch.setattr(tiny_scorer, "share_prefix", True)


def test_a_cpu_shares_the_head_and_a_gpu_scores_whole_prompts(tiny_scorer):
    """And the model's details say which (one function decides both)."""
    cpu = tiny_scorer.device.type == "cpu"
    assert tiny_scorer.share_prefix == cpu
    said = " ".join(tiny_scorer.info.choices)
    assert ("prompt head (system text, instruction, query) computed once per call" in said) == cpu
    assert ("whole prompts on a GPU" in said) == (not cpu)


def test_the_head_is_really_shared(tiny_scorer, heads, sharing):
    """Guard against the fast path silently switching itself off on a new release."""
    tiny_scorer.forget_texts()  # an earlier test's head, kept by the scorer, would be reused
    _logits(tiny_scorer, _docs(4), share=True)
    assert heads and heads[0].length > 40  # system text + instruction + query
    assert tiny_scorer.share_prefix and tiny_scorer.sharing_off_reason is None


def test_a_library_that_rejects_the_head_degrades_to_whole_prompts(tiny_model_dir, monkeypatch, caplog):
    """What a future transformers release that breaks the cache API would do: one warning, same
    scores, no crash."""
    from transformers import DynamicCache

    from device_under_test import load_options
    from workbench.engine.loading import load_scorer

    scorer = load_scorer(load_options(model=str(tiny_model_dir)))
    docs = _docs(5)
    expected = _logits(scorer, docs, share=False)

    def broken(self, repeats):
        raise TypeError("batch_repeat_interleave() got an unexpected keyword argument 'kwargs'")

    monkeypatch.setattr(DynamicCache, "batch_repeat_interleave", broken)
    with caplog.at_level(logging.WARNING, logger="workbench.engine.shared_prefix"):
        first = _logits(scorer, docs, share=True)
        scorer.share_prefix = False  # what _stop_sharing left it as; _logits resets it
        second = Ranker(scorer).rank(QUERY, INSTR, docs, ChunkSettings(tokens=24, overlap=4))
    assert first == pytest.approx(expected, abs=1e-5)
    assert len(second.ranked_chunks()) == len(expected)
    warnings = [r for r in caplog.records if "shared prompt head unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert "batch_repeat_interleave" in warnings[0].getMessage()


def test_a_forward_without_a_cache_argument_scores_whole_prompts(tiny_model_dir, monkeypatch, caplog):
    from workbench.engine import shared_prefix
    from device_under_test import load_options
    from workbench.engine.loading import load_scorer

    scorer = load_scorer(load_options(model=str(tiny_model_dir)))
    docs = _docs(3)
    expected = _logits(scorer, docs, share=False)
    monkeypatch.setattr(shared_prefix, "cache_keyword", lambda backbone: None)
    with caplog.at_level(logging.WARNING, logger="workbench.engine.shared_prefix"):
        scorer.share_prefix = True
        got = Ranker(scorer).rank(QUERY, INSTR, docs, ChunkSettings(tokens=24, overlap=4))
    logits = [c.logit for c in sorted(got.ranked_chunks(), key=lambda c: (c.doc_id, c.chunk.index))]
    assert logits == pytest.approx(expected, abs=1e-5)
    assert scorer.sharing_off_reason and "no KV cache argument" in scorer.sharing_off_reason


def test_a_second_run_with_the_same_query_reuses_the_head(tiny_scorer, heads, sharing):
    """A live edit of one document re-scores a pair or two under the same query: the head's
    forward pass is not run again for it, and the scores are those of a fresh head."""
    tiny_scorer.forget_texts()
    docs = _docs(4)
    first = _logits(tiny_scorer, docs, share=True)
    again = _logits(tiny_scorer, docs[:2], share=True)  # Ranker(...) is new: nothing cached there
    assert len(heads) == 1
    # Rounding only: the last layer's MLP runs on one row per pair, a matmul whose kernel depends on
    # how many pairs share the pass (2.3e-6 seen here).
    assert again == pytest.approx(first[: len(again)], abs=1e-5)
    other = Ranker(tiny_scorer).rank("a different query", INSTR, docs, ChunkSettings(tokens=24, overlap=4))
    assert len(heads) == 2 and other.stats.scored > 0


def test_a_single_pair_after_a_run_uses_the_kept_head(tiny_scorer, heads, sharing, monkeypatch):
    """A one-word edit re-scores one chunk: it shares a head with no other pair of its call, but
    the head of the run before it is still right for it. Its score is the one it gets whole."""
    tiny_scorer.forget_texts()
    rows_run = []
    forward = tiny_scorer._forward
    monkeypatch.setattr(tiny_scorer, "_forward", lambda rows, head=None: rows_run.extend(rows) or forward(rows, head))
    prompts = tiny_scorer.build_prompts(INSTR, QUERY, TEXTS[:3])
    whole = _scored(tiny_scorer, prompts[:1])  # nothing kept yet: the whole prompt is run
    assert not heads and [len(r) for r in rows_run] == [prompts[0].tokens]
    _scored(tiny_scorer, prompts)  # a run: its head is kept
    assert len(heads) == 1
    rows_run.clear()
    edited = _scored(tiny_scorer, prompts[:1])
    assert len(heads) == 1  # not computed again...
    assert [len(r) for r in rows_run] == [prompts[0].tokens - heads[0].length]  # ...nor run with the pair
    assert edited == pytest.approx(whole, abs=1e-5)
    rows_run.clear()
    other = tiny_scorer.build_prompts(INSTR, "a different query", TEXTS[:1])
    _scored(tiny_scorer, other)
    assert [len(r) for r in rows_run] == [other[0].tokens]  # another query's pair: whole


def _scored(scorer, prompts) -> list[float]:
    return [logit for batch in scorer.score_prompts(prompts) for _, logit in batch]
