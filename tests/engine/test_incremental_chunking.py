"""Typing in a long document re-chunks only around the edit: chunks away from it keep their text
(so their prompts and scores come from the caches), and the chunking stays valid after any edit."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from workbench.engine.chunking import Chunker, chunk_text
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "docs"
WORDS = ["backup", "vault", "the", "retention", "红茶", "沸水。", "😀", "é", "\n\n", ". ", "? ", "\n", "  "]


def _base_text() -> str:
    """Mixed material: English paragraphs, Chinese sentences, and a long run with no boundary."""
    english = (SAMPLE / "backup_retention_policy.md").read_text()[:3500]
    chinese = (SAMPLE / "tea_brewing_and_storage_zh.md").read_text()[:1500]
    return english + "\n\n" + chinese + "\n\n" + "x" * 600 + " tail words here."


def _random_edit(rng: random.Random, text: str) -> str:
    """One keystroke-sized edit: insert or replace a word, delete a few characters, or an edit at either end."""
    kind = rng.choice(["insert", "delete", "replace", "prepend", "append", "join"])
    at = rng.randrange(len(text) + 1)
    word = rng.choice(WORDS)
    if kind == "insert":
        return text[:at] + word + text[at:]
    if kind == "delete":
        return text[:at] + text[at + rng.randint(1, 12) :]
    if kind == "replace":
        return text[:at] + word + text[at + rng.randint(1, 8) :]
    if kind == "prepend":
        return word + text
    if kind == "append":
        return text + word
    i = text.find("\n\n", at)  # remove a paragraph break: two paragraphs become one
    return text if i < 0 else text[:i] + " " + text[i + 2 :]


def _check_valid(tokenizer, text: str, spans, settings: ChunkSettings, whole_words: bool) -> None:
    assert spans[0].start == 0 and spans[-1].end == len(text), "chunks cover the whole text"
    assert [s.index for s in spans] == list(range(len(spans)))
    for s in spans:
        assert s.end > s.start
        assert 0 < s.tokens <= settings.tokens
        # Counted by the real tokenizer on the chunk's own text, as the prompt builder will.
        assert len(tokenizer.encode(text[s.start : s.end], add_special_tokens=False)) <= settings.tokens
    for a, b in zip(spans, spans[1:]):
        assert b.start > a.start and b.end >= a.end, "chunks move forward"
        if settings.overlap == 0:
            assert b.start == a.end, "no gap and no overlap"
        elif whole_words:
            # chunk_text too: before a word longer than the overlap the chunks may only touch.
            assert b.start <= a.end, "no gap"
        else:
            assert b.start < a.end, "consecutive chunks overlap"
            shared = len(tokenizer.encode(text[b.start : a.end], add_special_tokens=False))
            # Cutting at word starts may widen the overlap (as chunk_text does), never past a chunk.
            assert shared <= (settings.tokens - 1 if whole_words else settings.overlap)


def _changed_range(old: str, new: str) -> tuple[int, int]:
    """First changed character, and where the unchanged tail starts, in `old`."""
    p = 0
    while p < min(len(old), len(new)) and old[p] == new[p]:
        p += 1
    s = 0
    while s < min(len(old), len(new)) - p and old[-1 - s] == new[-1 - s]:
        s += 1
    return p, len(old) - s


@pytest.mark.parametrize(
    "settings, window",
    [(ChunkSettings(64, 16), None), (ChunkSettings(64, 0), None), (ChunkSettings(96, 24), 48)],
    ids=["overlap", "no-overlap", "small-window"],
)
def test_random_edits_keep_a_valid_chunking_and_far_chunks_unchanged(qwen_tokenizer, settings, window):
    rng = random.Random(7)
    chunker = Chunker(qwen_tokenizer, window=window)
    fitted = settings if window is None else ChunkSettings(window, settings.overlap * window // settings.tokens)
    text = _base_text()
    spans = chunker.chunk("d", text, settings)
    assert len(spans) > 10
    for _ in range(40):
        new = _random_edit(rng, text)
        new_spans = chunker.chunk("d", new, settings)
        _check_valid(qwen_tokenizer, new, new_spans, fitted, whole_words=window is not None)
        changed_from, unchanged_from = _changed_range(text, new)
        delta = len(new) - len(text)
        kept = {(s.start, s.end) for s in new_spans}
        for s in spans:
            if s.end < changed_from:
                assert (s.start, s.end) in kept, "a chunk before the edit keeps its place"
            elif s.start > unchanged_from:
                assert (s.start + delta, s.end + delta) in kept, "a chunk after the edit only moves"
                assert new[s.start + delta : s.end + delta] == text[s.start : s.end]
        text, spans = new, new_spans


def test_an_edit_chunks_as_a_fresh_chunker_would_validly(qwen_tokenizer):
    """A chunker that never saw the old text and one that did both give valid chunkings of the new
    text, and the unchanged text's chunks are identical to chunking it from scratch."""
    settings = ChunkSettings(64, 16)
    text = _base_text()
    chunker = Chunker(qwen_tokenizer)
    assert chunker.chunk("d", text, settings) == chunk_text(qwen_tokenizer, "d", text, settings)
    edited = text.replace("backup", "archive", 1)
    _check_valid(qwen_tokenizer, edited, chunker.chunk("d", edited, settings), settings, whole_words=False)
    # Another document id, or other settings, never reuse this document's chunks.
    assert chunker.chunk("e", edited, settings) == chunk_text(qwen_tokenizer, "e", edited, settings)
    other = ChunkSettings(32, 8)
    assert chunker.chunk("d", edited, other) == chunk_text(qwen_tokenizer, "d", edited, other)


def test_a_one_word_edit_rescores_only_the_chunks_around_it(tiny_scorer):
    """The ranking after an edit takes every far chunk's score from the cache, and every score,
    cached or not, is what the model gives for that chunk of the edited text."""
    text = _base_text()
    ranker = Ranker(tiny_scorer)
    settings = ChunkSettings(64, 16)
    query, instruction = "how long are backups kept", "Find retention rules"
    first = ranker.rank(query, instruction, [Document("d", text)], settings)
    pairs = first.stats.pairs
    assert pairs > 10
    middle = text.index(" ", len(text) // 3)
    edited = text[:middle] + " quarterly" + text[middle:]
    result = ranker.rank(query, instruction, [Document("d", edited)], settings)
    assert result.stats.scored <= 3 and result.stats.cached >= result.stats.pairs - 3
    chunks = result.documents[0].chunks
    texts = [c.chunk.text_of(edited) for c in chunks]
    prompts = tiny_scorer.build_prompts(instruction, query, texts)
    fresh = {}
    for batch in tiny_scorer.score_prompts(prompts):
        fresh.update(batch)
    for i, c in enumerate(chunks):
        assert c.logit == pytest.approx(fresh[i], abs=1e-4), (c.chunk, c.cached)
