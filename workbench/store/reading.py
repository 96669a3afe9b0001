"""Reading runs back: counts and ids for exports, and whole runs for reopening in the UI.

Light pages of runs for lists are `history.history_page`: the one read model of run lists.
"""

from __future__ import annotations

import json

from workbench.engine.types import (
    ChunkScore,
    ChunkSettings,
    ChunkSpan,
    Document,
    DocumentScore,
    ModelInfo,
    RunStats,
)
from workbench.store.database import Store
from workbench.store.errors import RunNotFoundError
from workbench.store.liveness import interrupted_runs, shown_status
from workbench.store.records import StoredRun


def count_runs(store: Store, session_id: int | None = None) -> int:
    where, params = _session_filter(session_id)
    with store.read() as db:
        return db.execute(f"SELECT COUNT(*) FROM runs {where}", params).fetchone()[0]


def run_ids(store: Store, session_id: int | None = None) -> list[int]:
    """Ids of all runs (of one session), oldest first: the order exports are written in."""
    where, params = _session_filter(session_id)
    with store.read() as db:
        rows = db.execute(f"SELECT id FROM runs {where} ORDER BY created_at, id", params)
        return [row[0] for row in rows]


def _session_filter(session_id: int | None) -> tuple[str, list]:
    if session_id is None:
        return "", []
    return "WHERE session_id = ?", [session_id]


def load_run(store: Store, run_id: int) -> StoredRun:
    """Everything logged for one run, with scores as engine objects."""
    gone = interrupted_runs(store)
    with store.read() as db:
        run = next(
            db.query(
                "SELECT r.*, s.name AS session_name FROM runs r "
                "JOIN sessions s ON s.id = r.session_id WHERE r.id = ?",
                [run_id],
            ),
            None,
        )
        if run is None:
            raise RunNotFoundError(f"no run with id {run_id}")
        documents = db.execute(
            "SELECT d.position, d.doc_id, d.path, d.document_hash, d.score, d.rank, t.text "
            "FROM run_documents d JOIN documents t ON t.hash = d.document_hash "
            "WHERE d.run_id = ? ORDER BY d.position",
            [run_id],
        ).fetchall()
        chunks = db.execute(
            'SELECT cs.position, cs.chunk_index, c.start, c."end", cs.tokens, cs.logit, '
            "cs.score, cs.prompt_tokens, cs.truncated, cs.cached "
            "FROM chunk_scores cs JOIN chunks c ON c.id = cs.chunk_id "
            "WHERE cs.run_id = ? ORDER BY cs.rank",
            [run_id],
        ).fetchall()
    run["status"] = shown_status(run_id, run["status"], gone)
    return _assemble(run, documents, chunks)


def _assemble(run: dict, documents: list[tuple], chunks: list[tuple]) -> StoredRun:
    doc_id_at = {position: doc_id for position, doc_id, *_ in documents}
    chunk_scores = [
        ChunkScore(
            doc_id=doc_id_at[position],
            chunk=ChunkSpan(doc_id_at[position], index, start, end, tokens),
            logit=logit,
            score=score,
            prompt_tokens=prompt_tokens,
            truncated=bool(truncated),
            cached=bool(cached),
        )
        for position, index, start, end, tokens, logit, score, prompt_tokens, truncated, cached in chunks
    ]
    by_doc: dict[str, list[ChunkScore]] = {}
    for chunk in chunk_scores:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    scored = sorted((d for d in documents if d[5] is not None), key=lambda d: d[5])
    document_scores = [
        DocumentScore(
            doc_id=doc_id,
            path=path,
            score=score,
            rank=rank,
            chunks=sorted(by_doc.get(doc_id, []), key=lambda c: c.chunk.index),
        )
        for _, doc_id, path, _, score, rank, _ in scored
    ]
    return StoredRun(
        id=run["id"],
        session_id=run["session_id"],
        session_name=run["session_name"],
        created_at=run["created_at"],
        finished_at=run["finished_at"],
        status=run["status"],
        query=run["query"],
        instruction=run["instruction"],
        chunking=ChunkSettings(tokens=run["chunk_tokens"], overlap=run["chunk_overlap"]),
        aggregate=run["aggregate"],
        top_k=run["top_k"],
        model=_model_of(run),
        fingerprint=json.loads(run["fingerprint"] or "{}"),
        stats=RunStats(
            pairs=run["pairs"] or 0,
            scored=run["scored"] or 0,
            cached=run["cached"] or 0,
            prompt_tokens=run["prompt_tokens"] or 0,
            model_tokens=run.get("model_tokens") or 0,
            latency_s=run["latency_s"] or 0.0,
            first_result_s=run["first_result_s"],
        ),
        documents=[Document(id=d[1], text=d[6], path=d[2]) for d in documents],
        document_scores=document_scores,
        chunk_scores=chunk_scores,
        document_hashes={d[1]: d[3] for d in documents},
    )


def _model_of(run: dict) -> ModelInfo:
    served_by = _fingerprint_of(run)
    return ModelInfo(
        model_id=run["model_id"],
        kind=run["model_kind"],
        device=run["device"],
        dtype=run["dtype"],
        quantization=run["quantization"],
        revision=run["revision"],
        max_length=run["max_length"],
        attn_implementation=run["attn_implementation"],
        fallback_reason=run["fallback_reason"],
        choices=tuple(json.loads(run["model_choices"] or "[]")),
        backend=served_by.get("backend"),
        backend_identity=served_by.get("backend_identity"),
    )


def _fingerprint_of(run: dict) -> dict:
    try:
        value = json.loads(run.get("fingerprint") or "{}")
    except ValueError:  # a hand-edited or damaged row: the run still reads
        return {}
    return value if isinstance(value, dict) else {}
