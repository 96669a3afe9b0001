"""`workbench score --first-stage`: the run format (workbench.run_format) with the first stage's
rank and score added next to the reranker's, and a table that shows the shift.

Fields added, in every format: `first_stage_rank` and `first_stage_score` (per document and, in
json/jsonl, per chunk: the chunk's rank among all chunks), and `reranked`. With --rerank-top N the
documents the reranker did not see follow the reranked ones in first-stage order, their rank
continuing the list (the pipeline's final order), with `score` null and `reranked` false.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from workbench.engine.types import DocumentScore, RankResult

from .ranking import DESCRIPTIONS, FirstStageRanking, moved

if TYPE_CHECKING:
    from workbench.calibration import RunNormalization

CSV_EXTRA = ("first_stage_rank", "first_stage_score", "chunk_first_stage_rank", "chunk_first_stage_score", "reranked")


@dataclass
class FirstStageRun:
    """A reranked run and the first stage that fed it (`rerank_top`: None when all was reranked)."""

    result: RankResult
    ranking: FirstStageRanking
    rerank_top: int | None = None

    def not_reranked(self) -> list[DocumentScore]:
        """The first stage's documents the reranker did not see, in first-stage order."""
        seen = {d.doc_id for d in self.result.documents}
        return [d for d in self.ranking.documents if d.doc_id not in seen]

    def summary(self) -> dict:
        left = len(self.not_reranked())
        return {"method": self.ranking.method, "description": DESCRIPTIONS[self.ranking.method],
                "rerank_top": self.rerank_top, "reranked": len(self.result.documents),
                "not_reranked": left}

    def _doc_fields(self, doc_id: str, reranked: bool) -> dict:
        return {"first_stage_rank": self.ranking.doc_ranks.get(doc_id),
                "first_stage_score": _round(self.ranking.document_score(doc_id)), "reranked": reranked}

    def _chunk_fields(self, doc_id: str, index: int) -> dict:
        return {"first_stage_rank": self.ranking.chunk_ranks.get((doc_id, index)),
                "first_stage_score": _round(self.ranking.chunk_score((doc_id, index)))}

    def _tail(self, top: int | None) -> list[tuple[int, DocumentScore]]:
        """(final rank, document) of the documents not reranked that fit within `top`."""
        start = len(self.result.documents)
        rows = list(enumerate(self.not_reranked(), start + 1))
        return rows if top is None else rows[: max(0, top - start)]

    def _tail_dict(self, rank: int, d: DocumentScore) -> dict:
        chunks = [{"index": c.chunk.index, "start": c.chunk.start, "end": c.chunk.end, "tokens": c.chunk.tokens,
                   "score": None, "logit": None, **self._chunk_fields(d.doc_id, c.chunk.index)} for c in d.chunks]
        return {"id": d.doc_id, "path": d.path, "score": None, "rank": rank,
                **self._doc_fields(d.doc_id, False), "chunks": chunks}

    def run_dict(self, top: int | None, norm: RunNormalization | None) -> dict:
        from workbench.run_format import run_dict

        out = run_dict(self.result, top, norm=norm)
        for n, doc in enumerate(out["documents"]):
            for chunk in doc["chunks"]:
                chunk.update(self._chunk_fields(doc["id"], chunk["index"]))
            chunks = doc.pop("chunks")  # the new fields next to rank and score, the chunks last
            out["documents"][n] = doc | self._doc_fields(doc["id"], True) | {"chunks": chunks}
        out["documents"] += [self._tail_dict(rank, d) for rank, d in self._tail(top)]
        out["first_stage"] = self.summary()
        return out

    def jsonl_lines(self, top: int | None, norm: RunNormalization | None) -> Iterator[dict]:
        head = {"query": self.result.query, "model": self.result.model.model_id, "first_stage": self.ranking.method}
        if norm is not None:
            head["normalization"] = norm.method
        for doc in self.run_dict(top, norm)["documents"]:
            yield head | doc

    def csv_rows(self, top: int | None, norm: RunNormalization | None) -> Iterator[dict]:
        from workbench.run_format import csv_rows

        for row in csv_rows(self.result, top, norm=norm):
            fields = self._doc_fields(row["doc_id"], True)
            chunk = self._chunk_fields(row["doc_id"], row["chunk_index"])
            yield row | fields | {"chunk_first_stage_rank": chunk["first_stage_rank"],
                                  "chunk_first_stage_score": chunk["first_stage_score"]}
        for rank, d in self._tail(top):
            for c in d.chunks:
                chunk = self._chunk_fields(d.doc_id, c.chunk.index)
                yield {"query": self.result.query, "doc_rank": rank, "doc_id": d.doc_id, "path": d.path,
                       "chunk_index": c.chunk.index, "start": c.chunk.start, "end": c.chunk.end,
                       "tokens": c.chunk.tokens, "note": "not reranked", **self._doc_fields(d.doc_id, False),
                       "chunk_first_stage_rank": chunk["first_stage_rank"],
                       "chunk_first_stage_score": chunk["first_stage_score"]}


def write(run: FirstStageRun, fmt: str, out: TextIO, top: int | None, norm: RunNormalization | None = None) -> None:
    """The run in `fmt` (table, json, jsonl or csv) with the first stage's fields."""
    import csv

    from workbench.run_format import CSV_COLUMNS, dumps

    if fmt == "json":
        out.write(dumps(run.run_dict(top, norm), indent=2) + "\n")
    elif fmt == "jsonl":
        for line in run.jsonl_lines(top, norm):
            out.write(dumps(line) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS + CSV_EXTRA, lineterminator="\n")
        writer.writeheader()
        writer.writerows(run.csv_rows(top, norm))
    else:
        print_table(run, top, norm)


def print_table(run: FirstStageRun, top: int | None, norm: RunNormalization | None = None) -> None:
    """The reranker's ranking with a column for the move from the first stage's rank."""
    from rich.console import Console
    from rich.table import Table

    result, method = run.result, run.ranking.method
    console = Console()
    title = f"{result.model.model_id} · {result.model.device} · {result.model.dtype} · first stage: {DESCRIPTIONS[method]}"
    if result.model.is_fallback:
        title = f"[bold yellow]OFFLINE FALLBACK, not a reranker[/] · {title}"
    table = Table(title=title, caption=f"query: {result.query}", expand=False)
    for name, justify in (("rank", "right"), ("score", "right"), (f"{method} → rerank", "left")):
        table.add_column(name, justify=justify)
    if norm is not None:
        table.add_column("normalized", justify="right")
    for name, justify in (("document", "left"), ("chunks", "right"), ("best chunk", "right")):
        table.add_column(name, justify=justify)
    for d in result.documents[:top] if top else result.documents:
        best = max(d.chunks, key=lambda c: c.logit, default=None)
        before = run.ranking.doc_ranks.get(d.doc_id)
        value = None if norm is None else norm.documents.get(d.doc_id)
        table.add_row(str(d.rank), f"{d.score:.4f}", "-" if before is None else moved(before, d.rank),
                      *(() if norm is None else ("-" if value is None else f"{value:.4f}",)),
                      d.doc_id, str(len(d.chunks)), "-" if best is None else f"#{best.chunk.index} ({best.score:.3f})")
    for rank, d in run._tail(top):
        table.add_row(str(rank), "[dim]-[/]", f"[dim]{run.ranking.doc_ranks[d.doc_id]} (not reranked)[/]",
                      *(() if norm is None else ("-",)), f"[dim]{d.doc_id}[/]", str(len(d.chunks)), "-")
    console.print(table)
    s, left = result.stats, len(run.not_reranked())
    tail = (f"; the other {left} follow in {method} order" if left else "")
    console.print(f"{s.pairs} pairs ({s.cached} cached) from {len(result.documents)} reranked documents"
                  f"{tail}; {s.prompt_tokens} tokens scored in {s.latency_s:.2f} s", style="dim")


def _round(value: float | None) -> float | None:
    import math

    return None if value is None or not math.isfinite(value) else round(value, 6)


def reranked_order(ranking: FirstStageRanking, documents: Sequence, top: int) -> list:
    """The documents the reranker should see: the first stage's best `top`, in first-stage order
    (a pipeline hands them over that way, and reranker ties keep it)."""
    by_id = {d.id: d for d in documents}
    return [by_id[i] for i in ranking.top_documents(top)]
