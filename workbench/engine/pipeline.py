"""Tokenisation overlapped with the model: documents are chunked and their prompts built on a
background thread, group by group, while the calling thread scores the groups already built.

Why it overlaps for real: chunking and prompt building both spend most of their time in the Rust
tokenizer's batch encode (sample_data cold: 0.27 of 0.34 s of chunking), which releases the GIL,
and a CUDA forward pass leaves the CPU idle while the GPU works. Serially, a run tokenises
everything before the model sees its first pair: on a GPU that is longer than scoring it.

One producer thread, not a chunking thread and a prompt thread: both would use the scorer's one
tokenizer at once, and a call that changes its truncation setting (the offline fallback encodes
the query with truncation on) would then race the other thread's call (a wrong cut, or the
library's "Already borrowed"). The queue to the scorer is bounded: prompts are big, and prompts
built far ahead are work the model cannot use yet.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .scorer import Cancelled, CancelCheck
from .types import ChunkSpan, Document, Prompt

POLL_S = 0.02  # how often a blocked thread looks at the stop flag (cancel latency while waiting)
GROUPS_AHEAD = 2  # groups the producer may hold ready beyond the one being scored
# A prompt's tokens beyond its chunk's: the template (48) and a typical instruction and query.
# Only sizes groups, so an estimate does (chunks know their own token counts, prompts not yet).
PROMPT_OVERHEAD_TOKENS = 64
MIN_GROUP_TOKENS = 4096  # below this a group's fixed costs (shared head, a short last batch) show
MAX_GROUPS_PER_BUDGET = 8
# Chunking ahead stops being "free" after this long: documents the chunker remembers take
# microseconds each (sample_data's 13: 0.1 ms), a cold one milliseconds (sample_data: 300 ms).
CHUNK_AHEAD_S = 0.01

_END = object()


@dataclass
class Group:
    """Consecutive chunks of a run (from `start`), with their prompts and score-cache keys."""

    start: int
    spans: list[ChunkSpan]
    prompts: list[Prompt]
    keys: list[str]


BuildPrompts = Callable[[list[str]], tuple[list[Prompt], list[str]]]


def group_targets(token_budget: int | None) -> Iterator[int]:
    """Prompt tokens per group: one scoring batch's worth first, so the first rows come after
    little tokenising, then doubling to several batches, so later groups still sort lengths over
    enough prompts to batch well and the short last batch of each group is a small share."""
    budget = token_budget or MIN_GROUP_TOKENS
    target, cap = max(MIN_GROUP_TOKENS, budget), max(MIN_GROUP_TOKENS, MAX_GROUPS_PER_BUDGET * budget)
    while True:
        yield target
        target = min(cap, 2 * target)


class Producer:
    """Runs a generator on its own thread and hands its items over through a bounded queue; an
    exception it raises is handed over too, and raised to whoever reads the next item."""

    def __init__(self, items: Iterator, stop: threading.Event, depth: int, name: str):
        self._items = items
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put((item, None)):
                    return
            self._put((_END, None))
        except BaseException as e:  # noqa: BLE001 - re-raised on the consuming thread
            self._put((None, e))
        finally:
            self._items.close()  # a generator stopped mid-way runs its cleanup now, on its thread

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def poll(self, timeout: float):
        """The next item; None if none came within `timeout`; _END after the last one."""
        try:
            item, error = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if error is not None:
            raise error
        return item

    def join(self) -> None:
        self._thread.join()


class PipelinedRun:
    """The groups of one run, chunked and built ahead on a thread. Use as a context manager:
    leaving it stops the thread and waits for it (at most the tokenizer call under way).

    `total`, the run's chunk count, is None until every document is chunked (see _chunked)."""

    def __init__(
        self,
        documents: Sequence[Document],
        chunk: Callable[[Document], list[ChunkSpan]],
        build: BuildPrompts,
        token_budget: int | None,
    ):
        self.total: int | None = None
        self.chunked = 0  # chunks known so far
        self._stop = threading.Event()
        self._groups = Producer(self._produce(documents, chunk, build, group_targets(token_budget)),
                                self._stop, GROUPS_AHEAD, "rank-prompts")

    def _produce(self, documents, chunk, build: BuildPrompts, targets: Iterator[int]) -> Iterator[Group]:
        start, spans, texts, tokens, target = 0, [], [], 0, next(targets)
        for doc, doc_spans in self._chunked(documents, chunk):
            for span in doc_spans:
                spans.append(span)
                texts.append(span.text_of(doc.text))
                tokens += span.tokens + PROMPT_OVERHEAD_TOKENS
                if tokens >= target:
                    yield Group(start, spans, *build(texts))
                    start, spans, texts, tokens, target = start + len(spans), [], [], 0, next(targets)
        if spans and not self._stop.is_set():
            yield Group(start, spans, *build(texts))

    def _chunked(self, documents: Sequence[Document], chunk) -> Iterator[tuple[Document, list[ChunkSpan]]]:
        """Each document with its chunks. Documents are chunked ahead while that is cheap: the app
        has chunked them already (for the view), so they come from the chunker's memory and the
        total is known at once, before any prompt is built. Where chunking costs real time (a
        corpus batch), it is interleaved with prompt building, so the first groups need not wait
        for every document (progress reports wait for the total instead)."""
        ahead, began = [], time.perf_counter()
        for doc in documents:
            ahead.append((doc, self._chunk(chunk, doc)))
            if time.perf_counter() - began > CHUNK_AHEAD_S:
                break
        if len(ahead) == len(documents):
            self.total = self.chunked
        yield from ahead
        for doc in documents[len(ahead):]:
            if self._stop.is_set():
                return
            yield doc, self._chunk(chunk, doc)
        self.total = self.chunked

    def _chunk(self, chunk, doc: Document) -> list[ChunkSpan]:
        spans = chunk(doc)
        self.chunked += len(spans)
        return spans

    def groups(self, should_cancel: CancelCheck | None, waiting: Callable[[], None]) -> Iterator[Group]:
        """The groups in order. While none is ready, `waiting` runs and the cancel check is asked
        (Cancelled is raised), so a slow tokenizer never delays a cancel or a due progress report."""
        while True:
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            item = self._groups.poll(POLL_S)
            if item is _END:
                return
            if item is None:
                waiting()
            else:
                yield item

    def __enter__(self) -> PipelinedRun:
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._groups.join()


class SerialRun:
    """The same interface for the serial path: one group, everything chunked and built first."""

    def __init__(self, documents: Sequence[Document], chunk, build: BuildPrompts):
        spans: list[ChunkSpan] = []
        texts: list[str] = []
        for doc in documents:
            for span in chunk(doc):
                spans.append(span)
                texts.append(span.text_of(doc.text))
        self._group = Group(0, spans, *build(texts))
        self.total: int | None = len(spans)
        self.chunked = len(spans)

    def groups(self, should_cancel: CancelCheck | None, waiting: Callable[[], None]) -> Iterator[Group]:
        yield self._group

    def __enter__(self) -> SerialRun:
        return self

    def __exit__(self, *exc) -> None:
        pass
