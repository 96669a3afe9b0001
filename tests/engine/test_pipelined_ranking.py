"""Tokenisation overlapped with scoring (engine/pipeline.py): the same results as the serial path,
progress a progress bar can use, and cancels and failures that leave no thread behind."""

from __future__ import annotations

import threading

import pytest
import torch

from workbench.engine import pipeline
from workbench.engine.cache import MemoryScoreCache
from device_under_test import load_options
from workbench.engine.loading import load_scorer
from workbench.engine.ranking import Ranker
from workbench.engine.scorer import prompt_key
from workbench.engine.types import ChunkSettings, Document

QUERY = "How do I rotate the backup key?"
INSTR = "Given a web search query, retrieve relevant passages that answer the query"
CHUNKS = ChunkSettings(tokens=40, overlap=6)
TOPICS = ("backups and keys", "vault rotation", "espresso grinding", "river tides", "disk quotas")


@pytest.fixture(scope="module")
def short_scorer(tiny_model_dir):
    """The tiny reranker with a 96-token window: chunks longer than ~30 tokens are cut."""
    return load_scorer(load_options(model=str(tiny_model_dir), max_length=96))


@pytest.fixture
def small_groups(monkeypatch, short_scorer):
    """Groups of a few hundred tokens, so a small test run spans many groups (and calls)."""
    monkeypatch.setattr(pipeline, "MIN_GROUP_TOKENS", 128)
    monkeypatch.setattr(short_scorer, "token_budget", 256)
    calls = []
    real = short_scorer.score_prompts

    def counting(prompts, should_cancel=None):
        calls.append(len(prompts))
        return real(prompts, should_cancel)

    monkeypatch.setattr(short_scorer, "score_prompts", counting)
    return calls


def _documents() -> list[Document]:
    """Mixed lengths (one sentence to a dozen chunks), a duplicated document far from its twin,
    and a repeated paragraph: the same chunk texts land in different groups."""
    docs = []
    for i in range(14):
        words = " ".join(f"Note {j} on {TOPICS[(i + j) % 5]} and what to check next." for j in range(1 + (i * 7) % 23))
        docs.append(Document(f"d{i}", words))
    repeated = "Rotate the key with bkctl, then verify the vault. " * 6
    docs.append(Document("repeats", repeated + "\n\n" + repeated))
    docs.append(Document("twin", docs[9].text))
    return docs


def _rank(scorer, pipelined: bool, cache, docs=None, **kwargs):
    ranker = Ranker(scorer, cache)
    ranker.pipeline = pipelined
    reports = []
    result = ranker.rank(QUERY, INSTR, docs or _documents(), CHUNKS, on_progress=reports.append, **kwargs)
    return result, reports


def _rank_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("rank-")]


def _primed_cache(scorer) -> MemoryScoreCache:
    """A cache holding the scores of an earlier run over some of the documents."""
    cache = MemoryScoreCache()
    Ranker(scorer, cache).rank(QUERY, INSTR, _documents()[2:6], CHUNKS)
    return cache


def test_pipelined_run_gives_the_serial_results(short_scorer, small_groups):
    serial, serial_reports = _rank(short_scorer, False, _primed_cache(short_scorer))
    calls_before = len(small_groups)
    piped, piped_reports = _rank(short_scorer, True, _primed_cache(short_scorer))
    assert len(small_groups) - calls_before > 3  # really scored group by group

    def chunks(result):
        return {(c.doc_id, c.chunk.index): c for c in result.ranked_chunks()}

    want, got = chunks(serial), chunks(piped)
    assert got.keys() == want.keys()
    assert any(c.truncated for c in want.values()) and not all(c.truncated for c in want.values())
    for key, c in want.items():
        g = got[key]
        # Groups batch rows differently from one call (widths, rows per core): float32 rounding only.
        assert g.logit == pytest.approx(c.logit, abs=1e-5), key
        assert (g.chunk, g.cached, g.truncated, g.prompt_tokens) == (c.chunk, c.cached, c.truncated, c.prompt_tokens)
    assert [(d.doc_id, d.rank) for d in piped.documents] == [(d.doc_id, d.rank) for d in serial.documents]
    s, p = serial.stats, piped.stats
    assert 0 < s.cached < s.pairs
    assert (p.pairs, p.cached, p.scored, p.prompt_tokens) == (s.pairs, s.cached, s.scored, s.prompt_tokens)
    # The shared head is computed once per scoring call: more calls, a little more model work.
    assert s.model_tokens < p.model_tokens < p.prompt_tokens
    for reports in (serial_reports, piped_reports):
        assert {r.total for r in reports} == {s.pairs}
        dones = [r.done for r in reports]
        assert dones == sorted(set(dones)) and dones[-1] == s.pairs
        assert sum(len(r.new) for r in reports) == s.pairs


def test_cancel_mid_run_returns_a_marked_partial_result_and_stops_the_threads(short_scorer, small_groups):
    reports = []
    ranker = Ranker(short_scorer)
    ranker.pipeline = True
    result = ranker.rank(QUERY, INSTR, _documents(), CHUNKS,
                         should_cancel=lambda: bool(reports), on_progress=reports.append)
    assert result.cancelled
    scored = [c for d in result.documents for c in d.chunks]
    assert 0 < len(scored) == result.stats.scored < result.stats.pairs
    assert _rank_threads() == []


def test_cancel_while_chunking_is_slow_stops_at_once(short_scorer, small_groups, monkeypatch):
    ranker = Ranker(short_scorer)
    ranker.pipeline = True
    chunked = []
    gate = threading.Event()
    real_chunk = ranker.chunk

    def slow_chunk(doc, settings):
        chunked.append(doc.id)
        gate.wait(0.05)
        return real_chunk(doc, settings)

    monkeypatch.setattr(ranker, "chunk", slow_chunk)
    result = ranker.rank(QUERY, INSTR, _documents(), CHUNKS, should_cancel=lambda: len(chunked) >= 2)
    assert result.cancelled and result.stats.scored == 0
    assert len(chunked) < len(_documents())  # the producer stopped too, it did not chunk on
    assert _rank_threads() == []


class TokenizerBroke(RuntimeError):
    pass


@pytest.mark.parametrize("stage", ["chunk", "build"])
def test_a_failure_while_tokenising_reaches_the_caller_as_itself(short_scorer, small_groups, monkeypatch, stage):
    docs = _documents() + [Document("bad", "this text breaks the tokenizer")]
    for pipelined in (False, True):
        ranker = Ranker(short_scorer)
        ranker.pipeline = pipelined
        if stage == "chunk":
            real = ranker.chunk

            def chunk(doc, settings, real=real):
                if doc.id == "bad":
                    raise TokenizerBroke("cannot tokenise")
                return real(doc, settings)

            monkeypatch.setattr(ranker, "chunk", chunk)
        else:
            real = ranker._build_prompts

            def build(instruction, query, texts, real=real):
                if any("breaks the tokenizer" in t for t in texts):
                    raise TokenizerBroke("cannot tokenise")
                return real(instruction, query, texts)

            monkeypatch.setattr(ranker, "_build_prompts", build)
        with pytest.raises(TokenizerBroke, match="cannot tokenise"):
            ranker.rank(QUERY, INSTR, docs, CHUNKS)
        assert _rank_threads() == []


def test_auto_pipelines_a_cuda_scorer_only(short_scorer, monkeypatch):
    ranker = Ranker(short_scorer)
    monkeypatch.setattr(short_scorer, "device", torch.device("cpu"))
    assert not ranker.pipelined()
    monkeypatch.setattr(short_scorer, "device", torch.device("cuda"))
    assert ranker.pipelined()
    ranker.pipeline = False
    assert not ranker.pipelined()


def test_documents_chunked_before_show_scores_before_every_prompt_is_built(short_scorer, small_groups, monkeypatch):
    """The app chunks every document for its view before it ranks: the run's total is then known
    at once, and the first rows need not wait for the last prompts."""
    docs = _documents()
    ranker = Ranker(short_scorer)
    ranker.pipeline = True
    for d in docs:
        ranker.chunk(d, CHUNKS)
    # Remembered chunks take microseconds; a loaded test machine may still pause the thread
    # longer than the default allows for chunking ahead.
    monkeypatch.setattr(pipeline, "CHUNK_AHEAD_S", 0.5)
    builds, built_at_report = [], []
    real = ranker._build_prompts

    def counting(instruction, query, texts):
        builds.append(len(texts))
        return real(instruction, query, texts)

    monkeypatch.setattr(ranker, "_build_prompts", counting)
    result = ranker.rank(QUERY, INSTR, docs, CHUNKS, on_progress=lambda p: built_at_report.append(len(builds)))
    # The producer runs at most a few groups ahead of the scoring (a bounded queue).
    assert len(builds) > 6 and built_at_report[0] < len(builds)
    assert result.stats.pairs == sum(builds)


@pytest.mark.parametrize("pipelined", [False, True])
def test_a_prompt_met_twice_in_a_run_is_scored_once(short_scorer, small_groups, pipelined):
    docs = _documents()
    text = {d.id: d.text for d in docs}
    result, _ = _rank(short_scorer, pipelined, MemoryScoreCache(), docs)
    chunks = result.ranked_chunks()
    prompts = short_scorer.build_prompts(INSTR, QUERY, [text[c.doc_id][c.chunk.start : c.chunk.end] for c in chunks])
    copies: dict[str, list] = {}  # the same prompt: the same text, or texts cut to the same window
    for c, p in zip(chunks, prompts):
        copies.setdefault(prompt_key(p), []).append(c)
    assert len(copies) < len(chunks)  # the twin document and the repeated paragraph
    assert sum(small_groups) == len(copies)  # each prompt sent to the model once
    for same in copies.values():
        assert len({c.logit for c in same}) == 1 and not any(c.cached for c in same)
    s = result.stats
    assert (s.scored, s.cached) == (s.pairs, 0) and s.pairs == len(chunks)
