"""Comparing two runs chunk by chunk: rank moves, Kendall tau-b, top-k overlap.

Chunks are matched by what they are (document text hash + character span), not by labels, so
runs over renamed files or reordered inputs still line up. Runs chunked differently share only
the spans that happen to coincide; the comparison says how many (`common`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from workbench.store.database import Store
from workbench.store.errors import RunNotFoundError

TOP_KS = (1, 3, 5, 10)

ChunkKey = tuple[str, int, int]  # (document hash, start, end)


@dataclass(frozen=True)
class ChunkRankChange:
    document_hash: str
    start: int
    end: int
    doc_id_a: str | None
    doc_id_b: str | None
    index_a: int | None
    index_b: int | None
    rank_a: int | None  # None: the chunk is not in run a
    rank_b: int | None
    logit_a: float | None
    logit_b: float | None

    @property
    def change(self) -> int | None:
        """Places moved from a to b; positive means it moved up (a better rank in b)."""
        if self.rank_a is None or self.rank_b is None:
            return None
        return self.rank_a - self.rank_b


@dataclass(frozen=True)
class RunComparison:
    run_a: int
    run_b: int
    chunks: list[ChunkRankChange]  # by rank in b, then chunks only in a by rank in a
    common: int  # chunks present in both runs
    kendall_tau: float | None  # tau-b over the common chunks' logits; None when undefined
    top_k_overlap: dict[int, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class _Ranked:
    doc_id: str
    index: int
    rank: int
    logit: float


def compare_runs(store: Store, a: int, b: int) -> RunComparison:
    with store.read() as db:
        ranked_a, ranked_b = (_ranked(db, run_id) for run_id in (a, b))
    common = [key for key in ranked_b if key in ranked_a]
    tau = kendall_tau_b(
        [ranked_a[key].logit for key in common], [ranked_b[key].logit for key in common]
    )
    keys = list(ranked_b) + [key for key in ranked_a if key not in ranked_b]
    changes = [_change(key, ranked_a.get(key), ranked_b.get(key)) for key in keys]
    return RunComparison(
        run_a=a,
        run_b=b,
        chunks=changes,
        common=len(common),
        kendall_tau=tau,
        top_k_overlap={k: top_k_overlap(list(ranked_a), list(ranked_b), k) for k in TOP_KS},
    )


def _ranked(db, run_id: int) -> dict[ChunkKey, _Ranked]:
    if not db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone():
        raise RunNotFoundError(f"no run with id {run_id}")
    rows = db.execute(
        'SELECT d.document_hash, c.start, c."end", d.doc_id, cs.chunk_index, cs.rank, cs.logit '
        "FROM chunk_scores cs "
        "JOIN run_documents d ON d.run_id = cs.run_id AND d.position = cs.position "
        "JOIN chunks c ON c.id = cs.chunk_id "
        "WHERE cs.run_id = ? ORDER BY cs.rank",
        [run_id],
    )
    ranked: dict[ChunkKey, _Ranked] = {}
    for doc_hash, start, end, doc_id, index, rank, logit in rows:
        # The same text given twice in one run: its best-ranked copy stands for it.
        ranked.setdefault((doc_hash, start, end), _Ranked(doc_id, index, rank, logit))
    return ranked


def _change(key: ChunkKey, a: _Ranked | None, b: _Ranked | None) -> ChunkRankChange:
    return ChunkRankChange(
        document_hash=key[0],
        start=key[1],
        end=key[2],
        doc_id_a=a.doc_id if a else None,
        doc_id_b=b.doc_id if b else None,
        index_a=a.index if a else None,
        index_b=b.index if b else None,
        rank_a=a.rank if a else None,
        rank_b=b.rank if b else None,
        logit_a=a.logit if a else None,
        logit_b=b.logit if b else None,
    )


def top_k_overlap(best_first_a: Sequence, best_first_b: Sequence, k: int) -> float | None:
    """|top-k(a) ∩ top-k(b)| / k, where k shrinks to the shorter run's length (None if empty)."""
    k = min(k, len(best_first_a), len(best_first_b))
    if k == 0:
        return None
    return len(set(best_first_a[:k]) & set(best_first_b[:k])) / k


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b of paired values, from `scipy.stats.kendalltau(variant="b")`.

    Variant b because scores can tie (equal logits, chunks cut identically): tau-b corrects the
    denominator for ties on either side, so identical rankings give exactly 1 even with ties.
    Only the statistic is used; the p-value is ignored.

    None when it is undefined (scipy returns nan): fewer than two pairs, or every value tied on
    either side (a constant ranking). Screens show None as "n/a".
    """
    if len(x) != len(y):
        raise ValueError("kendall_tau_b needs two sequences of the same length")
    if len(x) < 2:
        return None  # scipy would warn and return nan
    # Imported here: scipy.stats takes a noticeable part of a second, and every CLI command
    # imports the store; only a comparison needs it.
    from scipy.stats import kendalltau

    with warnings.catch_warnings():
        # Constant input: scipy warns and returns nan, which we report as None.
        warnings.simplefilter("ignore", RuntimeWarning)
        tau = float(kendalltau(x, y, variant="b").statistic)
    return None if math.isnan(tau) else tau
