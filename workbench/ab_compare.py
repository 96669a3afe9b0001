"""Comparing two rankings of one query (instruction A vs B, or a logged run vs now): headless.

Chunks are matched by their document's identity plus their character span. Two runs of one
session (instruction A vs B) identify documents by id; a logged run and a new one identify them by
the sha256 of their text (as workbench.store.compare does), so they line up even if the files were
given in another order or renamed; the same text given twice then counts once (its best copy). Statistics:
Kendall tau-b over the common chunks' logits (scipy, via store.compare.kendall_tau_b), rank-biased
overlap (RBO, extrapolated, p = 0.9; Webber, Moffat & Zobel 2010) of the two best-first chunk
lists, the top-k entries and exits, and the chunks whose score moved most.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from .engine.types import RankResult
from .store.compare import kendall_tau_b
from .store.runs import text_hash  # the run log's identity of a text (re-exported for callers)

__all__ = ["Comparison", "Row", "Side", "compare", "rbo_ext", "render", "text_hash"]

Key = tuple[str, int, int]  # (document text hash, start, end)


def rbo_ext(a: Sequence[Hashable], b: Sequence[Hashable], p: float = 0.9) -> float | None:
    """Extrapolated rank-biased overlap of two best-first lists of distinct items (Webber et al.
    2010, eq. 32 with its uneven-length extension): 1 for identical lists, 0 for disjoint ones,
    1 when the shorter list is a prefix of the longer (the extrapolation assumes it continues so).

        RBO_ext = (1-p)/p * [ sum_{d=1..l} X_d/d p^d + sum_{d=s+1..l} X_s (d-s)/(s d) p^d ]
                  + [ (X_l - X_s)/l + X_s/s ] p^l

    with s <= l the lengths and X_d the overlap of the two depth-d prefixes (for d > s, the short
    list whole against the long one's prefix). None when either list is empty."""
    if not 0 < p < 1:
        raise ValueError("p must be strictly between 0 and 1")
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    s, l = len(short), len(long_)
    if s == 0:
        return None
    seen_s: set = set()
    seen_l: set = set()
    overlap = 0
    total = 0.0
    x_s = 0
    for d in range(1, l + 1):
        item_l = long_[d - 1]
        if d <= s:
            item_s = short[d - 1]
            if item_s == item_l:
                overlap += 1
            else:
                overlap += (item_s in seen_l) + (item_l in seen_s)
            seen_s.add(item_s)
        else:
            overlap += item_l in seen_s
        seen_l.add(item_l)
        if d == s:
            x_s = overlap
        total += overlap / d * p**d
        if d > s:
            total += x_s * (d - s) / (s * d) * p**d
    return (1 - p) / p * total + ((overlap - x_s) / l + x_s / s) * p**l


@dataclass(frozen=True)
class Side:
    """One ranking under comparison: its result, its setup and how to identify its chunks."""

    label: str  # "A" / "B"
    result: RankResult
    hashes: Mapping[str, str]  # doc id -> its identity: the text hash, or the id itself
    run_id: int | None = None

    def setup(self) -> dict:
        r = self.result
        return {
            "run_id": self.run_id,
            "query": r.query,
            "instruction": r.instruction,
            "model": r.model.model_id,
            "settings": {"chunk_tokens": r.chunking.tokens, "chunk_overlap": r.chunking.overlap,
                         "aggregate": r.aggregate, "top_k": r.top_k},
        }


@dataclass(frozen=True)
class Row:
    """One chunk (or document) in either ranking; None where it is missing from that side."""

    label: str  # "doc#index" (chunks) or the document id
    rank_a: int | None
    rank_b: int | None
    score_a: float | None
    score_b: float | None
    logit_a: float | None = None
    logit_b: float | None = None

    @property
    def shift(self) -> int | None:
        """Places moved up from A to B (positive: better in B)."""
        return None if self.rank_a is None or self.rank_b is None else self.rank_a - self.rank_b

    @property
    def delta(self) -> float | None:
        if self.score_a is None or self.score_b is None or not math.isfinite(self.score_b - self.score_a):
            return None
        return self.score_b - self.score_a

    def arrow(self) -> str:
        if self.rank_a is None:
            return "new"
        if self.rank_b is None:
            return "gone"
        n = self.shift
        return "=" if n == 0 else (f"▲{n}" if n > 0 else f"▼{-n}")

    def to_dict(self) -> dict:
        return {"id": self.label, "rank_a": self.rank_a, "rank_b": self.rank_b, "score_a": _r(self.score_a),
                "score_b": _r(self.score_b), "logit_a": _r(self.logit_a), "logit_b": _r(self.logit_b),
                "shift": self.shift, "delta": _r(self.delta)}


def _r(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 6)


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    k: int
    chunks: list[Row]  # by rank in B, then chunks only in A by rank in A
    documents: list[Row]
    common: int  # chunks in both
    kendall_tau: float | None
    rbo: float | None
    entered: list[str]  # in B's top k, not in A's
    left: list[str]  # in A's top k, not in B's
    top_k_overlap: float | None
    movers: list[Row]  # the 5 common chunks whose score moved most
    same_instruction: bool
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "a": self.a.setup(),
            "b": self.b.setup(),
            "k": self.k,
            "statistics": {
                "common_chunks": self.common,
                "chunks_a": sum(r.rank_a is not None for r in self.chunks),
                "chunks_b": sum(r.rank_b is not None for r in self.chunks),
                "kendall_tau_b": _r(self.kendall_tau),
                "rbo": _r(self.rbo),
                "rbo_p": 0.9,
                "top_k_overlap": _r(self.top_k_overlap),
                "entered_top_k": self.entered,
                "left_top_k": self.left,
            },
            "notes": list(self.notes),
            "chunks": [r.to_dict() for r in self.chunks],
            "documents": [r.to_dict() for r in self.documents],
            "movers": [r.to_dict() for r in self.movers],
        }


def compare(a: Side, b: Side, k: int = 10, movers: int = 5) -> Comparison:
    ranked = {}
    for side in (a, b):
        keyed: dict[Key, tuple[int, object]] = {}
        for rank, c in enumerate(side.result.ranked_chunks(), start=1):
            key = (side.hashes.get(c.doc_id, c.doc_id), c.chunk.start, c.chunk.end)
            keyed.setdefault(key, (rank, c))  # the same text given twice: its best copy stands for it
        ranked[side.label] = keyed
    in_a, in_b = ranked[a.label], ranked[b.label]
    keys = list(in_b) + [key for key in in_a if key not in in_b]

    def row(key: Key) -> Row:
        ra, ca = in_a.get(key, (None, None))
        rb, cb = in_b.get(key, (None, None))
        c = cb or ca
        return Row(f"{c.doc_id}#{c.chunk.index}", ra, rb, ca.score if ca else None, cb.score if cb else None,
                   ca.logit if ca else None, cb.logit if cb else None)

    rows = [row(key) for key in keys]
    common = [key for key in in_b if key in in_a]
    tau = kendall_tau_b([in_a[key][1].logit for key in common], [in_b[key][1].logit for key in common])
    rbo = rbo_ext(list(in_a), list(in_b))
    top_a, top_b = list(in_a)[:k], list(in_b)[:k]
    label = {key: r.label for key, r in zip(keys, rows)}
    kk = min(k, len(in_a), len(in_b))
    overlap = len(set(list(in_a)[:kk]) & set(list(in_b)[:kk])) / kk if kk else None
    moved = sorted((r for r in rows if r.delta is not None), key=lambda r: (-abs(r.delta), -abs(r.shift or 0)))
    notes = []
    same = a.result.instruction == b.result.instruction
    if same:
        notes.append("A and B use the same instruction: any difference comes from the rest of the setup")
    if len(common) < max(len(in_a), len(in_b)):
        notes.append(f"only {len(common)} chunks are in both rankings (different documents or chunking)")
    return Comparison(
        a, b, k, rows, _documents(a, b), len(common), tau, rbo,
        entered=[label[key] for key in top_b if key not in top_a],
        left=[label[key] for key in top_a if key not in top_b],
        top_k_overlap=overlap, movers=moved[:movers], same_instruction=same, notes=tuple(notes),
    )


def _documents(a: Side, b: Side) -> list[Row]:
    def keyed(side: Side) -> dict:
        out = {}
        for d in side.result.documents:
            out.setdefault(side.hashes.get(d.doc_id, d.doc_id), d)
        return out

    in_a, in_b = keyed(a), keyed(b)
    keys = list(in_b) + [key for key in in_a if key not in in_b]
    rows = []
    for key in keys:
        da, db = in_a.get(key), in_b.get(key)
        rows.append(Row((db or da).doc_id, da.rank if da else None, db.rank if db else None,
                        da.score if da else None, db.score if db else None))
    return rows


# -- text output ------------------------------------------------------------------------------


def render(cmp: Comparison, all_chunks: bool = False) -> list[str]:
    """Plain text: setups, statistics, chunk rows (those in either top k unless `all_chunks`),
    the document shift and the biggest score moves."""
    def num(v: float | None, digits: int = 4) -> str:
        return "-" if v is None else f"{v:.{digits}f}"

    def rank(v: int | None) -> str:
        return "-" if v is None else str(v)

    lines = []
    for side in (cmp.a, cmp.b):
        where = f" (run {side.run_id})" if side.run_id is not None else ""
        lines.append(f"{side.label}{where}: {side.result.instruction}")
    lines += [f"note: {n}" for n in cmp.notes]
    lines.append("")
    lines.append(
        f"Kendall tau-b {num(cmp.kendall_tau, 3)} over {cmp.common} common chunks · RBO(p=0.9) {num(cmp.rbo, 3)} · "
        f"top-{cmp.k} overlap {num(cmp.top_k_overlap, 2)}"
    )
    lines.append(f"entered top {cmp.k}: {', '.join(cmp.entered) or 'none'}")
    lines.append(f"left top {cmp.k}:    {', '.join(cmp.left) or 'none'}")
    lines.append("")
    for what, rows in (("chunk", cmp.chunks), ("document", cmp.documents)):
        shown = [r for r in rows if all_chunks or _in_top(r, cmp.k)]
        width = max([len(r.label) for r in shown] + [len(what)])
        lines.append(f"{what:<{width}}  {'rank A':>6} {'score A':>8}  {'rank B':>6} {'score B':>8}  shift")
        for r in shown:
            lines.append(f"{r.label:<{width}}  {rank(r.rank_a):>6} {num(r.score_a):>8}  {rank(r.rank_b):>6} {num(r.score_b):>8}  {r.arrow()}")
        if len(shown) < len(rows):
            lines.append(f"({len(rows) - len(shown)} more {what}s outside both top {cmp.k}: see --format json)")
        lines.append("")
    lines.pop()  # no blank line after the last table
    if cmp.movers:
        lines.append("")
        lines.append("largest score moves (B - A):")
        mwidth = max(len(r.label) for r in cmp.movers)
        for r in cmp.movers:
            lines.append(f"  {r.label:<{mwidth}}  {r.delta:+.4f}  (logit {_diff(r.logit_a, r.logit_b)}, {r.arrow()})")
    return lines


def _diff(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or not math.isfinite(b - a) else f"{b - a:+.3f}"


def _in_top(row: Row, k: int) -> bool:
    return any(rank is not None and rank <= k for rank in (row.rank_a, row.rank_b))
