"""Relevance metrics, computed by ir-measures (trec_eval underneath), at two levels.

- **Chunk level**: the items are chunks (`DOC#N`), ranked as the run ranked them. A chunk's
  grade is the highest grade of the labels it satisfies: it contains a judged phrase or span, or
  it is the judged chunk index. A positive label that no chunk satisfies (its phrase or span is
  cut by a chunk boundary, or its chunk index is past the document's end) stays in the judgments
  as an item no run can retrieve, so it counts as a miss rather than vanishing.
- **Document level**: the items are documents, ranked by their aggregated score (the run's
  document ranking, `--aggregate`). A document's grade is its own grade when it is judged whole,
  otherwise the highest grade among its judged chunks, phrases and spans.

nDCG@k uses the grades as gains (trec_eval's `ndcg_cut`: linear gain, log2 discount, the ideal
ranking built from every judged item); MRR@k is the mean of RR@k (1/rank of the first item with
grade ≥ 1 within the top k, else 0); Recall@k is the share of items with grade ≥ 1 in the top k.
The library ranks by score; we hand it scores that decrease strictly with our rank, so ties are
broken exactly as the workbench shows them. A query with no item of grade ≥ 1 at a level has no
value at that level (it is left out of that level's means, and said so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .judged import JudgedQuery
from .trec import Item

if TYPE_CHECKING:
    from ..engine.types import RankResult

LEVELS = ("chunk", "document")


def measure_names(k: int) -> tuple[str, str, str]:
    return (f"nDCG@{k}", f"MRR@{k}", f"Recall@{k}")


@dataclass
class Judged:
    """One query's judgments resolved against one run's chunks, and that run's two rankings."""

    qrels: dict[str, dict[str, int]]  # level -> item id -> grade
    runs: dict[str, list[tuple[str, float]]]  # level -> (item id, score) best first
    notes: list[str] = field(default_factory=list)

    def first_relevant_chunk(self) -> int | None:
        """Rank of the best-ranked chunk with grade ≥ 1 (None: none in the ranking)."""
        relevant = self.qrels["chunk"]
        return next((i for i, (item, _) in enumerate(self.runs["chunk"], 1) if relevant.get(item, 0) > 0), None)


def resolve(query: JudgedQuery, result: RankResult, texts: dict[str, str]) -> Judged:
    chunk_qrels: dict[str, int] = {}
    whole: dict[str, int] = {}
    parts: dict[str, int] = {}
    notes: list[str] = []
    chunks_of = {d.doc_id: d.chunks for d in result.documents}
    for lb in query.labels:
        doc = lb.item.doc
        if not lb.chunk_level:
            whole[doc] = max(whole.get(doc, 0), lb.grade)
            continue
        parts[doc] = max(parts.get(doc, 0), lb.grade)
        hits = [c.chunk for c in chunks_of.get(doc, []) if _satisfies(lb, c.chunk, texts.get(doc, ""))]
        for span in hits:
            key = str(Item(doc, chunk=span.index))
            chunk_qrels[key] = max(chunk_qrels.get(key, 0), lb.grade)
        if not hits and lb.grade > 0:
            chunk_qrels[f"{lb.name} (in no chunk)"] = lb.grade
            notes.append(f"query {query.id!r}: {lb.name} ({lb.where}) lies in no single chunk at this chunking: counted as a miss")
    doc_qrels = {str(Item(d)): g for d, g in parts.items()}
    doc_qrels.update({str(Item(d)): g for d, g in whole.items()})  # judged whole: its own grade
    runs = {
        "chunk": [(str(Item(c.doc_id, chunk=c.chunk.index)), c.score) for c in result.ranked_chunks()],
        "document": [(str(Item(d.doc_id)), d.score) for d in result.documents],
    }
    return Judged({"chunk": chunk_qrels, "document": doc_qrels}, runs, notes)


def _satisfies(label, span, text: str) -> bool:
    if label.phrase is not None:
        return label.phrase in text[span.start : span.end]
    if label.item.chunk is not None:
        return span.index == label.item.chunk
    start, end = label.item.span
    return span.start <= start and end <= span.end


def per_query(judged: dict[str, Judged], k: int) -> dict[str, dict[str, dict[str, float]]]:
    """qid -> level -> measure name -> value, through ir-measures; a query with no relevant item
    at a level has no entry for that level."""
    import ir_measures
    from ir_measures import RR, R, nDCG

    names = measure_names(k)
    library = {f"nDCG@{k}": nDCG @ k, f"RR@{k}": RR @ k, f"R@{k}": R @ k}
    ours = dict(zip(library, names))
    out: dict[str, dict[str, dict[str, float]]] = {qid: {} for qid in judged}
    for level in LEVELS:
        qrels = {qid: dict(j.qrels[level]) for qid, j in judged.items() if any(g > 0 for g in j.qrels[level].values())}
        if not qrels:
            continue
        # Scores that fall strictly with our rank: the library sorts by score, we keep our tie-break.
        run = {qid: {item: float(-rank) for rank, (item, _) in enumerate(judged[qid].runs[level], 1)} for qid in qrels}
        for qid in qrels:
            out[qid][level] = {name: 0.0 for name in names}
        for metric in ir_measures.iter_calc(list(library.values()), qrels, run):
            out[metric.query_id][level][ours[str(metric.measure)]] = float(metric.value)
    return out


def means(values: dict[str, dict[str, dict[str, float]]], k: int) -> dict[str, dict[str, float | None]]:
    """level -> measure -> mean over the queries that have a value (None when none has)."""
    out: dict[str, dict[str, float | None]] = {}
    for level in LEVELS:
        rows = [v[level] for v in values.values() if level in v]
        out[level] = {m: (sum(r[m] for r in rows) / len(rows) if rows else None) for m in measure_names(k)}
        out[level]["queries"] = len(rows)
    return out
