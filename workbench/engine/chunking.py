"""Splitting long documents into token-sized chunks with character offsets.

Chunks are windows of `tokens` tokens stepping by `tokens - overlap`; each window's end is moved
back to a paragraph or sentence end when one lies close, so chunks read naturally and the heat strip
lines up with the text's own structure. Offsets refer to the original text, so the UI can show a
chunk in place.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from .types import ChunkSettings, ChunkSpan

# How far back (as a share of the chunk) a window end may move to reach a natural boundary.
SNAP_WINDOW = 0.2

# Boundary strength: paragraph break > sentence end (Latin or CJK punctuation) > line break.
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_SENTENCE = re.compile(r"[.!?][\"')\]]*(?=\s)|[。！？；][」』”）]*")
_LINE = re.compile(r"\n")


def _boundaries(text: str) -> list[list[int]]:
    """Character positions just after each boundary, one sorted list per strength."""
    return [
        [m.end() for m in _PARAGRAPH.finditer(text)],
        [m.end() for m in _SENTENCE.finditer(text)],
        [m.end() for m in _LINE.finditer(text)],
    ]


def _tokenize(tokenizer, text: str, whole_words: bool) -> tuple[list[int], list[int] | None]:
    """Each token's start offset and, when asked, the indices of tokens that begin a word."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False)
    starts = [o[0] for o in enc["offset_mapping"]]
    if not whole_words:
        return starts, None
    words = enc.word_ids()
    return starts, [i for i, w in enumerate(words) if i == 0 or w != words[i - 1]]


def _back_to_word_start(word_starts: list[int] | None, tok: int, floor: int) -> int:
    """The last word start in (floor, tok], or tok itself when none (a word longer than a chunk)."""
    if word_starts is None:
        return tok
    i = bisect.bisect_right(word_starts, tok) - 1
    return word_starts[i] if i >= 0 and word_starts[i] > floor else tok


def chunk_text(
    tokenizer, doc_id: str, text: str, settings: ChunkSettings, whole_words: bool = False
) -> list[ChunkSpan]:
    """Chunk one document. With chunking off the whole text is one chunk (truncated later, like
    the official code does).

    Ends are character positions, not token edges: byte-level BPE often glues punctuation to the
    next word ("。红茶" can be one token), and a chunk should still end right after the "。".
    The chunk text is tokenised afresh when its prompt is built, so nothing is lost by that.
    `whole_words` cuts only where a word starts: the chunk text then tokenises again to exactly
    the tokens counted here (cut mid-word, its first piece can become several), which a model
    with a small window needs.
    """
    starts, word_starts = _tokenize(tokenizer, text, whole_words)
    n = len(starts)
    if not settings.enabled or n <= settings.tokens:
        return [ChunkSpan(doc_id, 0, 0, len(text), n)]

    bounds = _boundaries(text)
    snap_tokens = max(1, int(settings.tokens * SNAP_WINDOW))

    spans: list[ChunkSpan] = []
    start_tok, start_char = 0, 0
    while True:
        end_tok = start_tok + settings.tokens
        if end_tok >= n:
            spans.append(ChunkSpan(doc_id, len(spans), start_char, len(text), n - start_tok))
            return spans
        end_tok = _back_to_word_start(word_starts, end_tok, start_tok)
        end_char = starts[end_tok]
        boundary = _strongest(bounds, starts[max(start_tok + 1, end_tok - snap_tokens)], end_char, start_char)
        if boundary is not None:
            end_char = boundary
            end_tok = max(start_tok + 1, bisect.bisect_left(starts, boundary, start_tok + 1, end_tok + 1))
        spans.append(ChunkSpan(doc_id, len(spans), start_char, end_char, end_tok - start_tok))

        if settings.overlap == 0:
            start_tok, start_char = end_tok, end_char
            continue
        # Step back by the overlap, then forward to a sentence start inside it if there is one.
        start_tok = _back_to_word_start(word_starts, max(end_tok - settings.overlap, start_tok + 1), start_tok)
        next_char = starts[start_tok]
        sentence = _first_after(bounds[:2], next_char, end_char)
        if sentence is not None:
            next_char = sentence
            start_tok = max(start_tok, bisect.bisect_right(starts, sentence) - 1)
        if next_char <= start_char:  # split multibyte characters share a start offset
            next_char = start_char + 1
        start_char = next_char


def _strongest(bounds: list[list[int]], lo: int, hi: int, floor: int) -> int | None:
    """The last boundary in (floor, hi] and >= lo, trying the strongest kind first."""
    for positions in bounds:
        i = bisect.bisect_right(positions, hi) - 1
        if i >= 0 and positions[i] >= lo and positions[i] > floor:
            return positions[i]
    return None


def _first_after(bounds: list[list[int]], lo: int, hi: int) -> int | None:
    """The earliest boundary in [lo, hi) of any of the given kinds."""
    found = []
    for positions in bounds:
        i = bisect.bisect_left(positions, lo)
        if i < len(positions) and positions[i] < hi:
            found.append(positions[i])
    return min(found) if found else None


def fit_to_window(settings: ChunkSettings, window: int | None) -> ChunkSettings:
    """Settings whose chunks fit `window` tokens, the overlap shrunk in proportion. Chunking off
    stays off: the whole document is then cut to fit, and marked truncated, as the user asked."""
    if window is None or not settings.enabled or settings.tokens <= window:
        return settings
    return ChunkSettings(tokens=window, overlap=settings.overlap * window // settings.tokens)


class Chunker:
    """Chunks documents with one tokenizer, remembering results (typing re-chunks nothing).

    `window` is how many text tokens the model sees in one prompt, given for a scorer whose window
    is smaller than chunk sizes people pick (the offline fallback sees 254): chunks are then kept
    inside it and cut at word starts, so no chunk is cut again when it is scored."""

    def __init__(self, tokenizer, window: int | None = None, cache_size: int = 512):
        self.tokenizer = tokenizer
        self.window = window
        self._chunk = lru_cache(maxsize=cache_size)(self._chunk_uncached)

    def _chunk_uncached(self, doc_id: str, text: str, settings: ChunkSettings) -> tuple[ChunkSpan, ...]:
        fitted = fit_to_window(settings, self.window)
        return tuple(chunk_text(self.tokenizer, doc_id, text, fitted, whole_words=self.window is not None))

    def chunk(self, doc_id: str, text: str, settings: ChunkSettings) -> list[ChunkSpan]:
        return list(self._chunk(doc_id, text, settings))
