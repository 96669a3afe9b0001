"""A corpus-scale batch job: every document of a JSONL corpus scored against every query, in flat
memory, resumable. The engine side of `workbench score --queries Q --docs-jsonl D --out R`
(cli_corpus.py is the command; corpus_input.py and corpus_output.py the files).

Each query's documents go to the engine's Ranker in batches of a few hundred, so chunking,
prompts, the score cache and aggregation are exactly `workbench score`'s, and the model sees
batches as full as in one big run (the scorer sorts each call's prompts by length and packs them
to its token budget). A batch's lines are written as soon as it is ranked; scores the model made
for a batch a kill interrupted are in the persistent score cache, so a restart scores them no
more than the lines already written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

from .corpus_input import CorpusQuery, CorpusScan, stream_documents
from .corpus_output import Appender
from .engine.ranking import Ranker, RankProgress
from .engine.scorer import Scorer, ScoreCache
from .engine.types import Document, RankResult
from .session.inputs import RunSettings

BATCH_DOCS = 256  # documents per Ranker call: dozens of full model batches, little lost to a kill
BATCH_CHARS = 2_000_000  # ...fewer when documents are long, so a batch's prompts stay small in memory


class NoCache:
    """--no-cache: the engine's default in-memory cache would keep every score of the job."""

    def get_many(self, fingerprint: str, keys: list[str]) -> dict[str, float]:
        return {}

    def put_many(self, fingerprint: str, items: dict[str, float]) -> None:
        pass


@dataclass
class JobStats:
    pairs: int = 0  # (query, document) lines written by this run
    resumed: int = 0  # lines already in the output when it started
    prompts: int = 0  # chunk prompts of those pairs
    scored: int = 0  # prompts the model scored (the rest came from the score cache)
    cached: int = 0
    prompt_tokens: int = 0  # tokens the model was given
    seconds: float = 0.0

    def rate(self, count: float) -> float:
        return count / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["pairs_per_s"] = round(self.rate(self.pairs), 2)
        out["tokens_per_s"] = round(self.rate(self.prompt_tokens), 1)
        out["seconds"] = round(self.seconds, 3)
        return out


def job_arguments(scan: CorpusScan, queries: list[CorpusQuery], queries_sha: str, instruction: str,
                  settings: RunSettings, max_length: int) -> dict:
    """What the output depends on, model aside (added once loaded): a restart must match it."""
    return {
        "docs_jsonl": {"sha256": scan.sha256, "documents": scan.documents},
        "queries": {"sha256": queries_sha, "queries": len(queries)},
        "instruction": instruction,
        "chunk_tokens": settings.chunking.tokens,
        "chunk_overlap": settings.chunking.overlap,
        "aggregate": settings.aggregate,
        "top_k": settings.top_k,
        "max_length": max_length,
    }


def model_argument(scorer: Scorer) -> str:
    """The model part of the arguments: the score cache's own identity of the model."""
    return scorer.info.fingerprint()


def make_ranker(scorer: Scorer, cache: ScoreCache | None) -> Ranker:
    return Ranker(scorer, cache=cache if cache is not None else NoCache())


def run_job(ranker: Ranker, queries: list[CorpusQuery], scan: CorpusScan, instruction: str,
            settings: RunSettings, start: int, appender: Appender,
            on_progress: Callable[[float], None] = lambda pairs: None) -> JobStats:
    """Score pairs `start`.. of (each query) x (each document) and append their lines; the model's
    ScoringError propagates (the lines written so far stay, and a restart resumes after them).
    `on_progress` hears the pairs done by this run so far, within a batch too (by its chunks)."""
    stats = JobStats(resumed=start)
    began = time.perf_counter()
    n = scan.documents
    for qi in range(start // n if n else len(queries), len(queries)):
        query = queries[qi]
        skip = start - qi * n if qi == start // n else 0
        for batch in batches(stream_documents(scan, skip)):
            def partial(p: RankProgress, base: int = stats.pairs, size: int = len(batch)) -> None:
                on_progress(base + size * p.done / max(p.total, 1))

            result = ranker.rank(query.text, query.instruction or instruction, batch, settings.chunking,
                                 settings.aggregate, settings.top_k, on_progress=partial)
            lines, scores = pair_lines(query.id, batch, result)
            appender.write(lines, scores)
            ranker.forget_prompts()  # a corpus never repeats a text: keep memory flat
            stats.pairs += len(lines)
            stats.prompts += result.stats.pairs
            stats.scored += result.stats.scored
            stats.cached += result.stats.cached
            stats.prompt_tokens += result.stats.prompt_tokens
            stats.seconds = time.perf_counter() - began
            on_progress(stats.pairs)
    stats.seconds = time.perf_counter() - began
    return stats


def batches(documents: Iterable[Document]) -> Iterator[list[Document]]:
    batch: list[Document] = []
    chars = 0
    for doc in documents:
        batch.append(doc)
        chars += len(doc.text)
        if len(batch) >= BATCH_DOCS or chars >= BATCH_CHARS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def pair_lines(qid: str, batch: list[Document], result: RankResult) -> tuple[list[dict], list[float]]:
    """One line per document of `batch` (in batch order) and each document's unrounded score."""
    by_id = {d.doc_id: d for d in result.documents}
    lines, scores = [], []
    for doc in batch:
        scored = by_id[doc.id]
        # The best chunk as `workbench score` ranks chunks: highest logit, then the earlier one.
        best = min(scored.chunks, key=lambda c: (-c.logit if math.isfinite(c.logit) else math.inf, c.chunk.index))
        lines.append({
            "qid": qid,
            "doc_id": doc.id,
            "score": _number(scored.score),
            "logit": _number(best.logit),
            "chunk": best.chunk.index,
            "start": best.chunk.start,
            "end": best.chunk.end,
            "chunks": len(scored.chunks),
        })
        scores.append(scored.score)
    return lines, scores


def _number(value: float) -> float | None:
    """Rounded as run_format writes scores; null for a non-finite one (JSON has no NaN)."""
    return round(value, 6) if math.isfinite(value) else None
