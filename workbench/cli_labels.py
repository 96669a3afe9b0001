"""`workbench labels ...`: the relevance labels set in the app, as judged queries and TREC qrels.

`export` writes PREFIX.queries.jsonl and PREFIX.qrels, which `workbench eval` reads as they are;
`import` stores the judgments of such files (or hand-written ones) as app labels. Labels are kept
per (query text, document text, character span): a whole document is the span (0, its length),
written `DOC` in qrels, and a chunk is written `DOC@START-END`. `DOC#N` (chunk N) cannot be
imported: a chunk index means nothing without the chunking it was counted under.

`list` and `export` open the database read-only (as `workbench sessions` does). `import` checks
every line against the documents first, reports every problem (file:line) with exit status 2 and
writes nothing then; otherwise it stores all labels in one transaction.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli_sessions import DbOption, _clean_errors, _configured_db, _one_line, _run_log
from workbench.store import NoDatabaseError, StoreError
from workbench.store.export import check_export_target
from workbench.store.labels import LabelRow, all_labels, set_labels

labels_app = typer.Typer(
    name="labels",
    help="List, export (as queries + qrels for `workbench eval`) and import relevance labels.",
    no_args_is_help=True,
    add_completion=False,
)


def query_ids(queries) -> dict[str, str]:
    """Query text -> export id: q1, q2, ... in the order of the texts (stable across exports
    of the same labels; `list` shows the same ids)."""
    texts = sorted({q for q in queries if q.strip()})
    return {text: f"q{n}" for n, text in enumerate(texts, 1)}


def _whole(row: LabelRow) -> bool:
    return row.chars is not None and row.start == 0 and row.end == row.chars


@labels_app.command("list")
@_clean_errors
def list_labels(db: DbOption = None) -> None:
    """List the labelled queries: how many labels, documents and of each grade (0-3)."""
    try:
        with _run_log(db, readonly=True) as log:
            rows = all_labels(log.store)
    except NoDatabaseError as exc:
        typer.echo(f"No labels yet (there is no database at {exc.path}).")
        return
    if not rows:
        typer.echo("No labels yet.")
        return
    by_query: dict[str, list[LabelRow]] = defaultdict(list)
    for row in rows:
        by_query[row.query].append(row)
    ids = query_ids(by_query)
    typer.echo(f"{'ID':>5}  {'LABELS':>6}  {'DOCS':>4}  {'WHOLE':>5}  {'G0':>3} {'G1':>3} {'G2':>3} {'G3':>3}  QUERY")
    for query in sorted(by_query, key=lambda q: (q not in ids, q)):
        labels = by_query[query]
        grades = Counter(r.grade for r in labels)
        docs = len({r.document_hash for r in labels})
        whole = sum(_whole(r) for r in labels)
        typer.echo(
            f"{ids.get(query, '-'):>5}  {len(labels):>6}  {docs:>4}  {whole:>5}  "
            + " ".join(f"{grades.get(g, 0):>3}" for g in range(4))
            + f"  {_one_line(query, 60) or '(empty query)'}"
        )


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
                    f"warning: query {qid} ({_one_line(query, 40)!r}): {doc_id!r} was labelled as "
                    f"{len(by_hash)} different texts; only the latest text's labels are exported "
                    f"({skipped} older label(s) skipped)"
                )
        kept.sort(key=lambda r: (r.doc_id, not _whole(r), r.start, r.end))
        for row in kept:
            if row.chars is None and row.start == 0:  # a span from 0 may be the whole text
                unknown_length.add(row.doc_id)
            item = Item(row.doc_id) if _whole(row) else Item(row.doc_id, span=(row.start, row.end))
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


@labels_app.command("export")
@_clean_errors
def export(
    output: Annotated[str, typer.Option("--output", "-o", help="PREFIX: writes PREFIX.qrels and PREFIX.queries.jsonl.")],
    paths: Annotated[Optional[list[str]], typer.Argument(
        help="Documents (files or folders) to measure the labelled texts the run log does not hold, "
        "so that their whole-document labels are written as DOC.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the two files if they exist.")] = False,
    db: DbOption = None,
) -> None:
    """Write the labels as PREFIX.queries.jsonl + PREFIX.qrels for `workbench eval`.

    Then `workbench eval PREFIX.queries.jsonl DOCS --qrels PREFIX.qrels` judges with them (DOCS
    loaded so that documents keep the names they had in the app). PATHS are needed only for
    labels of texts the run log does not hold (imported labels, or runs since deleted)."""
    from workbench.evaluation.trec import write_qrels

    if not output.strip() or output == "-":
        raise StoreError("-o needs a file name prefix (PREFIX.qrels and PREFIX.queries.jsonl are written)")
    qrels_path, queries_path = Path(f"{output}.qrels"), Path(f"{output}.queries.jsonl")
    database = _configured_db(db)
    for path in (qrels_path, queries_path):
        check_export_target(path, database, force)  # before anything is opened or written
    with _run_log(database, readonly=True) as log:
        rows = all_labels(log.store)
    warn = lambda message: typer.secho(message, fg=typer.colors.YELLOW, err=True)  # noqa: E731
    queries, judgments = qrels_rows(rows, _lengths(paths or [], warn), warn)
    if not judgments:
        raise StoreError(f"no labels to export in {database}")
    if not any(grade > 0 for _, _, grade in judgments):
        warn("warning: every label has grade 0: `workbench eval` needs a relevant (1-3) one to measure anything")
    lines = "".join(json.dumps({"id": qid, "query": query}, ensure_ascii=False) + "\n" for qid, query in queries)
    _write_files({queries_path: lines, qrels_path: lambda out: write_qrels(out, judgments)}, force)
    typer.echo(
        f"wrote {len(judgments)} label(s) of {len(queries)} query(ies) to {qrels_path} and {queries_path}",
        err=True,
    )


def _lengths(paths: list[str], warn) -> dict[str, int]:
    """Text hash -> length of each readable document named (unreadable ones are warned about)."""
    if not paths:
        return {}
    from workbench.documents import load_documents
    from workbench.store.runs import text_hash

    loaded = load_documents(paths)
    for problem in loaded.problems:
        warn(f"warning: {problem}")
    return {text_hash(d.text): len(d.text) for d in loaded.documents}


def _write_files(contents: dict, force: bool) -> None:
    """Write every file or none: "x" (create, never replace) unless `force`; a file this call
    created is removed again when a later one fails."""
    created: list[Path] = []
    try:
        for path, content in contents.items():
            try:
                out = path.open("w" if force else "x", encoding="utf-8", newline="")
            except FileExistsError:
                raise StoreError(f"{path} already exists; pass --force to overwrite it") from None
            except OSError as exc:
                raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
            if not force:
                created.append(path)
            try:
                with out:
                    if callable(content):
                        content(out)
                    else:
                        out.write(content)
            except OSError as exc:
                raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


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


@labels_app.command("import")
@_clean_errors
def import_labels(
    queries: Annotated[Path, typer.Argument(help="Judged queries (JSONL with id and query), as `workbench eval` reads.", dir_okay=False)],
    qrels: Annotated[Path, typer.Argument(help="TREC qrels: QUERY 0 ITEM GRADE, ITEM = DOC or DOC@START-END.", dir_okay=False)],
    paths: Annotated[list[str], typer.Argument(help="The documents: files or folders, named as `workbench eval` names them.")],
    db: DbOption = None,
) -> None:
    """Store judged queries + TREC qrels as the app's labels of these documents.

    Labels are stored for each query's text and each document's text (whatever its name); an
    existing label on the same span gets the imported grade. DOC#N (a chunk by index) is refused:
    write DOC@START-END. Every problem is reported (exit status 2) before anything is written."""
    warn = lambda message: typer.secho(message, fg=typer.colors.YELLOW, err=True)  # noqa: E731
    rows, problems = labels_to_import(queries, qrels, paths, warn)
    if problems:
        for problem in problems:
            typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        typer.echo(f"nothing imported ({len(problems)} problem(s))", err=True)
        raise typer.Exit(2)
    with _run_log(db, readonly=False) as log:
        changed = set_labels(log.store, rows)
        where = log.store.path
    count = len({r.query for r in rows})
    same = len(rows) - changed
    typer.echo(
        f"imported {len(rows)} label(s) of {count} query(ies) into {where}"
        + (f" ({same} already stored with that grade)" if same else "")
    )
