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

from workbench.cli_sessions import DbOption, clean_errors, configured_db, run_log
from workbench.documents import one_line
from workbench.evaluation.labels_io import labels_to_import, qrels_rows, query_ids, whole_document
from workbench.store import NoDatabaseError, StoreError
from workbench.store.export import check_export_target
from workbench.store.labels import LabelRow, all_labels, set_labels

labels_app = typer.Typer(
    name="labels",
    help="List, export (as queries + qrels for `workbench eval`) and import relevance labels.",
    no_args_is_help=True,
    add_completion=False,
)


@labels_app.command("list")
@clean_errors
def list_labels(db: DbOption = None) -> None:
    """List the labelled queries: how many labels, documents and of each grade (0-3)."""
    try:
        with run_log(db, readonly=True) as log:
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
        whole = sum(whole_document(r) for r in labels)
        typer.echo(
            f"{ids.get(query, '-'):>5}  {len(labels):>6}  {docs:>4}  {whole:>5}  "
            + " ".join(f"{grades.get(g, 0):>3}" for g in range(4))
            + f"  {one_line(query, 60) or '(empty query)'}"
        )


@labels_app.command("export")
@clean_errors
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
    database = configured_db(db)
    for path in (qrels_path, queries_path):
        check_export_target(path, database, force)  # before anything is opened or written
    with run_log(database, readonly=True) as log:
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


@labels_app.command("import")
@clean_errors
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
    with run_log(db, readonly=False) as log:
        changed = set_labels(log.store, rows)
        where = log.store.path
    count = len({r.query for r in rows})
    same = len(rows) - changed
    typer.echo(
        f"imported {len(rows)} label(s) of {count} query(ies) into {where}"
        + (f" ({same} already stored with that grade)" if same else "")
    )
