"""A ranking run as the UI and CLI drive it: progressive, cancellable, cached, aggregated."""

from __future__ import annotations

import pytest
import torch

from workbench.engine.aggregate import aggregate
from workbench.engine.ranking import Ranker, RankingInputError
from workbench.engine.scorer import ScoringError
from workbench.engine.types import ChunkSettings, Document

QUERY = "How do I rotate the backup key?"
INSTR = "Given a web search query, retrieve relevant passages that answer the query"


def _docs():
    body = " ".join(f"Sentence {i} talks about backups and keys and vaults." for i in range(120))
    return [Document("long", body), Document("short", "Rotate the key with bkctl."), Document("other", "Espresso needs fine grinding.")]


def test_rank_orders_documents_and_chunks(tiny_scorer):
    result = Ranker(tiny_scorer).rank(QUERY, INSTR, _docs(), ChunkSettings(tokens=64, overlap=8))
    scores = [d.score for d in result.documents]
    assert scores == sorted(scores, reverse=True)
    assert [d.rank for d in result.documents] == [1, 2, 3]
    long_doc = next(d for d in result.documents if d.doc_id == "long")
    assert len(long_doc.chunks) > 3
    assert long_doc.score == pytest.approx(max(c.score for c in long_doc.chunks))
    assert result.stats.pairs == sum(len(d.chunks) for d in result.documents)
    assert result.stats.prompt_tokens > 0 and result.stats.latency_s > 0


def test_tokens_per_second_counts_the_shared_head_once(tiny_scorer):
    """The system text, instruction and query every pair starts with are run once per call: the
    rate must count them once, not once per pair."""
    docs = _docs()
    result = Ranker(tiny_scorer).rank(QUERY, INSTR, docs, ChunkSettings(tokens=64, overlap=8))
    stats = result.stats
    texts = {d.id: d.text for d in docs}
    prompts = tiny_scorer.build_prompts(INSTR, QUERY, [c.chunk.text_of(texts[c.doc_id]) for c in result.ranked_chunks()])
    # Independent count: the prompts' common prefix, the rest of each prompt counted per pair.
    first = prompts[0].ids
    common = next(n for n in range(len(first)) if any(len(p.ids) <= n + 1 or p.ids[n] != first[n] for p in prompts))
    assert common > 20 and stats.scored == len(prompts) > 3
    assert stats.model_tokens == stats.prompt_tokens - common * (stats.scored - 1)
    assert stats.tokens_per_s == pytest.approx(stats.model_tokens / stats.latency_s)


def test_second_run_comes_from_the_cache_and_matches(tiny_scorer):
    ranker = Ranker(tiny_scorer)
    first = ranker.rank(QUERY, INSTR, _docs(), ChunkSettings(tokens=64, overlap=8))
    second = ranker.rank(QUERY, INSTR, _docs(), ChunkSettings(tokens=64, overlap=8))
    assert second.stats.cached == second.stats.pairs and second.stats.scored == 0
    assert [c.logit for c in second.ranked_chunks()] == [c.logit for c in first.ranked_chunks()]
    # Editing one document re-scores only that document's chunks.
    docs = _docs()
    docs[1] = Document("short", "Rotate the key with bkctl, then verify.")
    third = ranker.rank(QUERY, INSTR, docs, ChunkSettings(tokens=64, overlap=8))
    assert third.stats.scored == 1


def test_results_arrive_batch_by_batch(tiny_scorer):
    seen = []
    tiny_scorer.token_budget, old = 300, tiny_scorer.token_budget
    try:
        Ranker(tiny_scorer).rank(QUERY, INSTR, _docs(), ChunkSettings(tokens=64, overlap=8), on_progress=seen.append)
    finally:
        tiny_scorer.token_budget = old
    assert len(seen) > 2
    assert seen[-1].done == seen[-1].total
    assert [p.done for p in seen] == sorted(p.done for p in seen)


@pytest.mark.parametrize("threads, per_core, at_most", [(2, False, 1), (2, True, 2), (1, True, 1)])
def test_cancel_stops_within_the_batches_in_flight(tiny_scorer, threads, per_core, at_most):
    # One pass at a time: the batch running when cancel comes is the last. One pass per core: the
    # batches running beside it finish too (kept, not thrown away), and nothing more starts.
    batches = []
    before = torch.get_num_threads()
    tiny_scorer.token_budget, old = 200, tiny_scorer.token_budget
    tiny_scorer.pass_per_core = per_core
    torch.set_num_threads(threads)
    try:
        result = Ranker(tiny_scorer).rank(
            QUERY, INSTR, _docs(), ChunkSettings(tokens=32, overlap=0),
            should_cancel=lambda: len(batches) >= 1, on_progress=batches.append,
        )
    finally:
        tiny_scorer.token_budget = old
        tiny_scorer.pass_per_core = True
        torch.set_num_threads(before)
    assert result.cancelled
    # A GPU keeps one batch queued behind the one being read (overlap.py): it finishes too.
    assert 1 <= len(batches) <= max(at_most, 1 + int(tiny_scorer.overlap))
    assert result.stats.scored == sum(len(b.new) for b in batches) < result.stats.pairs


def test_out_of_memory_shrinks_the_batch_and_keeps_scores(tiny_scorer, monkeypatch):
    reference = Ranker(tiny_scorer).rank(QUERY, INSTR, _docs(), ChunkSettings(tokens=32, overlap=0))
    real_forward = tiny_scorer._forward
    sizes = []

    def forward_that_runs_out(rows, *args):
        sizes.append(len(rows))
        if len(rows) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_forward(rows, *args)

    monkeypatch.setattr(tiny_scorer, "_forward", forward_that_runs_out)
    monkeypatch.setattr(tiny_scorer, "token_budget", 100_000)
    result = Ranker(tiny_scorer).rank(QUERY, INSTR, _docs(), ChunkSettings(tokens=32, overlap=0))
    assert max(sizes) > 2 and sizes[-1] <= 2
    # Same scores as without the failure (batch composition may move the last digits).
    assert [c.logit for c in result.ranked_chunks()] == pytest.approx([c.logit for c in reference.ranked_chunks()], abs=1e-3)


def test_out_of_memory_on_a_single_pair_is_a_clear_error(tiny_scorer, monkeypatch):
    def always_oom(rows, *args):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(tiny_scorer, "_forward", always_oom)
    with pytest.raises(ScoringError, match="out of GPU memory"):
        Ranker(tiny_scorer).rank(QUERY, INSTR, _docs()[1:2])


def test_bad_inputs_are_refused_with_a_reason(tiny_scorer):
    ranker = Ranker(tiny_scorer)
    with pytest.raises(RankingInputError, match="query is empty"):
        ranker.rank("   ", INSTR, _docs())
    with pytest.raises(RankingInputError, match="no documents"):
        ranker.rank(QUERY, INSTR, [])
    with pytest.raises(RankingInputError, match="share the id"):
        ranker.rank(QUERY, INSTR, [Document("a", "x"), Document("a", "y")])


def test_instruction_changes_the_scores(tiny_scorer):
    ranker = Ranker(tiny_scorer)
    a = ranker.rank(QUERY, INSTR, _docs(), ChunkSettings(tokens=0))
    b = ranker.rank(QUERY, "Judge whether the passage is about coffee", _docs(), ChunkSettings(tokens=0))
    assert b.stats.cached == 0
    assert [d.score for d in a.documents] != [d.score for d in b.documents]


def test_aggregates():
    scores = [0.1, 0.9, 0.5, 0.3]
    assert aggregate(scores, "max") == 0.9
    assert aggregate(scores, "first") == 0.1
    assert aggregate(scores, "mean") == pytest.approx(0.45)
    assert aggregate(scores, "topk", top_k=2) == pytest.approx(0.7)
    assert aggregate([], "max") == 0.0
    with pytest.raises(ValueError):
        aggregate(scores, "median")


def test_aggregate_choice_changes_the_document_score(tiny_scorer):
    ranker = Ranker(tiny_scorer)
    docs = _docs()[:1]
    by = {how: ranker.rank(QUERY, INSTR, docs, ChunkSettings(tokens=32, overlap=0), aggregate=how).documents[0]
          for how in ("max", "first", "mean", "topk")}
    chunks = by["max"].chunks
    assert by["first"].score == pytest.approx(chunks[0].score)
    assert by["mean"].score == pytest.approx(sum(c.score for c in chunks) / len(chunks))
    assert by["mean"].score <= by["topk"].score <= by["max"].score


def test_shared_prompt_head_gives_the_same_scores_as_full_prompts(tiny_scorer, monkeypatch):
    from workbench.engine.shared_prefix import common_prefix_length

    docs = _docs()
    prompts = tiny_scorer.build_prompts(INSTR, QUERY, [d.text for d in docs])
    # System text + instruction + query: dozens of tokens every pair shares.
    assert common_prefix_length([p.ids for p in prompts]) > 40
    shared = Ranker(tiny_scorer).rank(QUERY, INSTR, docs, ChunkSettings(tokens=32, overlap=4))
    monkeypatch.setattr(tiny_scorer, "share_prefix", False)
    full = Ranker(tiny_scorer).rank(QUERY, INSTR, docs, ChunkSettings(tokens=32, overlap=4))
    assert [c.logit for c in shared.ranked_chunks()] == pytest.approx([c.logit for c in full.ranked_chunks()], abs=1e-4)


def test_common_prefix_leaves_every_row_a_token_of_its_own():
    from workbench.engine.shared_prefix import common_prefix_length

    rows = [tuple(range(40)), tuple(range(40)) + (7,)]
    assert common_prefix_length(rows) == 39
    assert common_prefix_length([tuple(range(40))]) == 0  # one row: nothing to share
    assert common_prefix_length([(1,) * 10 + (2,), (1,) * 10 + (3,)]) == 0  # too short to pay


def test_an_unknown_aggregate_is_refused_before_any_scoring(tiny_scorer):
    with pytest.raises(ValueError, match="aggregate must be one of"):
        Ranker(tiny_scorer).rank(QUERY, INSTR, _docs(), aggregate="median")
    with pytest.raises(ValueError):
        aggregate([], "median")


def test_a_non_finite_logit_is_not_served_from_the_cache_next_time(tiny_scorer, monkeypatch):
    """fp16 can overflow to NaN; that pair must be scored afresh next time, not replayed."""
    import math

    from workbench.engine.cache import MemoryScoreCache

    cache = MemoryScoreCache()
    docs = _docs()[:1]
    real = tiny_scorer.score_prompts

    def overflowing(prompts, should_cancel=None):
        for batch in real(prompts, should_cancel):
            yield [(i, float("nan")) for i, _ in batch]

    monkeypatch.setattr(tiny_scorer, "score_prompts", overflowing)
    broken = Ranker(tiny_scorer, cache).rank(QUERY, INSTR, docs, ChunkSettings(tokens=32, overlap=0))
    assert all(math.isnan(c.logit) for c in broken.ranked_chunks())
    monkeypatch.setattr(tiny_scorer, "score_prompts", real)
    again = Ranker(tiny_scorer, cache).rank(QUERY, INSTR, docs, ChunkSettings(tokens=32, overlap=0))
    assert again.stats.cached == 0 and again.stats.scored == len(again.ranked_chunks())
    assert all(math.isfinite(c.logit) for c in again.ranked_chunks())


def test_a_timed_pass_is_measured_and_stops_when_told(tiny_scorer):
    ranker = Ranker(tiny_scorer)
    text = "The kiln fires stoneware at cone six. " * 20
    assert 0 < ranker.time_a_pass(text) < 60
    # A run that starts meanwhile (or a server that never answers) must not wait for the timing.
    assert ranker.time_a_pass(text, should_stop=lambda: True) is None
