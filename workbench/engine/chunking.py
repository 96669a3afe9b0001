"""Splitting long documents into token-sized chunks with character offsets.

Chunks are windows of `tokens` tokens stepping by `tokens - overlap`; each window's end is moved
back to a paragraph or sentence end when one lies close, so chunks read naturally and the heat strip
lines up with the text's own structure. Offsets refer to the original text, so the UI can show a
chunk in place. An edited document is re-chunked only around the edit (rechunk), so typing keeps
the other chunks, and with them their prompts and scores.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

from .types import ChunkSettings, ChunkSpan

# How far back (as a share of the chunk) a window end may move to reach a natural boundary.
SNAP_WINDOW = 0.2

# Boundary strength: paragraph break > sentence end (Latin or CJK punctuation) > line break.
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_SENTENCE = re.compile(r"[.!?][\"')\]]*(?=\s)|[。！？；][」』”）]*")
_LINE = re.compile(r"\n")


def _boundaries(text: str, lo: int, hi: int) -> list[list[int]]:
    """Character positions just after each boundary in text[lo:hi], one sorted list per strength."""
    return [[m.end() for m in kind.finditer(text, lo, hi)] for kind in (_PARAGRAPH, _SENTENCE, _LINE)]


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
    if not settings.enabled:
        n = len(_tokenize(tokenizer, text, False)[0])
        return [ChunkSpan(doc_id, 0, 0, len(text), n)]
    return chunk_range(tokenizer, doc_id, text, 0, len(text), settings, whole_words)


def chunk_range(
    tokenizer, doc_id: str, text: str, lo: int, hi: int, settings: ChunkSettings, whole_words: bool = False
) -> list[ChunkSpan]:
    """Chunk characters [lo, hi) of `text` as if they were a whole document: the first chunk
    starts at `lo`, the last ends at `hi`. Only that stretch is tokenised (live edits re-chunk
    just the part around the change); spans are in `text`'s offsets, indexed from 0."""
    starts, word_starts = _tokenize(tokenizer, text[lo:hi], whole_words)
    starts = [lo + s for s in starts]
    n = len(starts)
    if n <= settings.tokens:
        return [ChunkSpan(doc_id, 0, lo, hi, n)]

    bounds = _boundaries(text, lo, hi)
    snap_tokens = max(1, int(settings.tokens * SNAP_WINDOW))

    spans: list[ChunkSpan] = []
    start_tok, start_char = 0, lo
    while True:
        end_tok = start_tok + settings.tokens
        if end_tok >= n:
            spans.append(ChunkSpan(doc_id, len(spans), start_char, hi, n - start_tok))
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


def rechunk(
    tokenizer,
    old_text: str,
    old_spans: Sequence[ChunkSpan],
    text: str,
    settings: ChunkSettings,
    whole_words: bool = False,
) -> list[ChunkSpan] | None:
    """Chunks of `text`, an edit of `old_text`, that keep `old_spans` away from the change.

    Spans ending before the changed characters stay as they are, spans starting after them move by
    the edit's length change, and only the stretch from the first span touching the change to the
    last one is tokenised and chunked again. Both joins keep the overlap the old chunking had there,
    so the result holds every invariant of chunk_text (cover, order, size, overlap) while the text
    of every chunk away from the edit, and so its cached prompt and score, stays the same.
    None when the change is too large for this to save work (chunk the whole text instead).
    """
    if not settings.enabled or len(old_spans) < 2:
        return None
    prefix = _common_prefix(old_text, text)
    suffix = _common_suffix(old_text, text, min(len(old_text), len(text)) - prefix)
    delta = len(text) - len(old_text)
    # Replace spans first .. last-1: those not ending before the change nor starting after it.
    # (Spans are few: plain scans do.)
    first = next((i for i, s in enumerate(old_spans) if s.end > prefix), len(old_spans) - 1)
    unchanged_from = len(old_text) - suffix
    last = next((i for i in range(first + 1, len(old_spans)) if old_spans[i].start >= unchanged_from), len(old_spans))
    doc_id = old_spans[0].doc_id
    while True:
        lo, hi = old_spans[first].start, old_spans[last - 1].end + delta
        if 2 * (hi - lo) > len(text):
            return None
        middle = chunk_range(tokenizer, doc_id, text, lo, hi, settings, whole_words)
        if last == len(old_spans):
            break
        # The stretch's tail can restart where the kept chunk after it starts (same sentence):
        # it is then inside that chunk, and the one before it already overlaps that chunk as the
        # settings say. A tail starting later would widen that overlap: take in one more chunk.
        kept_start = old_spans[last].start + delta
        while len(middle) > 1 and middle[-1].start == kept_start:
            middle.pop()
        if middle[-1].start < kept_start:
            break
        last += 1
    spans = list(old_spans[:first])
    # Plain constructor calls: dataclasses.replace costs several times more, on every key press.
    spans += [ChunkSpan(doc_id, first + i, s.start, s.end, s.tokens) for i, s in enumerate(middle)]
    base = len(spans) - last
    spans += [
        ChunkSpan(doc_id, base + i, s.start + delta, s.end + delta, s.tokens)
        for i, s in enumerate(old_spans[last:], last)
    ]
    return spans


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, by halving (each slice compare runs in C)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # a[:lo] == b[:lo]; the answer is at most hi
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix, at most `limit`."""
    lo, hi, na, nb = 0, limit, len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[na - mid : na - lo] == b[nb - mid : nb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class Chunker:
    """Chunks documents with one tokenizer, remembering the last text and chunks of each document.

    The same text again re-chunks nothing; an edited text is re-chunked only around the change
    (see rechunk), so typing in a long document keeps the other chunks, their prompts and scores.

    `window` is how many text tokens the model sees in one prompt, given for a scorer whose window
    is smaller than chunk sizes people pick (the offline fallback sees 254): chunks are then kept
    inside it and cut at word starts, so no chunk is cut again when it is scored."""

    def __init__(self, tokenizer, window: int | None = None, cache_size: int = 512):
        self.tokenizer = tokenizer
        self.window = window
        self.cache_size = cache_size
        self._last: OrderedDict[tuple[str, ChunkSettings], tuple[str, tuple[ChunkSpan, ...]]] = OrderedDict()
        self._lock = threading.Lock()  # a UI thread may ask for chunks while a worker ranks

    def chunk(self, doc_id: str, text: str, settings: ChunkSettings) -> list[ChunkSpan]:
        """The document's chunks, re-using what the last chunking of this document id knows."""
        fitted = fit_to_window(settings, self.window)
        key = (doc_id, fitted)
        whole_words = self.window is not None
        with self._lock:
            last = self._last.get(key)
            if last is not None and last[0] == text:
                self._last.move_to_end(key)
                return list(last[1])
            spans = None
            if last is not None:
                spans = rechunk(self.tokenizer, last[0], last[1], text, fitted, whole_words)
            if spans is None:
                spans = chunk_text(self.tokenizer, doc_id, text, fitted, whole_words)
            self._last[key] = (text, tuple(spans))
            self._last.move_to_end(key)
            while len(self._last) > self.cache_size:
                self._last.popitem(last=False)
        return list(spans)
