"""`workbench score --first-stage bm25|embedding [--rerank-top N]`: options, checks and the plan.

cli_score.py declares the two options, calls `check_flags` with its other usage checks, `plan`
once the session has its model (chunks come from the reranker's own tokenizer, so both stages
rank the same chunks), and `FirstStagePlan.print` instead of its own printer. The first stage
itself lives in workbench.first_stage; `workbench eval --first-stage` is in cli_eval.py.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from .cli_common import _choices, fail, warn
from .first_stage.ranking import METHODS

if TYPE_CHECKING:
    from .engine.types import ChunkSettings, RankResult
    from .first_stage import FirstStageRanking
    from .session import Workbench

FirstStage = _choices("FirstStage", METHODS)

FIRST_STAGE_HELP = (
    "Rank the same chunks with a first stage too (bm25: BM25 by bm25s with English stopwords; embedding: "
    "cosine of the bundled all-MiniLM-L6-v2) and show its rank next to the reranker's: a 'bm25 → rerank' "
    "column in the table, first_stage_rank and first_stage_score in json, jsonl and csv"
)
RERANK_TOP_HELP = (
    "With --first-stage: rerank only the first stage's best N documents, as a RAG pipeline does. The "
    "others are listed after them in first-stage order, marked not reranked (score null, reranked false), "
    "so the list is the pipeline's final order; --top N cuts it"
)
FirstStageOpt = typer.Option(None, "--first-stage", help=FIRST_STAGE_HELP)
RerankTopOpt = typer.Option(None, "--rerank-top", min=1, help=RERANK_TOP_HELP)


def check_flags(first_stage, rerank_top: int | None, comparing: bool, calibrate: bool, qrels) -> None:
    """Usage errors (exit 2) before anything loads."""
    if rerank_top is not None and first_stage is None:
        fail("--rerank-top N reranks the first stage's best N documents: give --first-stage bm25 or embedding too", 2)
    if first_stage is None:
        return
    if comparing:
        fail("--first-stage applies to a single run, not to a comparison of two", 2)
    if calibrate or qrels is not None:
        fail("--calibrate and --qrels describe the reranker's scores alone: leave --first-stage out for them", 2)


@dataclass
class FirstStagePlan:
    """The first stage's ranking of every document given, and how many went on to the reranker."""

    ranking: FirstStageRanking
    rerank_top: int | None

    def print(self, result: RankResult, fmt, top: int | None, normalize: str = "none") -> None:
        """The reranked run with the first stage's fields, in `fmt`, on stdout."""
        from .first_stage.output import FirstStageRun, write

        norm = None
        if normalize != "none":
            from .calibration import normalize_run

            norm = normalize_run(result, normalize)
            for note in norm.notes:
                warn(f"note: {note}")
        write(FirstStageRun(result, self.ranking, self.rerank_top), getattr(fmt, "value", fmt), sys.stdout, top, norm)


def plan(bench: Workbench, first_stage, rerank_top: int | None, chunking: ChunkSettings) -> FirstStagePlan | None:
    """Rank the session's documents by the first stage; with `rerank_top` the session keeps only
    the best N (in first-stage order) for the reranker. None when no first stage was asked for."""
    if first_stage is None:
        return None
    from .first_stage import rank_first_stage
    from .first_stage.output import reranked_order

    method = getattr(first_stage, "value", first_stage)
    documents = list(bench.documents)
    assert bench.ranker is not None, "attach the scorer first: its tokenizer cuts the chunks"
    spans = {d.id: bench.ranker.chunk(d, chunking) for d in documents}
    if method == "embedding":
        typer.echo("first stage: embedding the chunks with all-MiniLM-L6-v2…", err=True)
    try:
        ranking = rank_first_stage(method, bench.query, documents, spans)
    except (FileNotFoundError, OSError) as e:  # the bundled model's package missing or damaged
        fail(f"the {method} first stage cannot run: {e}")
    if rerank_top is not None and rerank_top < len(documents):
        bench.set_documents(reranked_order(ranking, documents, rerank_top))
    return FirstStagePlan(ranking, rerank_top)


def eval_row(first_stage, bench: Workbench, chunking: ChunkSettings, queries, texts: dict[str, str], k: int):
    """`workbench eval --first-stage`: the first stage's CandidateResult over the judged queries,
    on the chunks the reranker scored (cut by its tokenizer, with the same settings)."""
    from .evaluation.first_stage import first_stage_candidate

    method = getattr(first_stage, "value", first_stage)
    assert bench.ranker is not None, "attach the scorer first: its tokenizer cuts the chunks"
    spans = {d.id: bench.ranker.chunk(d, chunking) for d in bench.documents}
    try:
        return first_stage_candidate(method, queries, bench.documents, spans, texts, k)
    except (FileNotFoundError, OSError) as e:  # the bundled model's package missing or damaged
        fail(f"the {method} first stage cannot run: {e}")
