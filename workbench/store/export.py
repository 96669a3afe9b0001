"""Writing stored runs out as JSON, JSON Lines or CSV.

JSON and JSONL carry the same run object as `workbench score --format json` ("model", "query",
"instruction", "documents" with their "chunks"), plus where the run lives in the log. CSV has one
row per chunk score, for spreadsheets and pandas.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, TextIO

from workbench.store.database import Store
from workbench.store.errors import RunNotFoundError, StoreError
from workbench.store.reading import load_run
from workbench.store.records import StoredRun

ExportFormat = Literal["json", "jsonl", "csv"]
EXPORT_FORMATS: tuple[str, ...] = ("json", "jsonl", "csv")

CSV_COLUMNS = (
    "run_id", "query", "doc_id", "path", "doc_rank", "doc_score", "chunk_index", "start", "end",
    "tokens", "chunk_rank", "score", "logit",
)


def run_to_dict(run: StoredRun) -> dict:
    """One run in the `score --format json` shape, plus run_id, session, created_at, settings."""
    scored = {d.doc_id for d in run.document_scores}
    ranked = sorted(run.document_scores, key=lambda d: d.rank)
    # Documents a cancelled run never reached are listed last, without a score.
    unscored = [d for d in run.documents if d.id not in scored]
    return {
        "run_id": run.id,
        "session": {"id": run.session_id, "name": run.session_name},
        "created_at": run.created_at,
        "status": run.status,
        "model": run.model.to_dict(),
        "query": run.query,
        "instruction": run.instruction,
        "settings": {
            "chunk_tokens": run.chunking.tokens,
            "chunk_overlap": run.chunking.overlap,
            "aggregate": run.aggregate,
            "top_k": run.top_k,
        },
        "stats": {
            "pairs": run.stats.pairs,
            "scored": run.stats.scored,
            "cached": run.stats.cached,
            "prompt_tokens": run.stats.prompt_tokens,
            "latency_s": run.stats.latency_s,
            "first_result_s": run.stats.first_result_s,
        },
        "documents": [
            {
                "id": d.doc_id,
                "path": d.path,
                "score": _number(d.score),
                "rank": d.rank,
                "chunks": [
                    {
                        "index": c.chunk.index,
                        "start": c.chunk.start,
                        "end": c.chunk.end,
                        "tokens": c.chunk.tokens,
                        "score": _number(c.score),
                        "logit": _number(c.logit),
                        "truncated": c.truncated,
                    }
                    for c in d.chunks
                ],
            }
            for d in ranked
        ]
        + [
            {"id": d.id, "path": d.path, "score": None, "rank": None, "chunks": []}
            for d in unscored
        ],
    }


def csv_rows(run: StoredRun) -> Iterator[dict]:
    """One row per chunk score, best chunk first."""
    documents = {d.doc_id: d for d in run.document_scores}
    for rank, chunk in enumerate(run.chunk_scores, start=1):
        document = documents.get(chunk.doc_id)
        yield {
            "run_id": run.id,
            "query": run.query,
            "doc_id": chunk.doc_id,
            "path": document.path if document else None,
            "doc_rank": document.rank if document else None,
            "doc_score": document.score if document else None,
            "chunk_index": chunk.chunk.index,
            "start": chunk.chunk.start,
            "end": chunk.chunk.end,
            "tokens": chunk.chunk.tokens,
            "chunk_rank": rank,
            "score": chunk.score,
            "logit": chunk.logit,
        }


def check_export_target(output: Path, database: Path, force: bool) -> None:
    """Refuse an output that is the run database (or its -wal/-shm/-journal), whatever `force`
    says: opening it for writing would truncate the history. Refuse any other existing file
    unless `force`."""
    for guarded in _database_files(database):
        if _same_file(output, guarded):
            raise StoreError(
                f"refusing to write the export over the run database {guarded}; "
                "choose another --output"
            )
    if output.exists() and not force:
        raise StoreError(f"{output} already exists; pass --force to overwrite it")


def _database_files(database: Path) -> list[Path]:
    return [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))]


def _same_file(a: Path, b: Path) -> bool:
    # Resolved paths catch symlinks and relative spellings (and files not created yet, like a
    # -wal); samefile also catches hard links.
    if a.expanduser().resolve() == b.expanduser().resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def export_runs(store: Store, run_ids: Sequence[int], fmt: ExportFormat, out: TextIO) -> int:
    """Write the runs to `out`, one loaded at a time so big exports stay small in memory."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    _require_runs(store, run_ids)  # before the first byte, so a bad id leaves no half file
    runs = (load_run(store, run_id) for run_id in run_ids)
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for run in runs:
            writer.writerows(csv_rows(run))
            count += 1
    elif fmt == "jsonl":
        for run in runs:
            out.write(json.dumps(run_to_dict(run), ensure_ascii=False) + "\n")
            count += 1
    else:
        out.write("[")
        for run in runs:
            out.write(",\n" if count else "\n")
            out.write(json.dumps(run_to_dict(run), ensure_ascii=False, indent=2))
            count += 1
        out.write("\n]\n" if count else "]\n")
    return count


def _require_runs(store: Store, run_ids: Sequence[int]) -> None:
    with store.read() as db:
        for run_id in run_ids:
            if not db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone():
                raise RunNotFoundError(f"no run with id {run_id}")


def _number(value: float | None) -> float | None:
    # JSON has no NaN/Infinity; a strict parser would reject the whole file for one odd logit.
    if value is None or math.isfinite(value):
        return value
    return None
