"""The run log: every ranking is written here, and read back, compared and exported from here.

A run is written in two steps. `begin_run` commits the inputs (query, instruction, documents,
settings, model) before any scoring starts, so a crash or kill -9 mid-run loses only the scores
in flight, never what the user typed. `finish_run` then writes all scores in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TextIO

from sqlite_utils import Database

from workbench.engine.types import ChunkSettings, Document, ModelInfo, RankResult
from workbench.store import history, reading, sessions
from workbench.store.compare import RunComparison, compare_runs
from workbench.store.database import Store, utc_now
from workbench.store.schema import MODEL_TOKENS_VERSION
from workbench.store.errors import RunNotFoundError, SessionNotFoundError, StoreError
from workbench.store.export import ExportFormat, export_runs
from workbench.store.liveness import this_writer
from workbench.store.history import HistoryRow
from workbench.store.records import SessionInfo, StoredRun

_IN_BATCH = 500  # parameters per IN (...) list; far below SQLite's limit, and plans stay cheap


def text_hash(text: str) -> str:
    """Identity of a stored document: sha256 of its UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class RunLog:
    """Sessions and runs in one store. Thread-safe through the store's lock."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- sessions ---------------------------------------------------------------------------

    def ensure_session(self, name: str) -> int:
        """Session `name`, created if missing."""
        return sessions.ensure_session(self.store, name)

    def create_session(self, name: str, notes: str = "") -> int:
        return sessions.create_session(self.store, name, notes)

    def create_launch_session(self, origin: str, name: str | None = None) -> tuple[int, str]:
        """(id, name) of this launch's session: a new "app 2026-11-29 23:41:07" one, or `name`'s."""
        return sessions.create_launch_session(self.store, origin, name)

    def latest_run_of_origin(self, origin: str = "app") -> int | None:
        """The newest run of any session `origin` started (what the app reopens on relaunch)."""
        return sessions.latest_run_of_origin(self.store, origin)

    def get_session(self, session_id: int) -> SessionInfo:
        return sessions.get_session(self.store, session_id)

    def list_sessions(self) -> list[SessionInfo]:
        return sessions.list_sessions(self.store)

    def rename_session(self, session_id: int, name: str) -> None:
        sessions.rename_session(self.store, session_id, name)

    def annotate_session(self, session_id: int, notes: str) -> None:
        sessions.annotate_session(self.store, session_id, notes)

    def delete_session(self, session_id: int) -> int:
        return sessions.delete_session(self.store, session_id)

    # -- writing runs -----------------------------------------------------------------------

    def begin_run(
        self,
        session_id: int,
        query: str,
        instruction: str,
        documents: Sequence[Document],
        chunking: ChunkSettings,
        aggregate: str,
        top_k: int,
        model: ModelInfo,
        fingerprint: dict,
    ) -> int:
        """Log a run's inputs with status 'running' (committed before scoring); returns its id.

        The run records this process as its writer: should the process die before finish_run,
        the next listing shows the run 'interrupted' instead of 'running' forever.
        """
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            raise ValueError("document ids must be unique within a run")
        hashes = [text_hash(d.text) for d in documents]
        writer = this_writer()  # so a later reader can tell this process died mid-run
        with self.store.write() as db:
            if not db.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone():
                raise SessionNotFoundError(f"no session with id {session_id}")
            run_id = db.execute(
                "INSERT INTO runs (session_id, created_at, query, instruction, chunk_tokens, "
                "chunk_overlap, aggregate, top_k, model_id, model_kind, revision, dtype, "
                "quantization, device, attn_implementation, max_length, fallback, "
                "fallback_reason, model_choices, fingerprint, writer_pid, writer_host, "
                "writer_process) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    session_id, utc_now(), query, instruction, chunking.tokens, chunking.overlap,
                    aggregate, top_k, model.model_id, model.kind, model.revision, model.dtype,
                    model.quantization, model.device, model.attn_implementation,
                    model.max_length, int(model.is_fallback), model.fallback_reason,
                    json.dumps(list(model.choices)), json.dumps(fingerprint, sort_keys=True),
                    writer.pid, writer.host, writer.process,
                ],
            ).lastrowid
            # Texts are stored once: the first path seen stays.
            db.conn.executemany(
                "INSERT OR IGNORE INTO documents (hash, text, path, chars) VALUES (?, ?, ?, ?)",
                [(h, d.text, d.path, len(d.text)) for d, h in zip(documents, hashes)],
            )
            db.conn.executemany(
                "INSERT INTO run_documents (run_id, position, doc_id, path, document_hash) "
                "VALUES (?, ?, ?, ?, ?)",
                [(run_id, i, d.id, d.path, h) for i, (d, h) in enumerate(zip(documents, hashes))],
            )
        return run_id

    def finish_run(self, run_id: int, result: RankResult) -> None:
        """Write every score and the stats, and mark the run done or cancelled, in one transaction."""
        ranked = result.ranked_chunks()  # ties keep document order, as the engine shows them
        with self.store.write() as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()
            if row is None:
                raise RunNotFoundError(f"no run with id {run_id}")
            if row[0] != "running":
                raise StoreError(f"run {run_id} is already {row[0]}; scores are written once")
            docs = {
                doc_id: (position, doc_hash)
                for doc_id, position, doc_hash in db.execute(
                    "SELECT doc_id, position, document_hash FROM run_documents WHERE run_id = ?",
                    [run_id],
                )
            }
            unknown = {c.doc_id for c in ranked} - docs.keys()
            unknown |= {d.doc_id for d in result.documents} - docs.keys()
            if unknown:
                raise StoreError(f"run {run_id} has no document(s) {', '.join(sorted(unknown))}")
            # Plain executemany, not sqlite-utils' insert_all: its per-value conversion cost
            # 5x more on runs with thousands of chunks.
            db.conn.executemany(
                # A span already stored by an earlier run is reused.
                'INSERT OR IGNORE INTO chunks (document_hash, chunk_index, start, "end", tokens) '
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (docs[c.doc_id][1], c.chunk.index, c.chunk.start, c.chunk.end, c.chunk.tokens)
                    for c in ranked
                ],
            )
            chunk_ids = _chunk_ids(db, {h for _, h in docs.values()})
            db.conn.executemany(
                "INSERT INTO chunk_scores (run_id, position, chunk_index, chunk_id, tokens, logit, "
                "score, rank, prompt_tokens, truncated, cached) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id, docs[c.doc_id][0], c.chunk.index,
                        chunk_ids[(docs[c.doc_id][1], c.chunk.start, c.chunk.end)],
                        c.chunk.tokens, c.logit, c.score, rank, c.prompt_tokens,
                        int(c.truncated), int(c.cached),
                    )
                    for rank, c in enumerate(ranked, start=1)
                ],
            )
            db.conn.executemany(
                "UPDATE run_documents SET score = ?, rank = ? WHERE run_id = ? AND position = ?",
                [(d.score, d.rank, run_id, docs[d.doc_id][0]) for d in result.documents],
            )
            stats = result.stats
            db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, latency_s = ?, first_result_s = ?, "
                "pairs = ?, scored = ?, cached = ?, prompt_tokens = ? WHERE id = ?",
                [
                    "cancelled" if result.cancelled else "done", utc_now(), stats.latency_s,
                    stats.first_result_s, stats.pairs, stats.scored, stats.cached,
                    stats.prompt_tokens, run_id,
                ],
            )
            if self.store.schema_version >= MODEL_TOKENS_VERSION:  # (tests write older layouts too)
                db.execute("UPDATE runs SET model_tokens = ? WHERE id = ?", [stats.model_tokens, run_id])

    def log_result(
        self, session_id: int, documents: Sequence[Document], result: RankResult, fingerprint: dict
    ) -> int:
        """Log a finished result in one call (begin + finish); returns the run id."""
        run_id = self.begin_run(
            session_id, result.query, result.instruction, documents, result.chunking,
            result.aggregate, result.top_k, result.model, fingerprint,
        )
        self.finish_run(run_id, result)
        return run_id

    def delete_run(self, run_id: int) -> None:
        with self.store.write() as db:
            if not db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone():
                raise RunNotFoundError(f"no run with id {run_id}")
            db.execute("DELETE FROM runs WHERE id = ?", [run_id])
            sessions.prune_orphans(db)

    # -- reading, comparing, exporting -----------------------------------------------------

    def history_page(
        self, session_id: int | None = None, limit: int = 50, after: tuple[str, int] | None = None
    ) -> list[HistoryRow]:
        """Runs newest first (all sessions unless one is given), older than `after` (a row's
        `cursor`); light rows, no chunk data."""
        return history.history_page(self.store, session_id, limit, after)

    def count_runs(self, session_id: int | None = None) -> int:
        return reading.count_runs(self.store, session_id)

    def run_ids(self, session_id: int | None = None) -> list[int]:
        """All run ids (of one session), oldest first."""
        return reading.run_ids(self.store, session_id)

    def load_run(self, run_id: int) -> StoredRun:
        return reading.load_run(self.store, run_id)

    def compare_runs(self, a: int, b: int) -> RunComparison:
        return compare_runs(self.store, a, b)

    def export_runs(self, run_ids: Sequence[int], fmt: ExportFormat, out: TextIO) -> int:
        """Write runs as json / jsonl / csv to `out`; returns how many runs were written."""
        return export_runs(self.store, run_ids, fmt, out)


def _chunk_ids(db: Database, hashes: set[str]) -> dict[tuple[str, int, int], int]:
    ids: dict[tuple[str, int, int], int] = {}
    ordered = sorted(hashes)
    for i in range(0, len(ordered), _IN_BATCH):
        batch = ordered[i : i + _IN_BATCH]
        marks = ", ".join("?" * len(batch))
        for chunk_id, doc_hash, start, end in db.execute(
            f'SELECT id, document_hash, start, "end" FROM chunks WHERE document_hash IN ({marks})',
            batch,
        ):
            ids[(doc_hash, start, end)] = chunk_id
    return ids
