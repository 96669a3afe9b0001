"""sample_data/qrels.txt: the judgments of sample_data/queries.jsonl as TREC qrels, kept current.

If this fails after editing queries.jsonl or a document, rewrite the file's judgment lines (below
its comment lines) with `write_qrels(out, phrase_spans(queries, texts))`, the queries and texts
read as `test_sample_qrels_match_the_queries_file` reads them."""

from __future__ import annotations

from pathlib import Path

from workbench.documents import load_documents
from workbench.evaluation import apply_qrels, check_against_documents, phrase_spans, read_qrels, read_queries

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _texts() -> dict[str, str]:
    loaded = load_documents([str(SAMPLE / "docs")], None)  # as `workbench eval ... sample_data/docs` reads them
    assert loaded.problems == []
    return {d.id: d.text for d in loaded.documents}


def test_sample_qrels_read_cleanly_and_name_sample_documents():
    texts = _texts()
    queries, problems = read_queries(SAMPLE / "queries.jsonl")
    lines, qrel_problems = read_qrels(SAMPLE / "qrels.txt")
    assert problems == [] and qrel_problems == []
    judged = apply_qrels(queries, lines, problems)
    assert problems == []  # every qrels query id is in queries.jsonl
    assert check_against_documents(judged, texts) == []  # every item names a document; spans fit in it
    assert {ln.item.doc for ln in lines} <= set(texts)
    assert all(q.labels and all(lb.grade > 0 for lb in q.labels) for q in judged)  # every query judged


def test_sample_qrels_match_the_queries_file():
    texts = _texts()
    queries, _ = read_queries(SAMPLE / "queries.jsonl")
    lines, _ = read_qrels(SAMPLE / "qrels.txt")
    assert [(ln.query_id, ln.item, ln.grade) for ln in lines] == phrase_spans(queries, texts)
    phrases = {(q.id, lb.item.doc): lb.phrase for q in queries for lb in q.labels}
    for ln in lines:  # each span is exactly its query's `contains` phrase
        start, end = ln.item.span
        assert texts[ln.item.doc][start:end] == phrases[ln.query_id, ln.item.doc], ln.where
