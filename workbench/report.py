"""The JSON shape of a ranking: the contract of `workbench score --format json`, exports and logs."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from .engine.types import ChunkScore, DocumentScore, RankResult


def chunk_dict(c: ChunkScore) -> dict:
    return {
        "index": c.chunk.index,
        "start": c.chunk.start,
        "end": c.chunk.end,
        "tokens": c.chunk.tokens,
        "score": round(c.score, 6),
        "logit": round(c.logit, 6),
        "truncated": c.truncated,
    }


def document_dict(d: DocumentScore) -> dict:
    return {
        "id": d.doc_id,
        "path": d.path,
        "score": round(d.score, 6),
        "rank": d.rank,
        "chunks": [chunk_dict(c) for c in d.chunks],
    }


def result_dict(result: RankResult, top: int | None = None) -> dict:
    docs = result.documents[:top] if top else result.documents
    return {
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
            "pairs": result.stats.pairs,
            "scored": result.stats.scored,
            "cached": result.stats.cached,
            "prompt_tokens": result.stats.prompt_tokens,
            "latency_s": round(result.stats.latency_s, 4),
            "tokens_per_s": round(result.stats.tokens_per_s, 1),
        },
        "documents": [document_dict(d) for d in docs],
    }


CSV_FIELDS = ["doc_rank", "doc_id", "path", "doc_score", "chunk_index", "start", "end", "tokens", "score", "logit", "truncated"]


def write_csv(result: RankResult, out: TextIO, top: int | None = None) -> None:
    """One row per chunk, documents best first."""
    w = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for d in result.documents[:top] if top else result.documents:
        for c in d.chunks:
            w.writerow(
                {"doc_rank": d.rank, "doc_id": d.doc_id, "path": d.path or "", "doc_score": round(d.score, 6)}
                | {f"chunk_{k}" if k == "index" else k: v for k, v in chunk_dict(c).items()}
            )


def write_jsonl(result: RankResult, out: TextIO, top: int | None = None) -> None:
    """One document per line, each carrying the query and model so lines stand alone."""
    head = {"query": result.query, "model": result.model.model_id}
    for d in result.documents[:top] if top else result.documents:
        out.write(json.dumps(head | document_dict(d), ensure_ascii=False) + "\n")
