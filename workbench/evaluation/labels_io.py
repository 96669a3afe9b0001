"""The app's relevance labels as judged queries and TREC qrels, and back (for `workbench labels`).

A whole document is the span (0, its length), written `DOC`; any other span is `DOC@START-END`.
Query ids are q1, q2, ... in the order of the query texts, so `labels list` and `labels export`
agree and repeated exports of the same labels match.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from workbench.documents import one_line
from workbench.store.labels import LabelRow


def query_ids(queries) -> dict[str, str]:
    """Query text -> export id: q1, q2, ... in the order of the texts (stable across exports
    of the same labels; `list` shows the same ids)."""
    texts = sorted({q for q in queries if q.strip()})
    return {text: f"q{n}" for n, text in enumerate(texts, 1)}


def whole_document(row: LabelRow) -> bool:
    return row.chars is not None and row.start == 0 and row.end == row.chars


def qrels_rows(
    rows: list[LabelRow], lengths: dict[str, int] | None = None, warn=lambda message: None
) -> tuple[list[tuple[str, str]], list[tuple[str, object, int]]]:
    """(queries, judgments) to write: [(id, query)] and [(id, Item, grade)], from stored labels.

    A whole-document label becomes `DOC`, any other span `DOC@START-END`, DOC being the name the
    document had when it was labelled. Whether (0, END) is the whole document needs the text's
    length: the run log's copy of the text, else `lengths` (text hash -> characters, from the
    documents given to `export`). Two texts labelled under one name for a query (the file
    changed between labelling sessions) would be one qrels item twice: the most recently labelled
    text's labels are kept, and `warn` is told about the rest."""
    from dataclasses import replace

    from workbench.evaluation.trec import Item

    lengths = lengths or {}
    by_query: dict[str, list[LabelRow]] = defaultdict(list)
    for row in rows:
        if row.chars is None and row.document_hash in lengths:
            row = replace(row, chars=lengths[row.document_hash])
        by_query[row.query].append(row)
    ids = query_ids(by_query)
    for query in by_query:
        if query not in ids:
            warn(f"warning: {len(by_query[query])} label(s) of an empty query skipped")
    unknown_length: set[str] = set()
    queries, judgments = [], []
    for query, qid in ids.items():
        texts: dict[str, dict[str, list[LabelRow]]] = defaultdict(lambda: defaultdict(list))
        for row in by_query[query]:
            texts[row.doc_id][row.document_hash].append(row)
        kept: list[LabelRow] = []
        for doc_id, by_hash in texts.items():
            newest = max(by_hash, key=lambda h: max(r.updated_at for r in by_hash[h]))
            kept += by_hash[newest]
            skipped = sum(len(v) for h, v in by_hash.items() if h != newest)
            if skipped:
                warn(
                    f"warning: query {qid} ({one_line(query, 40)!r}): {doc_id!r} was labelled as "
                    f"{len(by_hash)} different texts; only the latest text's labels are exported "
                    f"({skipped} older label(s) skipped)"
                )
        kept.sort(key=lambda r: (r.doc_id, not whole_document(r), r.start, r.end))
        for row in kept:
            if row.chars is None and row.start == 0:  # a span from 0 may be the whole text
                unknown_length.add(row.doc_id)
            item = Item(row.doc_id) if whole_document(row) else Item(row.doc_id, span=(row.start, row.end))
            judgments.append((qid, item, row.grade))
        queries.append((qid, query))
    if unknown_length:
        names = ", ".join(sorted(unknown_length)[:5]) + (", ..." if len(unknown_length) > 5 else "")
        warn(
            f"warning: neither the run log nor the documents given hold the text of {len(unknown_length)} "
            f"labelled document(s) ({names}): a whole-document label of theirs cannot be told from a "
            "chunk's, and is written as a span (DOC@0-END); pass the documents to `labels export` "
            "to write those as DOC"
        )
    return queries, judgments


def labels_to_import(queries_file: Path, qrels_file: Path, paths: list[str], warn=lambda message: None) -> tuple[list[LabelRow], list[str]]:
    """The labels the judged queries + qrels give for these documents, and one message per
    problem (file:line): malformed lines, duplicates, unknown queries or documents, spans past
    the end of their document, chunk indexes (DOC#N), two lines grading the same span of the
    same text for the same query text."""
    from workbench.documents import load_documents
    from workbench.evaluation.judged import apply_qrels, read_queries
    from workbench.evaluation.trec import read_qrels
    from workbench.store.runs import text_hash

    judged, problems = read_queries(queries_file)
    lines, qrels_problems = read_qrels(qrels_file)
    problems += qrels_problems
    judged = apply_qrels(judged, lines, problems)
    if not any(q.labels for q in judged):
        if not problems:
            problems.append(f"{qrels_file}: no judgment of a query of {queries_file}: nothing to import")
        return [], problems
    loaded = load_documents(paths)
    for problem in loaded.problems:
        warn(f"warning: {problem}")
    texts = {d.id: d.text for d in loaded.documents}
    hashes: dict[str, str] = {}
    names = ", ".join(sorted(texts)[:5]) + (", ..." if len(texts) > 5 else "") if texts else "none could be read"
    rows: list[LabelRow] = []
    seen: dict[tuple[str, str, int, int], str] = {}
    for q in judged:
        query = q.query.strip()
        for label in q.labels:
            item, where = label.item, label.where
            if item.chunk is not None:
                problems.append(
                    f"{where}: query {q.id!r}: {item} names a chunk by its index, which depends on the "
                    "chunking; labels are stored by span: write DOC@START-END (the chunk's characters) or DOC"
                )
                continue
            if item.doc not in texts:
                problems.append(f"{where}: query {q.id!r}: unknown document {item.doc!r} (documents given: {names})")
                continue
            text = texts[item.doc]
            start, end = item.span if item.span is not None else (0, len(text))
            if end > len(text):
                problems.append(f"{where}: query {q.id!r}: span {item} ends past the end of {item.doc!r} ({len(text)} characters)")
                continue
            if item.doc not in hashes:
                hashes[item.doc] = text_hash(text)
            key = (query, hashes[item.doc], start, end)
            if key in seen:
                problems.append(
                    f"{where}: query {q.id!r}: {item} labels the same characters of the same text for "
                    f"the same query text as {seen[key]}"
                )
                continue
            seen[key] = where
            rows.append(LabelRow(query, hashes[item.doc], item.doc, start, end, label.grade))
    return rows, problems
