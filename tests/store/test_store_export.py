"""Exports parse back, in the shape of `workbench score --format json`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from store_factories import FINGERPRINT, make_documents, make_result

from workbench.store import RunNotFoundError
from workbench.run_format import CSV_COLUMNS


@pytest.fixture
def two_runs(log):
    session = log.create_session("export")
    docs = make_documents(3, 3)
    first = make_result(docs, query="first", seed=1)
    second = make_result(docs, query="second", seed=2)
    return [log.log_result(session, docs, r, FINGERPRINT) for r in (first, second)], [first, second]


def test_json_export(log, two_runs):
    ids, results = two_runs
    out = io.StringIO()
    assert log.export_runs(ids, "json", out) == 2
    data = json.loads(out.getvalue())
    assert [run["run_id"] for run in data] == ids
    run, result = data[0], results[0]
    assert {"model", "query", "instruction", "documents", "run_id", "session", "created_at",
            "settings"} <= run.keys()
    assert run["model"] == result.model.to_dict()
    assert run["session"]["name"] == "export"
    assert run["settings"] == {"chunk_tokens": 16, "chunk_overlap": 0, "aggregate": "max", "top_k": 3}
    assert [d["id"] for d in run["documents"]] == [d.doc_id for d in result.documents]
    doc = run["documents"][0]
    assert set(doc) == {"id", "path", "score", "rank", "chunks"}
    assert doc["rank"] == 1 and doc["score"] == round(result.documents[0].score, 6)  # as `score` rounds
    chunk = doc["chunks"][2]
    assert set(chunk) == {"index", "start", "end", "tokens", "score", "logit", "truncated"}
    assert chunk["index"] == 2 and chunk["truncated"] is True


def test_jsonl_export(log, two_runs):
    ids, _ = two_runs
    out = io.StringIO()
    log.export_runs(ids, "jsonl", out)
    lines = out.getvalue().splitlines()
    assert [json.loads(line)["query"] for line in lines] == ["first", "second"]


def test_csv_export(log, two_runs):
    ids, results = two_runs
    out = io.StringIO()
    log.export_runs(ids, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 18
    first_run = [r for r in rows if int(r["run_id"]) == ids[0]]
    # rows as `score --format csv` writes them: documents best first, chunks in document order
    assert [r["doc_id"] for r in first_run[::3]] == [d.doc_id for d in results[0].documents]
    assert [int(r["chunk_index"]) for r in first_run[:3]] == [0, 1, 2]
    first_run.sort(key=lambda r: int(r["chunk_rank"]))
    assert [int(r["chunk_rank"]) for r in first_run] == list(range(1, 10))
    best = results[0].ranked_chunks()[0]
    assert first_run[0]["doc_id"] == best.doc_id
    assert float(first_run[0]["logit"]) == best.logit
    assert int(first_run[0]["start"]) == best.chunk.start


def test_empty_export_and_unknown_run(log):
    out = io.StringIO()
    log.export_runs([], "json", out)
    assert json.loads(out.getvalue()) == []
    out = io.StringIO()
    with pytest.raises(RunNotFoundError):
        log.export_runs([42], "jsonl", out)
    assert out.getvalue() == ""


def test_unscored_documents_are_listed_last(log):
    session = log.ensure_session("tests")
    docs = make_documents(2, 1)
    from workbench.engine.types import ChunkSettings
    from store_factories import MODEL
    run_id = log.begin_run(session, "q", "i", docs, ChunkSettings(), "max", 3, MODEL, {})
    out = io.StringIO()
    log.export_runs([run_id], "json", out)
    run = json.loads(out.getvalue())[0]
    assert run["status"] == "running"
    assert [(d["id"], d["rank"]) for d in run["documents"]] == [("doc0.txt", None), ("doc1.txt", None)]


# --------------------------------------------------------------------------------------------
# Non-finite numbers: JSON stays valid, the reason is kept
# --------------------------------------------------------------------------------------------


def _strict_loads(text: str):
    def refuse(constant):
        raise AssertionError(f"invalid JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _poison(documents):
    """The best document's first chunk and the document score become NaN, as a broken fp16 run."""
    doc = documents[0]
    doc.score = float("nan")
    doc.chunks[0].logit = float("nan")
    doc.chunks[0].score = float("nan")
    return doc.doc_id


def _check_nan_run(run: dict, doc_id: str) -> None:
    doc = next(d for d in run["documents"] if d["id"] == doc_id)
    assert doc["score"] is None and "score was NaN" in doc["note"]
    chunk = doc["chunks"][0]
    assert chunk["score"] is None and chunk["logit"] is None
    assert "score was NaN" in chunk["note"] and "logit was NaN" in chunk["note"]
    assert "non-finite logits" in chunk["note"]
    assert any(p.startswith(f"{doc_id} chunk 0:") for p in run["problems"])
    assert any(p.startswith(f"{doc_id}:") for p in run["problems"])


def test_nan_is_null_with_its_reason_in_the_live_format():
    from workbench.run_format import csv_rows, write_json, write_jsonl

    result = make_result(make_documents(2, 3))
    doc_id = _poison(result.documents)
    out = io.StringIO()
    write_json(result, out)
    _check_nan_run(_strict_loads(out.getvalue()), doc_id)
    out = io.StringIO()
    write_jsonl(result, out)
    lines = [_strict_loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["score"] is None and "NaN" in lines[0]["note"]
    row = next(csv_rows(result))
    assert row["score"] is None and "NaN" in row["note"]


def test_nan_is_null_with_its_reason_in_the_export(log):
    from workbench.run_format import dumps
    from workbench.store.export import run_to_dict

    session = log.create_session("nan")
    docs = make_documents(2, 3)
    run_id = log.log_result(session, docs, make_result(docs), FINGERPRINT)
    stored = log.load_run(run_id)
    doc_id = _poison(stored.document_scores)
    run = _strict_loads(dumps(run_to_dict(stored), indent=2))
    _check_nan_run(run, doc_id)
    assert run["run_id"] == run_id


def test_a_non_finite_number_that_slips_through_fails_loudly():
    from workbench.run_format import dumps

    with pytest.raises(ValueError):
        dumps({"score": float("nan")})
