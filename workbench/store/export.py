"""Writing stored runs out as JSON, JSON Lines or CSV.

JSON and JSONL carry the run object of workbench.run_format, the same as `workbench score --format
json`, plus where the run lives in the log. CSV has one row per chunk score in the same columns as
`score --format csv` (run_format.CSV_COLUMNS), for spreadsheets and pandas.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, TextIO

from workbench import run_format
from workbench.run_format import csv_writer, dumps, run_dict
from workbench.store.database import Store
from workbench.store.errors import RunNotFoundError, StoreError
from workbench.store.reading import load_run
from workbench.store.records import StoredRun

ExportFormat = Literal["json", "jsonl", "csv"]
EXPORT_FORMATS: tuple[str, ...] = ("json", "jsonl", "csv")


def run_to_dict(run: StoredRun) -> dict:
    """One run in the `score --format json` shape (workbench.run_format), led by what only a
    logged run has: run_id, session, status, created_at, finished_at."""
    scored = {d.doc_id for d in run.document_scores}
    # Documents a cancelled run never reached are listed last, without a score.
    unscored = [d for d in run.documents if d.id not in scored]
    return {
        "run_id": run.id,
        "session": {"id": run.session_id, "name": run.session_name},
        "status": run.status,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    } | run_dict(run.to_rank_result(), unscored=unscored)


def csv_rows(run: StoredRun) -> Iterator[dict]:
    """The run's rows in the shared CSV_COLUMNS, as `score --format csv` writes them."""
    return run_format.csv_rows(run.to_rank_result(), run_id=run.id)


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
        writer = csv_writer(out)
        for run in runs:
            writer.writerows(csv_rows(run))
            count += 1
    elif fmt == "jsonl":
        for run in runs:
            out.write(dumps(run_to_dict(run)) + "\n")
            count += 1
    else:
        out.write("[")
        for run in runs:
            out.write(",\n" if count else "\n")
            out.write(dumps(run_to_dict(run), indent=2))
            count += 1
        out.write("\n]\n" if count else "]\n")
    return count


def _require_runs(store: Store, run_ids: Sequence[int]) -> None:
    with store.read() as db:
        for run_id in run_ids:
            if not db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone():
                raise RunNotFoundError(f"no run with id {run_id}")

