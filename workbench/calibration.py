"""Score normalization and calibration for one run: headless (no Textual, no torch).

- `normalize_run`: a per-query `normalized` value for every chunk (over the run's chunk scores)
  and every document (the same transform over the document scores). It transforms `score`, the
  probability P(yes): min-max maps the run's lowest to 0 and highest to 1; z-score is
  (score - mean) / standard deviation (population, ddof=0). Undefined cases (one value, or all
  equal) give None with a note. Non-finite scores are left out and get None.
- `distribution` / `histogram`: min, median, max and a 10-bin text histogram.
- `read_qrels` / `label_chunks` / `best_threshold`: TREC qrels (`qid 0 docid grade`) to relevance
  labels per chunk, then the probability cut-off that maximises F1 (relevant: grade >= 1). The
  file is parsed by workbench.evaluation.trec, the reader `workbench eval` uses.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .engine.types import RankResult

NORMALIZATIONS: tuple[str, ...] = ("none", "minmax", "zscore")


# -- normalization --------------------------------------------------------------------------


def normalize(values: Sequence[float], method: str) -> tuple[list[float | None], str | None]:
    """Each value normalized over `values`, and a note when the transform is undefined."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if method == "none":
        return [None] * len(values), None
    if method not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {method!r} (choose from {', '.join(NORMALIZATIONS)})")
    if method == "minmax":
        if len(finite) < 2 or min(finite) == max(finite):
            why = "one value" if len(finite) < 2 else "all values are equal"
            return [None] * len(values), f"minmax is undefined ({why}): normalized is null"
        lo, span = min(finite), max(finite) - min(finite)
        return [(v - lo) / span if _ok(v) else None for v in values], None
    if len(finite) < 2:
        return [None] * len(values), "zscore is undefined for a single value: normalized is null"
    mean, sd = statistics.fmean(finite), statistics.pstdev(finite)
    if sd == 0:
        return [None] * len(values), "zscore is undefined (all values are equal): normalized is null"
    return [(v - mean) / sd if _ok(v) else None for v in values], None


def _ok(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


@dataclass(frozen=True)
class RunNormalization:
    method: str
    chunks: dict[tuple[str, int], float | None]  # (doc id, chunk index) -> normalized score
    documents: dict[str, float | None]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"method": self.method, "of": "score", "notes": list(self.notes)}


def normalize_run(result: RankResult, method: str) -> RunNormalization:
    """Chunks over all the run's chunks, documents over all its documents (not only --top)."""
    chunks = [c for d in result.documents for c in d.chunks]
    chunk_values, chunk_note = normalize([c.score for c in chunks], method)
    doc_values, doc_note = normalize([d.score for d in result.documents], method)
    notes = []
    if chunk_note:
        notes.append(f"chunks: {chunk_note}")
    if doc_note:
        notes.append(f"documents: {doc_note}")
    return RunNormalization(
        method,
        {(c.doc_id, c.chunk.index): v for c, v in zip(chunks, chunk_values)},
        {d.doc_id: v for d, v in zip(result.documents, doc_values)},
        tuple(notes),
    )


# -- distribution -----------------------------------------------------------------------------


def distribution(values: Sequence[float | None]) -> dict:
    finite = [v for v in values if _ok(v)]
    if not finite:
        return {"count": 0, "min": None, "median": None, "max": None}
    return {"count": len(finite), "min": min(finite), "median": statistics.median(finite), "max": max(finite)}


def histogram(values: Sequence[float | None], bins: int = 10, lo: float | None = None, hi: float | None = None) -> list[dict]:
    """`bins` equal-width bins over [lo, hi] (default: the values' range); the last is closed."""
    finite = [v for v in values if _ok(v)]
    if not finite:
        return []
    lo = min(finite) if lo is None else lo
    hi = max(finite) if hi is None else hi
    width = (hi - lo) / bins if hi > lo else 0.0
    counts = [0] * bins
    for v in finite:
        i = 0 if width == 0 else min(bins - 1, max(0, int((v - lo) / width)))
        counts[i] += 1
    return [{"from": lo + i * width, "to": lo + (i + 1) * width if width else hi, "count": n} for i, n in enumerate(counts)]


def render_histogram(bins: list[dict], width: int = 40, digits: int = 2) -> list[str]:
    top = max((b["count"] for b in bins), default=0) or 1
    return [
        f"  [{b['from']:.{digits}f}, {b['to']:.{digits}f}{']' if n == len(bins) - 1 else ')'} "
        f"{'#' * round(width * b['count'] / top):<{width}} {b['count']}"
        for n, b in enumerate(bins)
    ]


# -- qrels ------------------------------------------------------------------------------------


class QrelsError(ValueError):
    """A qrels file that cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class Judgment:
    target: str  # as written: DOC, DOC#N or DOC@START-END (workbench.evaluation.trec)
    grade: int
    line: int | str  # "file:line" from the reader, or a line number

    def item(self):
        from .evaluation.trec import parse_item

        return parse_item(self.target)


def read_qrels(path: Path, qid: str | None = None) -> tuple[str, list[Judgment]]:
    """The judgments of one query: `qid`, or the file's only qid. Parsed by
    workbench.evaluation.trec (the format `workbench eval` reads): `QUERY 0 ITEM GRADE`."""
    from .evaluation.trec import read_qrels as read_trec

    lines, problems = read_trec(Path(path))
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise QrelsError(problems[0] + more)
    by_qid: dict[str, list[Judgment]] = {}
    for line in lines:
        by_qid.setdefault(line.query_id, []).append(Judgment(str(line.item), line.grade, line.where))
    if not by_qid:
        raise QrelsError(f"{path}: no judgments")
    if qid is None:
        if len(by_qid) > 1:
            raise QrelsError(f"{path} judges {len(by_qid)} queries ({', '.join(sorted(by_qid)[:5])}...); choose one with --qid")
        qid = next(iter(by_qid))
    if qid not in by_qid:
        raise QrelsError(f"{path} has no judgments for qid {qid!r}")
    return qid, by_qid[qid]


@dataclass
class Labels:
    grades: dict[tuple[str, int], int]  # (doc id, chunk index) -> grade; unjudged chunks get 0
    unknown: list[str] = field(default_factory=list)  # warnings: judgments naming nothing in the run
    unjudged: int = 0


def label_chunks(result: RankResult, judgments: Sequence[Judgment], source: str = "qrels") -> Labels:
    """A grade per chunk: a document's grade goes to every chunk of it, `DOC#N` to chunk N only and
    `DOC@START-END` to the chunks holding that whole span (both win over the document's grade; the
    highest when several apply). Unjudged chunks count as not relevant."""
    spans = {(c.doc_id, c.chunk.index): (c.chunk.start, c.chunk.end) for d in result.documents for c in d.chunks}
    docs = {d.doc_id for d in result.documents}
    doc_grade: dict[str, int] = {}
    chunk_grade: dict[tuple[str, int], int] = {}
    unknown = []
    for j in judgments:
        item = j.item()
        where = j.line if isinstance(j.line, str) else f"{source}:{j.line}"
        keys = []
        if item.doc in docs and item.whole:
            doc_grade[item.doc] = j.grade
            continue
        if item.doc in docs and item.chunk is not None:
            keys = [(item.doc, item.chunk)] if (item.doc, item.chunk) in spans else []
        elif item.doc in docs and item.span is not None:
            keys = [k for k, (s, e) in spans.items() if k[0] == item.doc and s <= item.span[0] and item.span[1] <= e]
        if not keys:
            unknown.append(f"warning: {where}: {j.target!r} is not a document (or chunk) of this run; ignored")
        for key in keys:
            chunk_grade[key] = max(j.grade, chunk_grade.get(key, 0))
    grades, unjudged = {}, 0
    for key in sorted(spans):
        grade = chunk_grade.get(key, doc_grade.get(key[0]))
        unjudged += grade is None
        grades[key] = grade or 0
    return Labels(grades, unknown, unjudged)


@dataclass(frozen=True)
class Threshold:
    threshold: float  # predict relevant when score >= threshold
    f1: float
    precision: float
    recall: float
    relevant: int
    selected: int
    below: float | None = None  # the highest score the cut leaves out (None: it keeps every chunk)

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "shown": self.shown(), "f1": self.f1, "precision": self.precision,
                "recall": self.recall, "relevant": self.relevant, "selected": self.selected}

    def shown(self) -> str:
        """The cut-off as a person reads and copies it: the shortest decimal, rounded down, that
        keeps exactly the same chunks. Rounding to nearest could print a value above the lowest
        kept score (copied, it would drop that chunk), and its last digit would follow the
        machine's float rounding (a score at ...2625 in the seventh place printed ...262 on one
        CPU and ...263 on another)."""
        for digits in range(2, 10):
            scale = 10**digits
            units = math.floor(self.threshold * scale)
            if units / scale > self.threshold:  # the product rounded up to a whole number
                units -= 1
            value = units / scale
            if self.below is None or value > self.below:
                return f"{value:.{digits}f}"
        return repr(self.threshold)  # scores closer than 1e-9: only the exact value separates them


def best_threshold(scored: Sequence[tuple[float, bool]]) -> Threshold | None:
    """The cut `score >= t` with the best F1 (on equal F1 the higher t: fewer chunks passed on).
    Candidates are the scores themselves. None without any relevant (or any finite) score."""
    pairs = sorted(((s, r) for s, r in scored if _ok(s)), key=lambda p: -p[0])
    relevant = sum(r for _, r in pairs)
    if not relevant:
        return None
    best: Threshold | None = None
    tp = 0
    for i, (s, r) in enumerate(pairs):
        tp += r
        if i + 1 < len(pairs) and pairs[i + 1][0] == s:
            continue  # a cut cannot fall between equal scores
        selected = i + 1
        precision, recall = tp / selected, tp / relevant
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        if best is None or f1 > best.f1:
            below = pairs[i + 1][0] if i + 1 < len(pairs) else None
            best = Threshold(s, f1, precision, recall, relevant, selected, below)
    return best


def calibration_report(result: RankResult, normalization: RunNormalization | None = None,
                       labels: Labels | None = None) -> dict:
    """The run's score distribution (logit, probability, normalized) and, with labels, the best cut."""
    chunks = [c for d in result.documents for c in d.chunks]
    report: dict = {
        "chunks": len(chunks),
        "logit": distribution([c.logit for c in chunks]),
        "score": distribution([c.score for c in chunks]),
        "histogram": histogram([c.score for c in chunks], 10, 0.0, 1.0),
    }
    if normalization is not None and normalization.method != "none":
        report["normalized"] = distribution(list(normalization.chunks.values())) | {"method": normalization.method}
    if labels is not None:
        scored = [(c.score, labels.grades.get((c.doc_id, c.chunk.index), 0) >= 1) for c in chunks]
        cut = best_threshold(scored)
        report["labels"] = {"relevant": sum(r for _, r in scored), "unjudged": labels.unjudged}
        report["best_threshold"] = cut.to_dict() if cut else None
    return report


def render_report(report: dict) -> list[str]:
    lines = [f"score distribution over {report['chunks']} chunk{'s' * (report['chunks'] != 1)}:"]
    for name in ("logit", "score", "normalized"):
        d = report.get(name)
        if d is None:
            continue
        label = {"score": "probability", "normalized": f"normalized ({d.get('method')})"}.get(name, name)
        if d["count"] == 0:
            lines.append(f"  {label:<22} n/a")
        else:
            lines.append(f"  {label:<22} min {d['min']:.4f}  median {d['median']:.4f}  max {d['max']:.4f}")
    lines.append("probability histogram (10 bins):")
    lines += render_histogram(report["histogram"], digits=1)
    if "labels" in report:
        cut = report["best_threshold"]
        if cut is None:
            lines.append("no chunk is judged relevant (grade >= 1): no threshold to suggest")
        else:
            lines.append(
                f"best cut-off: score >= {cut['shown']}  F1 {cut['f1']:.3f}  precision {cut['precision']:.3f}  "
                f"recall {cut['recall']:.3f}  ({cut['selected']} chunks kept, {cut['relevant']} relevant)"
            )
        if report["labels"]["unjudged"]:
            lines.append(f"({report['labels']['unjudged']} unjudged chunks counted as not relevant)")
    return lines
