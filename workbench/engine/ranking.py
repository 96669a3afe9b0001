"""One ranking run: chunk documents, build prompts, take what the cache knows, score the rest
batch by batch, aggregate per document. Used alike by the CLI, the UI and the benchmarks.

Serially, everything is chunked and built first, then scored in one call. Pipelined (pipeline.py),
chunking and prompt building run on threads and hand over groups, each looked up and scored with
its own call while the next is built; the results are the same."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .aggregate import aggregate as aggregate_scores
from .cache import MemoryScoreCache
from .chunking import Chunker
from .ordering import rank_documents
from .pipeline import Group, PipelinedRun, SerialRun
from .prompt import DEFAULT_INSTRUCTION
from .scorer import CancelCheck, Cancelled, Scorer, ScoreCache, prompt_key
from .types import (
    DEFAULT_AGGREGATE,
    DEFAULT_TOP_K,
    ChunkScore,
    ChunkSettings,
    ChunkSpan,
    Document,
    Prompt,
    RankResult,
    RunStats,
)


PROMPT_MEMORY = 20_000  # prompts kept: a few runs over a large document set


class RankingInputError(ValueError):
    """The inputs cannot be ranked (empty query, no documents, duplicate ids)."""


@dataclass
class RankProgress:
    """Sent after each batch: the chunk scores just produced and how far the run is."""

    new: list[ChunkScore]
    done: int
    total: int


@dataclass(frozen=True)
class PromptView:
    """What the model saw for one chunk (for the inspection view)."""

    text: str
    tokens: int
    truncated: bool
    kept_chars: int | None  # characters of the chunk that survived truncation


class Ranker:
    def __init__(self, scorer: Scorer, cache: ScoreCache | None = None):
        self.scorer = scorer
        self.cache = cache if cache is not None else MemoryScoreCache()
        self.chunker = Chunker(scorer.tokenizer, window=scorer.max_chunk_tokens)
        # Prompts already built, with their cache keys, by (instruction, query, text): re-showing a
        # ranking or editing one document must not re-tokenise nor re-hash every chunk.
        self._prompts: OrderedDict[tuple[str, str, str], tuple[Prompt, str]] = OrderedDict()
        # Chunk and build prompts on threads while scoring (pipeline.py): True, False, or None =
        # on for a CUDA scorer, where tokenising everything first takes longer than the model.
        self.pipeline: bool | None = None

    def forget_prompts(self) -> None:
        """Drop the prompts built so far and what the scorer remembers of their texts. The app
        re-ranks the same texts and gains from both; a corpus job never sees a text twice, and
        keeping them would grow with the corpus (~70 MB per 20,000 prompts)."""
        self._prompts.clear()
        self.scorer.forget_texts()

    def chunk(self, document: Document, settings: ChunkSettings) -> list[ChunkSpan]:
        return self.chunker.chunk(document.id, document.text, settings)

    def prepare(self, document: Document, settings: ChunkSettings, should_stop: CancelCheck | None = None) -> list[str]:
        """Chunk `document` and do for its chunks what the scorer can do before a query
        (Scorer.prepare_texts), ahead of a run that needs them. A first run over documents
        prepared this way starts scoring at once: in the app, with the tiny reranker on
        sample_data, the first query's first rows came 138-180 ms after its last key instead of
        942-1,252 ms (benchmarks/ui_latency.py; the first pause is shorter too, see pacing.py).
        Returns the chunks' texts."""
        texts = [span.text_of(document.text) for span in self.chunk(document, settings)]
        self.scorer.prepare_texts(texts, should_stop)
        return texts

    def time_a_pass(self, chunk_text: str, should_stop: CancelCheck | None = None) -> float | None:
        """Seconds the model takes to score `chunk_text` in a pass of its own, under the default
        instruction and a stand-in query; None when `should_stop` stopped it (a rerank server
        that does not answer is retried for minutes). The score is not kept. Also a warm-up: a
        model's first pass pays for its kernels' setup (on a GPU, the libraries'
        initialisation), and a run after this does not."""
        prompts = self.scorer.build_prompts(DEFAULT_INSTRUCTION, "warm-up", [chunk_text])
        started = time.perf_counter()
        try:
            scored = sum(len(batch) for batch in self.scorer.score_prompts(prompts, should_stop))
        except Cancelled:
            return None
        return time.perf_counter() - started if scored else None

    def explain(self, instruction: str, query: str, chunk_text: str) -> PromptView:
        prompt = self.scorer.build_prompts(instruction, query, [chunk_text])[0]
        return PromptView(self.scorer.decode(prompt), prompt.tokens, prompt.truncated, prompt.kept_chars)

    def rank(
        self,
        query: str,
        instruction: str,
        documents: Sequence[Document],
        chunking: ChunkSettings = ChunkSettings(),
        aggregate: str = DEFAULT_AGGREGATE,
        top_k: int = DEFAULT_TOP_K,
        should_cancel: CancelCheck | None = None,
        on_progress: Callable[[RankProgress], None] | None = None,
    ) -> RankResult:
        """Rank documents by their chunks. Cancelling returns the partial result, marked so."""
        _check_inputs(query, documents)
        aggregate_scores([], aggregate)  # reject an unknown aggregate before any work
        started = time.perf_counter()

        def chunk(doc: Document) -> list[ChunkSpan]:
            return self.chunk(doc, chunking)

        def build(texts: list[str]) -> tuple[list[Prompt], list[str]]:
            return self._build_prompts(instruction, query, texts)

        run = _Run(self, started, on_progress)
        if self.pipelined():
            source = PipelinedRun(documents, chunk, build, getattr(self.scorer, "token_budget", None))
        else:
            source = SerialRun(documents, chunk, build)
        run.source = source
        cancelled = False
        with source:  # leaving it stops and joins the pipeline's threads, whatever happened
            try:
                for group in source.groups(should_cancel, run.flush):
                    self._score_group(group, run, should_cancel)
            except Cancelled:
                cancelled = True
        run.flush()
        stats = run.stats
        stats.pairs = source.total if source.total is not None else source.chunked
        stats.latency_s = time.perf_counter() - started
        return RankResult(
            query=query,
            instruction=instruction,
            model=self.scorer.info,
            chunking=chunking,
            aggregate=aggregate,
            top_k=top_k,
            documents=rank_documents(documents, [s for s in run.scores if s is not None], aggregate, top_k),
            stats=stats,
            cancelled=cancelled,
        )

    def pipelined(self) -> bool:
        """Whether rank() tokenises on threads while it scores (see `pipeline`)."""
        if self.pipeline is not None:
            return self.pipeline
        device = getattr(self.scorer, "device", None)
        return getattr(device, "type", None) == "cuda"

    def _score_group(self, group: Group, run: _Run, should_cancel: CancelCheck | None) -> None:
        """Take what this run and the cache know of one group, score the rest with one call.

        A prompt met more than once (boilerplate repeated across documents, a section copied into
        another, texts cut to the same window) is sent to the model once: its copies take that
        score as it arrives, and a copy in a later group takes it from this run. They count as
        scored by this run, not cached, so "cached" means the same whether the run came in one
        group or many."""
        run.add(group)
        places: dict[str, list[int]] = {}  # each key's places in the group, in order
        for j, k in enumerate(group.keys):
            places.setdefault(k, []).append(j)

        def placed(logits) -> list[tuple[int, float]]:  # (key, logit) -> every place of the key
            return [(group.start + j, x) for k, x in logits for j in places[k]]

        earlier = placed((k, run.fresh[k]) for k in places if k in run.fresh)
        run.stats.scored += len(earlier)
        run.report(earlier, cached=False)
        lookup = [k for k in places if k not in run.fresh]
        known = self.cache.get_many(run.fingerprint, lookup) if lookup else {}
        hits = placed(known.items())
        run.stats.cached += len(hits)
        run.report(hits, cached=True)
        todo = [places[k][0] for k in lookup if k not in known]  # each new key once, first place
        if not todo:
            return
        scored: set[int] = set()
        try:
            for batch in self.scorer.score_prompts([group.prompts[j] for j in todo], should_cancel):
                done = [(todo[b], logit) for b, logit in batch]
                # A non-finite logit (fp16 overflow, say) is a failure, not a result: never
                # cached, so the next run scores the pair again (and SQLite could not store it).
                self.cache.put_many(run.fingerprint, {group.keys[j]: x for j, x in done if math.isfinite(x)})
                run.fresh.update((group.keys[j], x) for j, x in done)
                scored.update(j for j, _ in done)
                run.stats.prompt_tokens += sum(group.prompts[j].tokens for j, _ in done)
                new = placed((group.keys[j], x) for j, x in done)
                run.stats.scored += len(new)
                run.report(new, cached=False)
        finally:
            # Per scoring call: the shared head counts once per call, as it is computed.
            if scored:
                run.stats.model_tokens += self.scorer.computed_tokens([group.prompts[j] for j in todo if j in scored])

    def _build_prompts(self, instruction: str, query: str, texts: list[str]) -> tuple[list[Prompt], list[str]]:
        """Each text's prompt and score-cache key, building only those not built before."""
        memo = self._prompts
        names = [(instruction, query, t) for t in texts]
        missing = list(dict.fromkeys(k for k in names if k not in memo))
        if missing:
            built = self.scorer.build_prompts(instruction, query, [k[2] for k in missing])
            memo.update((k, (p, prompt_key(p))) for k, p in zip(missing, built))
        prompts, keys = [], []
        for k in names:
            memo.move_to_end(k)
            prompt, key = memo[k]
            prompts.append(prompt)
            keys.append(key)
        while len(memo) > PROMPT_MEMORY:
            memo.popitem(last=False)
        return prompts, keys

    def _chunk_score(self, span: ChunkSpan, prompt: Prompt, logit: float, cached: bool) -> ChunkScore:
        return ChunkScore(
            doc_id=span.doc_id,
            chunk=span,
            logit=logit,
            score=self.scorer.probability(logit),
            prompt_tokens=prompt.tokens,
            truncated=prompt.truncated,
            cached=cached,
        )


class _Run:
    """One run's scores as they arrive, its stats, and the progress reports due. A report waits
    while the run's chunk count is unknown (the pipeline still chunking): a progress bar's total
    never moves, and the wait is short, since chunking runs ahead of everything else."""

    def __init__(self, ranker: Ranker, started: float, on_progress: Callable[[RankProgress], None] | None):
        self.ranker, self.started, self.on_progress = ranker, started, on_progress
        self.source: PipelinedRun | SerialRun | None = None  # set once the run's chunks are coming
        self.fingerprint = ranker.scorer.info.fingerprint()
        self.stats = RunStats()
        self.spans: list[ChunkSpan] = []
        self.prompts: list[Prompt] = []
        self.scores: list[ChunkScore | None] = []
        self.fresh: dict[str, float] = {}  # score-cache key: its logit, scored by this run
        self.done = 0
        self.pending: list[ChunkScore] = []

    def add(self, group: Group) -> None:
        self.spans += group.spans
        self.prompts += group.prompts
        self.scores += [None] * len(group.spans)

    def report(self, indices_logits: list[tuple[int, float]], cached: bool) -> None:
        new = [self.ranker._chunk_score(self.spans[i], self.prompts[i], x, cached) for i, x in indices_logits]
        for (i, _), s in zip(indices_logits, new):
            self.scores[i] = s
        self.done += len(new)
        self.pending += new
        self.flush()

    def flush(self) -> None:
        total = self.source.total if self.source is not None else None
        if not self.pending or total is None:
            return
        if self.stats.first_result_s is None:
            self.stats.first_result_s = time.perf_counter() - self.started
        if self.on_progress is not None:
            self.on_progress(RankProgress(self.pending, self.done, total))
        self.pending = []


def _check_inputs(query: str, documents: Sequence[Document]) -> None:
    if not query.strip():
        raise RankingInputError("the query is empty: type what you are searching for")
    if not documents:
        raise RankingInputError("there are no documents to rank")
    seen: set[str] = set()
    for d in documents:
        if d.id in seen:
            raise RankingInputError(f"two documents share the id {d.id!r}")
        seen.add(d.id)
