"""One ranking run: chunk documents, build prompts, take what the cache knows, score the rest
batch by batch, aggregate per document. Used alike by the CLI, the UI and the benchmarks."""

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

    def forget_prompts(self) -> None:
        """Drop the prompts built so far and what the scorer remembers of their texts. The app
        re-ranks the same texts and gains from both; a corpus job never sees a text twice, and
        keeping them would grow with the corpus (~70 MB per 20,000 prompts)."""
        self._prompts.clear()
        self.scorer.forget_texts()

    def chunk(self, document: Document, settings: ChunkSettings) -> list[ChunkSpan]:
        return self.chunker.chunk(document.id, document.text, settings)

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
        spans: list[ChunkSpan] = []
        texts: list[str] = []
        for doc in documents:
            for span in self.chunk(doc, chunking):
                spans.append(span)
                texts.append(span.text_of(doc.text))
        prompts, keys = self._build_prompts(instruction, query, texts)
        stats = RunStats(pairs=len(prompts))
        scores: list[ChunkScore | None] = [None] * len(prompts)

        def report(indices_logits: list[tuple[int, float]], cached: bool) -> None:
            new = [self._chunk_score(spans[i], prompts[i], logit, cached) for i, logit in indices_logits]
            for (i, _), s in zip(indices_logits, new):
                scores[i] = s
            if stats.first_result_s is None and new:
                stats.first_result_s = time.perf_counter() - started
            if on_progress is not None and new:
                on_progress(RankProgress(new, sum(s is not None for s in scores), len(scores)))

        fingerprint = self.scorer.info.fingerprint()
        known = self.cache.get_many(fingerprint, list(dict.fromkeys(keys)))
        hits = [(i, known[k]) for i, k in enumerate(keys) if k in known]
        stats.cached = len(hits)
        report(hits, cached=True)

        todo = [i for i, k in enumerate(keys) if k not in known]
        cancelled = False
        try:
            for batch in self.scorer.score_prompts([prompts[i] for i in todo], should_cancel):
                done = [(todo[j], logit) for j, logit in batch]
                # A non-finite logit (fp16 overflow, say) is a failure, not a result: never
                # cached, so the next run scores the pair again (and SQLite could not store it).
                self.cache.put_many(fingerprint, {keys[i]: logit for i, logit in done if math.isfinite(logit)})
                stats.scored += len(done)
                stats.prompt_tokens += sum(prompts[i].tokens for i, _ in done)
                report(done, cached=False)
        except Cancelled:
            cancelled = True
        if stats.scored:
            stats.model_tokens = self.scorer.computed_tokens([prompts[i] for i in todo if scores[i] is not None])
        stats.latency_s = time.perf_counter() - started
        return RankResult(
            query=query,
            instruction=instruction,
            model=self.scorer.info,
            chunking=chunking,
            aggregate=aggregate,
            top_k=top_k,
            documents=rank_documents(documents, [s for s in scores if s is not None], aggregate, top_k),
            stats=stats,
            cancelled=cancelled,
        )

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
