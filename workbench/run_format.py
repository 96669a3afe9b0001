"""The run format: the one JSON object (and CSV rows) a ranking is written out as.

Used by `workbench score --format json/jsonl/csv`, the app's export (ctrl+s) and clipboard copy,
and `workbench sessions export`. A live RankResult and a stored run (through
StoredRun.to_rank_result) go through the same functions, so the same run reads the same both ways.

JSON never holds NaN or Infinity: a non-finite number becomes null, the value it had is named in a
`note` on that chunk or document and in the run's `problems` list, and every writer here dumps with
allow_nan=False so a regression fails loudly instead of writing invalid JSON.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

from .engine.types import ChunkScore, Document, DocumentScore, RankResult

if TYPE_CHECKING:
    from .calibration import RunNormalization

# One row per chunk score, documents best first and chunks in document order. `run_id` is empty
# for a run that was not read from the log; `chunk_rank` is the chunk's rank among all chunks.
CSV_COLUMNS = (
    "run_id", "query", "doc_rank", "doc_id", "path", "doc_score", "chunk_index", "start", "end",
    "tokens", "chunk_rank", "score", "logit", "truncated", "note", "doc_normalized", "normalized",
)
# `doc_normalized` / `normalized` are filled by `score --normalize minmax|zscore` only (see
# workbench.calibration): empty otherwise, and for logged runs (the log keeps no normalization).

NON_FINITE_REASON = "the model produced non-finite logits"


def _number(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def _non_finite(**values: float | None) -> str | None:
    """'score was NaN, logit was inf (...)' for the values that are not finite, else None."""
    bad = [f"{name} was {_spell(v)}" for name, v in values.items() if v is not None and not math.isfinite(v)]
    return f"{', '.join(bad)} ({NON_FINITE_REASON})" if bad else None


def _spell(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def chunk_dict(c: ChunkScore, norm: RunNormalization | None = None) -> dict:
    out = {
        "index": c.chunk.index,
        "start": c.chunk.start,
        "end": c.chunk.end,
        "tokens": c.chunk.tokens,
        "score": _number(c.score, 6),
        "logit": _number(c.logit, 6),
        "truncated": c.truncated,
    }
    if norm is not None:
        out["normalized"] = _number(norm.chunks.get((c.doc_id, c.chunk.index)), 6)
    note = _non_finite(score=c.score, logit=c.logit)
    if note:
        out["note"] = note
    return out


def document_dict(d: DocumentScore, norm: RunNormalization | None = None) -> dict:
    out = {
        "id": d.doc_id,
        "path": d.path,
        "score": _number(d.score, 6),
        "rank": d.rank,
    }
    if norm is not None:
        out["normalized"] = _number(norm.documents.get(d.doc_id), 6)
    out["chunks"] = [chunk_dict(c, norm) for c in d.chunks]
    note = _non_finite(score=d.score)
    if note:
        out["note"] = note
    return out


def problems(result: RankResult, top: int | None = None) -> list[str]:
    """One line per document or chunk whose numbers could not be written as numbers."""
    found = []
    for d in _documents(result, top):
        note = _non_finite(score=d.score)
        if note:
            found.append(f"{d.doc_id}: {note}")
        for c in d.chunks:
            note = _non_finite(score=c.score, logit=c.logit)
            if note:
                found.append(f"{d.doc_id} chunk {c.chunk.index}: {note}")
    return found


def run_dict(result: RankResult, top: int | None = None, unscored: Iterable[Document] = (),
             norm: RunNormalization | None = None) -> dict:
    """The run object: model, query, instruction, settings, stats, problems, documents best first.

    `unscored` are documents a stopped run never reached: listed last, with null score and rank.
    With `norm` (score --normalize) a `normalization` object and a `normalized` value per document
    and chunk are added; without it the object is exactly as before."""
    stats = result.stats
    out = {
        "model": result.model.to_dict(),
        "query": result.query,
        "instruction": result.instruction,
        "settings": {
            "chunk_tokens": result.chunking.tokens,
            "chunk_overlap": result.chunking.overlap,
            "aggregate": result.aggregate,
            "top_k": result.top_k,
        },
        "stats": {
            "pairs": stats.pairs,
            "scored": stats.scored,
            "cached": stats.cached,
            "prompt_tokens": stats.prompt_tokens,
            "model_tokens": stats.model_tokens,
            "latency_s": _number(stats.latency_s, 4),
            "first_result_s": _number(stats.first_result_s, 4),
            "tokens_per_s": _number(stats.tokens_per_s, 1),
        },
        "problems": problems(result, top),
        "documents": [document_dict(d, norm) for d in _documents(result, top)]
        + [{"id": d.id, "path": d.path, "score": None, "rank": None, "chunks": []} for d in unscored],
    }
    if norm is not None:
        out["normalization"] = norm.to_dict()
    return out


def csv_rows(result: RankResult, top: int | None = None, run_id: int | None = None,
             norm: RunNormalization | None = None) -> Iterator[dict]:
    """One row per chunk score (CSV_COLUMNS), documents best first, chunks in document order."""
    chunk_rank = {(c.doc_id, c.chunk.index): rank for rank, c in enumerate(result.ranked_chunks(), start=1)}
    for d in _documents(result, top):
        for c in d.chunks:
            chunk = chunk_dict(c)
            yield {
                "run_id": run_id,
                "query": result.query,
                "doc_rank": d.rank,
                "doc_id": d.doc_id,
                "path": d.path,
                "doc_score": _number(d.score, 6),
                "chunk_index": chunk["index"],
                "start": chunk["start"],
                "end": chunk["end"],
                "tokens": chunk["tokens"],
                "chunk_rank": chunk_rank.get((c.doc_id, c.chunk.index)),
                "score": chunk["score"],
                "logit": chunk["logit"],
                "truncated": chunk["truncated"],
                "note": "; ".join(n for n in (_non_finite(doc_score=d.score), chunk.get("note")) if n),
                "doc_normalized": None if norm is None else _number(norm.documents.get(d.doc_id), 6),
                "normalized": None if norm is None else _number(norm.chunks.get((c.doc_id, c.chunk.index)), 6),
            }


def csv_writer(out: TextIO) -> csv.DictWriter:
    """A writer for CSV_COLUMNS, its header already written."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    return writer


def dumps(obj, indent: int | None = None) -> str:
    """JSON text of a run object; raises ValueError on a NaN or Infinity that slipped through."""
    return json.dumps(obj, ensure_ascii=False, indent=indent, allow_nan=False)


def write_json(result: RankResult, out: TextIO, top: int | None = None, norm: RunNormalization | None = None,
               extra: dict | None = None) -> None:
    """The run object; `extra` keys (e.g. score --calibrate's `calibration`) are appended."""
    out.write(dumps(run_dict(result, top, norm=norm) | (extra or {}), indent=2) + "\n")


def write_csv(result: RankResult, out: TextIO, top: int | None = None, norm: RunNormalization | None = None) -> None:
    csv_writer(out).writerows(csv_rows(result, top, norm=norm))


def write_jsonl(result: RankResult, out: TextIO, top: int | None = None, norm: RunNormalization | None = None) -> None:
    """One document per line, each carrying the query and model so lines stand alone."""
    head = {"query": result.query, "model": result.model.model_id}
    if norm is not None:
        head["normalization"] = norm.method
    for d in _documents(result, top):
        out.write(dumps(head | document_dict(d, norm)) + "\n")


def _documents(result: RankResult, top: int | None) -> list[DocumentScore]:
    return result.documents[:top] if top else result.documents
