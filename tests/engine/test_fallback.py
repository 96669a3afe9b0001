"""The offline fallback (all-MiniLM-L6-v2) chunks by its own tokenizer and within its own window:
long unbroken text is read, not turned into one unknown token; no chunk is cut again when scored;
text the model cannot see is marked truncated, never silently dropped."""

from __future__ import annotations

import random

import pytest

from workbench.engine.fallback import MAX_LENGTH, EmbeddingFallback
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document

WINDOW = MAX_LENGTH - 2  # [CLS] and [SEP] take two of the model's 256 positions


@pytest.fixture(scope="module")
def fallback() -> EmbeddingFallback:
    return EmbeddingFallback()  # from the installed package: offline, a few seconds on a CPU


@pytest.fixture
def ranker(fallback) -> Ranker:
    return Ranker(fallback)


def word_limit(fallback) -> int:
    """WordPiece's longest word: anything longer was one [UNK] (100 for this model)."""
    return fallback.tokenizer.backend_tokenizer.model.max_input_chars_per_word


def long_words_text(n_words: int = 3000) -> str:
    """Prose-like text without sentence ends (no boundary to snap to, so chunk ends fall inside
    runs of long words that WordPiece splits into several pieces)."""
    rng = random.Random(7)
    vocabulary = ["internationalization", "counterrevolutionaries", "electroencephalography", "tide",
                  "photosynthesis", "the", "backup", "key", "rotation", "uncharacteristically", "moon"]
    return " ".join(rng.choice(vocabulary) for _ in range(n_words))


def check_covered(text: str, chunks) -> None:
    """In document order, each chunk starts after the previous one and reaches at least its end."""
    spans = [c.chunk for c in chunks]
    assert spans[0].start == 0 and spans[-1].end == len(text)
    for a, b in zip(spans, spans[1:]):
        assert a.start < b.start <= a.end, (a, b)


def test_a_two_million_character_line_without_spaces_is_read_in_chunks_that_fit(ranker, fallback):
    # A repeating pattern keeps scoring quick (identical chunks are embedded once); chunking and
    # prompt building still run over all 2,000,000 characters.
    line = "abcdefghij" * 200_000
    result = ranker.rank("the letters of the alphabet", "", [Document("line.txt", line)])
    chunks = result.documents[0].chunks
    check_covered(line, chunks)
    # the model reads the line: no token stands for more than WordPiece's longest word
    assert all(len(c.chunk.text_of(line)) <= word_limit(fallback) * c.chunk.tokens for c in chunks)
    assert all(c.chunk.tokens <= WINDOW for c in chunks)
    assert not any(c.truncated for c in chunks)


def test_chunks_of_a_long_text_fit_the_window_so_nothing_is_cut(ranker, fallback):
    text = long_words_text()
    result = ranker.rank("key rotation", "", [Document("long.txt", text)], chunking=ChunkSettings(256, 32))
    chunks = result.documents[0].chunks
    assert len(chunks) > 10
    check_covered(text, chunks)
    for c in chunks:
        assert c.chunk.tokens <= WINDOW
        seen = fallback.tokenizer(c.chunk.text_of(text))["input_ids"]  # tokenised as when scored
        assert len(seen) <= MAX_LENGTH and not c.truncated, (c.chunk, len(seen))


def test_a_whole_document_is_marked_cut_where_the_window_ends(ranker):
    text = long_words_text()
    (chunk,) = ranker.rank("key rotation", "", [Document("long.txt", text)], chunking=ChunkSettings(0)).documents[0].chunks
    assert chunk.truncated
    view = ranker.explain("", "key rotation", text)
    assert view.truncated and 0 < view.kept_chars < len(text)


def test_text_the_model_cannot_see_is_marked_not_scored_as_if_read(ranker):
    invisible = "\u200b" * 300  # zero-width spaces: the tokenizer drops them all
    result = ranker.rank("anything", "", [Document("blank.txt", invisible), Document("real.txt", "The moon moves the tides.")])
    by_id = {d.doc_id: d.chunks for d in result.documents}
    (blank,) = by_id["blank.txt"]
    assert blank.truncated
    assert ranker.explain("", "anything", invisible).kept_chars == 0
    assert not any(c.truncated for c in by_id["real.txt"])


def test_tokens_per_second_counts_only_what_was_embedded():
    """Chunk embeddings are kept: a second query embeds only itself, and the rate says so."""
    from workbench.engine.fallback import EmbeddingFallback
    from workbench.engine.ranking import Ranker
    from workbench.engine.types import Document

    ranker = Ranker(EmbeddingFallback())
    docs = [Document("a", "Backups are kept for thirty days. " * 20), Document("b", "Espresso needs a fine grind. " * 20)]
    first = ranker.rank("how long are backups kept", "", docs).stats
    second = ranker.rank("espresso grind size", "", docs).stats
    assert first.model_tokens > 100 and first.model_tokens <= first.prompt_tokens
    query_tokens = len(ranker.scorer.tokenizer.encode("espresso grind size"))
    assert second.model_tokens == query_tokens < second.prompt_tokens
