"""Judging a reranker setup on queries with known answers (sample_data/queries.jsonl format).

A query is answered at rank r when the r-th best chunk comes from a relevant document and
contains the judged phrase. Reports hit@1, hit@5 and MRR over chunks: the figures to watch while
tuning an instruction or chunk size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .documents import special_file_kind

if TYPE_CHECKING:
    from .session import Workbench


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    query: str
    instruction: str | None
    relevant: tuple[tuple[str, str], ...]  # (document id, phrase)


@dataclass(frozen=True)
class QueryOutcome:
    query: JudgedQuery
    rank: int | None  # rank of the first answering chunk; None = not found
    top_doc: str


def read_queries(path: Path) -> list[JudgedQuery]:
    kind = special_file_kind(path)
    if kind:  # reading a pipe or a device would wait or run forever
        raise ValueError(f"{path}: it is {kind}, not a regular file of judged queries")
    queries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            relevant = tuple((r["doc"], r["contains"]) for r in obj["relevant"])
            query = JudgedQuery(str(obj["id"]), obj["query"], obj.get("instruction"), relevant)
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{n}: not a judged query ({e})") from None
        if not isinstance(query.query, str) or not query.query.strip():
            raise ValueError(f"{path}:{n}: query {query.id!r} has no query text")
        queries.append(query)
    return queries


def evaluate(session: Workbench, queries: list[JudgedQuery], default_instruction: str) -> list[QueryOutcome]:
    """Rank the session's documents with its settings for each query in turn, as the app would.

    Raises what `Workbench.run_now` raises (SessionInputError, RankingInputError, ScoringError)."""
    texts = {d.id: d.text for d in session.documents}
    outcomes = []
    for q in queries:
        session.set_query(q.query)
        session.set_instruction(q.instruction or default_instruction)
        result = session.run_now()
        ranked = result.ranked_chunks()
        rank = next(
            (i for i, c in enumerate(ranked, 1)
             if any(c.doc_id == doc and phrase in c.chunk.text_of(texts[c.doc_id]) for doc, phrase in q.relevant)),
            None,
        )
        outcomes.append(QueryOutcome(q, rank, ranked[0].doc_id if ranked else "-"))
    return outcomes


def summary(outcomes: list[QueryOutcome]) -> dict[str, float]:
    n = max(1, len(outcomes))
    return {
        "queries": len(outcomes),
        "hit@1": sum(o.rank == 1 for o in outcomes) / n,
        "hit@5": sum(o.rank is not None and o.rank <= 5 for o in outcomes) / n,
        "mrr": sum(1 / o.rank for o in outcomes if o.rank) / n,
    }
