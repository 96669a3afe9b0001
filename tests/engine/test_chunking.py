"""Chunks a user sees on the heat strip: sized in tokens, overlapping, cut at natural boundaries,
with offsets that point back into the original text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from workbench.engine.chunking import chunk_text
from workbench.engine.types import ChunkSettings

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "docs"


def _paragraphs(n: int) -> str:
    return "\n\n".join(
        f"Section {i}. The backup job runs nightly and copies data to the vault. "
        f"Operators check the log every morning. Failures page the on-call engineer number {i}."
        for i in range(n)
    )


def test_chunks_cover_the_text_with_overlap(qwen_tokenizer):
    text = _paragraphs(40)
    spans = chunk_text(qwen_tokenizer, "d", text, ChunkSettings(tokens=64, overlap=16))
    assert len(spans) > 5
    assert spans[0].start == 0 and spans[-1].end == len(text)
    for a, b in zip(spans, spans[1:]):
        assert b.start < a.end, "consecutive chunks share their overlap"
        assert b.start > a.start, "chunks always move forward"
    assert [s.index for s in spans] == list(range(len(spans)))
    for s in spans:
        assert s.tokens <= 64
        # The token count is that of the chunk's own text (give or take a merge at the edges).
        assert abs(len(qwen_tokenizer.encode(text[s.start : s.end])) - s.tokens) <= 2


def test_chunk_ends_snap_to_sentence_or_paragraph_ends(qwen_tokenizer):
    text = _paragraphs(40)
    spans = chunk_text(qwen_tokenizer, "d", text, ChunkSettings(tokens=64, overlap=0))
    for s in spans[:-1]:
        assert text[s.start : s.end].rstrip()[-1] in ".!?", text[s.start : s.end][-40:]


def test_chinese_sentences_end_at_chinese_punctuation(qwen_tokenizer):
    text = "".join(f"第{i}段：绿茶的水温以八十度为宜，不宜用沸水直接冲泡。红茶可以用沸水！为什么要这样做？" for i in range(60))
    spans = chunk_text(qwen_tokenizer, "zh", text, ChunkSettings(tokens=128, overlap=16))
    assert len(spans) > 3
    for s in spans[:-1]:
        assert text[s.start : s.end][-1] in "。！？", text[s.start : s.end][-10:]


def test_chunking_off_gives_the_whole_document(qwen_tokenizer):
    text = _paragraphs(10)
    spans = chunk_text(qwen_tokenizer, "d", text, ChunkSettings(tokens=0))
    assert len(spans) == 1 and (spans[0].start, spans[0].end) == (0, len(text))


def test_text_without_any_boundary_still_chunks(qwen_tokenizer):
    text = "x" * 5000
    spans = chunk_text(qwen_tokenizer, "d", text, ChunkSettings(tokens=100, overlap=10))
    assert spans[-1].end == len(text) and all(s.end > s.start for s in spans)


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        ChunkSettings(tokens=64, overlap=64)
    with pytest.raises(ValueError):
        ChunkSettings(tokens=-1)


def test_a_document_over_32k_tokens_chunks_quickly(qwen_tokenizer):
    text = (SAMPLE / "zz_handbook_long.md").read_text()
    started = time.perf_counter()
    spans = chunk_text(qwen_tokenizer, "big", text, ChunkSettings(tokens=256, overlap=32))
    elapsed = time.perf_counter() - started
    total_tokens = len(qwen_tokenizer.encode(text))
    assert total_tokens > 32_000
    assert len(spans) >= total_tokens // 256
    assert spans[-1].end == len(text)
    # The needle section can be found: some chunk holds the whole command line.
    needle = "bkctl key rotate --key backup-master"
    assert any(needle in text[s.start : s.end] for s in spans)
    assert elapsed < 30  # generous: a sanity bound, not a benchmark
