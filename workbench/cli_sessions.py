"""`workbench sessions ...` and `workbench locate`: the run log from the command line.

Every command opens the store itself, so `--db` works everywhere, and turns StoreError into one
line on stderr with exit status 1: a locked or missing database is an answer, not a traceback.
`list`, `show` and `export` open it read-only: they work on read-only media and while another
process writes, and never create, upgrade or move a database.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer

from workbench import paths
from workbench.documents import one_line
from workbench.store import NoDatabaseError, RunLog, StoredRun, StoreError, open_store
from workbench.store.export import check_export_target

sessions_app = typer.Typer(
    name="sessions",
    help="Browse, export and delete logged runs.",
    no_args_is_help=True,
    add_completion=False,
)

DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help="Session database file (default: workbench.db in the data dir).",
                 dir_okay=False),
]
F = TypeVar("F", bound=Callable)


class Format(str, Enum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def clean_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except StoreError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except ValueError as exc:
            # Imported here: pydantic-settings would slow every command's start, --help included.
            from workbench.settings import ConfigError

            if not isinstance(exc, ConfigError):
                raise
            typer.echo(f"error: {exc}", err=True)  # as `score` and the app report a bad setting
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def configured_db(db: Path | None) -> Path:
    """--db, else the `db` setting (WORKBENCH_DB or config.toml) that `score` and the app use,
    else the data dir's default: every command must look at the same database."""
    if db is not None:
        return db
    from workbench.settings import Settings

    return Settings().db or paths.default_db_path()  # ConfigError: a broken config is reported


@contextmanager
def run_log(db: Path | None, *, readonly: bool) -> Iterator[RunLog]:
    store = open_store(configured_db(db), readonly=readonly)
    if store.notice:
        typer.echo(store.notice, err=True)
    try:
        yield RunLog(store)
    finally:
        store.close()


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


@sessions_app.command("list")
@clean_errors
def list_sessions(db: DbOption = None) -> None:
    """List sessions, most recently used first."""
    try:
        with run_log(db, readonly=True) as log:
            sessions = log.list_sessions()
    except NoDatabaseError as exc:
        typer.echo(f"No runs yet (there is no database at {exc.path}).")
        return
    if not sessions:
        typer.echo("No sessions yet.")
        return
    # Launch sessions are named "score 2026-11-29 23:41:07 (2)": the column fits that whole.
    typer.echo(f"{'ID':>5}  {'NAME':<29} {'RUNS':>5}  {'LAST RUN':<16}  NOTES")
    for s in sessions:
        notes = f"{s.interrupted} interrupted; {s.notes}" if s.interrupted else s.notes
        typer.echo(
            f"{s.id:>5}  {one_line(s.name, 29):<29} {s.runs:>5}  {_when(s.last_run_at):<16}  "
            f"{one_line(notes, 30)}"
        )


@sessions_app.command("show")
@clean_errors
def show(
    id: Annotated[int, typer.Argument(help="Session id (or run id with --run).")],
    run: Annotated[bool, typer.Option("--run", help="ID is a run: show its ranking.")] = False,
    limit: Annotated[int, typer.Option(help="Most runs to list.")] = 50,
    db: DbOption = None,
) -> None:
    """Show a session's runs, or with --run one run's ranking."""
    with run_log(db, readonly=True) as log:
        if run:
            _print_run(log.load_run(id))
            return
        session = log.get_session(id)
        runs = log.history_page(session_id=id, limit=limit)
    typer.echo(f"Session {session.id} {session.name!r}: {session.runs} run(s)")
    if session.notes:
        typer.echo(session.notes)
    typer.echo(f"{'RUN':>6}  {'WHEN':<16}  {'STATUS':<11} {'DOCS':>4}  {'TOP':<16} {'SCORE':>6}  QUERY")
    for r in runs:
        score = f"{r.top_score:.3f}" if r.top_score is not None else "-"
        typer.echo(
            f"{r.id:>6}  {_when(r.created_at):<16}  {r.status:<11} {r.documents:>4}  "
            f"{one_line(r.top_doc or '-', 16):<16} {score:>6}  {one_line(r.query, 40)}"
        )
    if session.runs > len(runs):
        typer.echo(f"… {session.runs - len(runs)} older run(s) not shown (--limit)")


def _print_run(run: StoredRun) -> None:
    m = run.model
    typer.echo(f"Run {run.id} in session {run.session_id} {run.session_name!r}, {_when(run.created_at)}, {run.status}")
    typer.echo(f"model:       {m.model_id} ({m.kind}, {m.device}, {m.dtype}, {m.quantization})")
    typer.echo(f"query:       {run.query}")
    typer.echo(f"instruction: {run.instruction}")
    chunking = f"{run.chunking.tokens}/{run.chunking.overlap} tokens" if run.chunking.enabled else "off"
    typer.echo(f"chunks:      {chunking}, aggregate {run.aggregate}, top_k {run.top_k}")
    typer.echo(f"{'RANK':>4}  {'SCORE':>6}  {'DOCUMENT':<24} BEST CHUNK")
    for d in run.document_scores:
        best = max(d.chunks, key=lambda c: c.logit, default=None)
        where = f"#{best.chunk.index} [{best.chunk.start}:{best.chunk.end}] logit {best.logit:.2f}" if best else "-"
        typer.echo(f"{d.rank:>4}  {d.score:>6.3f}  {one_line(d.doc_id, 24):<24} {where}")
    missing = len(run.documents) - len(run.document_scores)
    if missing:
        typer.echo(f"({missing} document(s) not scored: the run was {run.status})")


@sessions_app.command("export")
@clean_errors
def export(
    session: Annotated[Optional[int], typer.Option("--session", help="Export this session's runs.")] = None,
    run: Annotated[Optional[list[int]], typer.Option("--run", help="Export this run (repeatable).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write; - or none: stdout.", dir_okay=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists.")] = False,
    db: DbOption = None,
) -> None:
    """Export runs (a session's, chosen ones, or all) as JSON, JSON Lines or CSV."""
    if session is not None and run:
        typer.echo("error: give --session or --run, not both", err=True)
        raise typer.Exit(1)
    if output is not None and str(output) == "-":
        output = None
    database = configured_db(db)
    if output is not None:
        check_export_target(output, database, force)  # before anything is opened or written
    with run_log(database, readonly=True) as log:
        if session is not None:
            log.get_session(session)  # a clear "no session" rather than an empty file
        ids = list(run) if run else log.run_ids(session)
        if output is None:
            log.export_runs(ids, fmt.value, sys.stdout)
            return
        count = _export_to_file(log, ids, fmt, output, force)
    typer.echo(f"wrote {count} run(s) to {output}", err=True)


def _export_to_file(log: RunLog, ids: list[int], fmt: Format, output: Path, force: bool) -> int:
    # "x" (create, never replace) closes the gap between the existence check and the open.
    try:
        out = output.open("w" if force else "x", encoding="utf-8", newline="")
    except FileExistsError:
        raise StoreError(f"{output} already exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise StoreError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with out:
            return log.export_runs(ids, fmt.value, out)
    except OSError as exc:
        raise StoreError(f"cannot write {output}: {exc.strerror or exc}") from exc
    except BaseException:
        if not force:  # a file this command created holds nothing worth keeping
            output.unlink(missing_ok=True)
        raise


@sessions_app.command("delete")
@clean_errors
def delete(
    id: Annotated[int, typer.Argument(help="Session id (or run id with --run).")],
    run: Annotated[bool, typer.Option("--run", help="ID is a run: delete only that run.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Delete a session with all its runs (or one run with --run)."""
    with run_log(db, readonly=False) as log:
        if run:
            stored = log.load_run(id)
            what = f"run {id} ({one_line(stored.query, 40)!r})"
        else:
            info = log.get_session(id)
            what = f"session {id} {info.name!r} with {info.runs} run(s)"
        if not yes and not typer.confirm(f"Delete {what}?", default=False):
            typer.echo("Nothing deleted.", err=True)
            raise typer.Exit(1)
        if run:
            log.delete_run(id)
        else:
            log.delete_session(id)
    typer.echo(f"Deleted {what}.")


@clean_errors
def locate(db: DbOption = None) -> None:
    """Print where the workbench keeps its data, database and config."""
    typer.echo(f"data dir:  {paths.data_dir()}")
    typer.echo(f"config:    {paths.config_file_path()}")  # first: it is where a broken setting is
    typer.echo(f"database:  {configured_db(db)}")
