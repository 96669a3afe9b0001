"""Score every judged query under each candidate instruction, measure, and compare.

Each (instruction, query) pair is one `Workbench.run_now()`: the steps the app takes, on one
session, so pairs whose prompt did not change between instructions (a query that brings its own
instruction) come from the session's in-memory cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .compare import compare
from .judged import JudgedQuery
from .metrics import LEVELS, Judged, means, measure_names, per_query, resolve

if TYPE_CHECKING:
    from ..session import Workbench


@dataclass(frozen=True)
class Candidate:
    label: str
    text: str | None  # None: the default instruction (each query's own, when it has one)
    first_stage: str | None = None  # "bm25"/"embedding": a first stage's ranking, not the reranker's


@dataclass
class CandidateResult:
    candidate: Candidate
    judged: dict[str, Judged] = field(default_factory=dict)  # qid -> judgments and rankings
    instructions: dict[str, str] = field(default_factory=dict)  # qid -> the instruction used
    values: dict = field(default_factory=dict)  # qid -> level -> measure -> value
    means: dict = field(default_factory=dict)  # level -> measure -> mean


def sweep(
    session: Workbench,
    queries: list[JudgedQuery],
    candidates: list[Candidate],
    default_instruction: str,
    texts: dict[str, str],
    k: int,
    *,
    override: bool = False,
    progress: Callable[[str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> list[CandidateResult]:
    """Raises what `Workbench.run_now` raises (SessionInputError, RankingInputError, ScoringError);
    `should_cancel` stops it between batches (SessionInputError "the run was cancelled")."""
    results = []
    for cand in candidates:
        out = CandidateResult(cand)
        for q in queries:
            instruction = (cand.text or default_instruction) if (override or not q.instruction) else q.instruction
            session.set_query(q.query)
            session.set_instruction(instruction)
            out.judged[q.id] = resolve(q, session.run_now(should_cancel), texts)
            out.instructions[q.id] = instruction
        if progress:
            progress(f"scored {len(queries)} queries with instruction {cand.label}")
        out.values = per_query(out.judged, k)
        out.means = means(out.values, k)
        results.append(out)
    return results


def report(results: list[CandidateResult], queries: list[JudgedQuery], k: int, model: dict) -> dict:
    """Everything `workbench eval` prints, as plain data (what --format json writes)."""
    base = results[0]
    notes = sorted({n for r in results for j in r.judged.values() for n in j.notes})
    for level in LEVELS:
        missing = [q.id for q in queries if level not in base.values.get(q.id, {})]
        if missing:
            notes.append(f"{len(missing)} quer{'ies have' if len(missing) != 1 else 'y has'} no relevant "
                         f"{level}-level judgment and {'are' if len(missing) != 1 else 'is'} left out of "
                         f"{level}-level figures: {', '.join(missing)}")
    instructions = sum(not r.candidate.first_stage for r in results)  # a first stage has none to compare
    shared = sum(1 for q in queries if q.instruction) if instructions > 1 else 0
    return {
        "model": model,
        "k": k,
        "queries": len(queries),
        "instructions": [_instruction(r, queries) for r in results],
        "comparisons": [c for r in results[1:] for c in _comparisons(base, r, queries, k)],
        "queries_with_own_instruction": shared,
        "notes": notes,
    }


def _instruction(r: CandidateResult, queries: list[JudgedQuery]) -> dict:
    ranks = {q.id: r.judged[q.id].first_relevant_chunk() for q in queries}
    n = max(1, len(queries))
    return {
        "label": r.candidate.label,
        "instruction": r.candidate.text,
        "first_stage": r.candidate.first_stage,
        "metrics": r.means,
        # The first relevant chunk's rank, without a cutoff (the figures earlier versions printed).
        "hit@1": sum(rank == 1 for rank in ranks.values()) / n,
        "hit@5": sum(rank is not None and rank <= 5 for rank in ranks.values()) / n,
        "mrr": sum(1 / rank for rank in ranks.values() if rank) / n,
        "per_query": {
            q.id: {"first_relevant_chunk_rank": ranks[q.id], "instruction": r.instructions[q.id], **r.values.get(q.id, {})}
            for q in queries
        },
    }


def _comparisons(base: CandidateResult, cand: CandidateResult, queries: list[JudgedQuery], k: int) -> list[dict]:
    rows = []
    for level in LEVELS:
        qids = [q.id for q in queries if level in base.values.get(q.id, {}) and level in cand.values.get(q.id, {})]
        for measure in measure_names(k):
            a = [base.values[qid][level][measure] for qid in qids]
            b = [cand.values[qid][level][measure] for qid in qids]
            c = compare(a, b)
            per = {qid: ("win" if y - x > 1e-9 else "loss" if x - y > 1e-9 else "tie") for qid, x, y in zip(qids, a, b)}
            rows.append({"baseline": base.candidate.label, "candidate": cand.candidate.label, "level": level,
                         "measure": measure, **c.as_dict(), "per_query": per})
    return rows
