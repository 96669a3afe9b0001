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


def _token_offsets(tokenizer, text: str) -> list[tuple[int, int]]:
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False)
    return [tuple(o) for o in enc["offset_mapping"]]


def chunk_text(tokenizer, doc_id: str, text: str, settings: ChunkSettings) -> list[ChunkSpan]:
    """Chunk one document. With chunking off the whole text is one chunk (truncated later, like
    the official code does).

    Ends are character positions, not token edges: byte-level BPE often glues punctuation to the
    next word ("。红茶" can be one token), and a chunk should still end right after the "。".
    The chunk text is tokenised afresh when its prompt is built, so nothing is lost by that.
    """
    offsets = _token_offsets(tokenizer, text)
    n = len(offsets)
    if not settings.enabled or n <= settings.tokens:
        return [ChunkSpan(doc_id, 0, 0, len(text), n)]

    starts = [o[0] for o in offsets]
    bounds = _boundaries(text)
    snap_tokens = max(1, int(settings.tokens * SNAP_WINDOW))

    spans: list[ChunkSpan] = []
    start_tok, start_char = 0, 0
    while True:
        end_tok = start_tok + settings.tokens
        if end_tok >= n:
            spans.append(ChunkSpan(doc_id, len(spans), start_char, len(text), n - start_tok))
            return spans
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
        start_tok = max(end_tok - settings.overlap, start_tok + 1)
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


class Chunker:
    """Chunks documents with one tokenizer, remembering results (typing re-chunks nothing)."""

    def __init__(self, tokenizer, cache_size: int = 512):
        self.tokenizer = tokenizer
        self._chunk = lru_cache(maxsize=cache_size)(self._chunk_uncached)

    def _chunk_uncached(self, doc_id: str, text: str, settings: ChunkSettings) -> tuple[ChunkSpan, ...]:
        return tuple(chunk_text(self.tokenizer, doc_id, text, settings))

    def chunk(self, doc_id: str, text: str, settings: ChunkSettings) -> list[ChunkSpan]:
        return list(self._chunk(doc_id, text, settings))
