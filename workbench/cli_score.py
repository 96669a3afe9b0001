"""`workbench score` and `workbench eval`: the session's run path (workbench.session), headless.

Both rank through `Workbench.run_now`, the steps the app takes, so a script and the app score
and record the same way. Settings are checked before any model loads (see `configure`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .cli_common import (
    INSTRUCTION_HELP,
    AggOpt,
    Aggregate,
    ChunkOpt,
    DbOpt,
    Device,
    DeviceOpt,
    DType,
    DTypeOpt,
    Format,
    MaxLenOpt,
    ModelOpt,
    OfflineOpt,
    OverlapOpt,
    QuantOpt,
    Quantize,
    TopKOpt,
    check_session_name,
    configure,
    documents_to_score,
    fail,
    load_scorer,
    print_notices,
    warn,
)


def score(
    paths: list[str] = typer.Argument(None, help="Files (.txt/.md), folders of them, or - for stdin"),
    query: str = typer.Option(..., "--query", "-q", help="The search query"),
    instruction: Optional[str] = typer.Option(None, "--instruction", "-i", help=INSTRUCTION_HELP),
    docs_jsonl: Optional[Path] = typer.Option(None, "--docs-jsonl", help='JSONL file of {"id", "text"} documents'),
    model: Optional[str] = ModelOpt,
    device: Optional[Device] = DeviceOpt,
    dtype: Optional[DType] = DTypeOpt,
    quantize: Optional[Quantize] = QuantOpt,
    chunk_tokens: Optional[int] = ChunkOpt,
    chunk_overlap: Optional[int] = OverlapOpt,
    max_length: Optional[int] = MaxLenOpt,
    aggregate: Optional[Aggregate] = AggOpt,
    top_k: Optional[int] = TopKOpt,
    top: Optional[int] = typer.Option(None, "--top", min=1, help="Print only the best N documents"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format"),
    offline: Optional[bool] = OfflineOpt,
    db: Optional[Path] = DbOpt,
    session: Optional[str] = typer.Option(
        None, "--session", help="Record the run in the session of this name (created if missing); default: a new session"
    ),
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this run in the run log"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the persistent score cache"),
) -> None:
    """Rank documents (or their chunks) for a query and print the ranking."""
    settings, options, run_settings = configure(
        instruction=instruction, model=model, device=device, dtype=dtype, quantize=quantize, chunk_tokens=chunk_tokens,
        chunk_overlap=chunk_overlap, max_length=max_length, aggregate=aggregate, top_k=top_k, offline=offline, db=db,
    )
    if not query.strip():
        fail("the query is empty: pass the text you are searching for with --query", 2)
    check_session_name(session)
    documents = documents_to_score(paths or [], str(docs_jsonl) if docs_jsonl else None, stdin=sys.stdin)
    scorer = load_scorer(options)

    from .engine.ranking import RankingInputError
    from .engine.scorer import ScoringError
    from .session import SessionInputError, Workbench
    from .session.sqlite_recorder import open_recorder

    recorder = open_recorder(settings.db, origin="score", session=session, log_runs=not no_log, cache_scores=not no_cache)
    try:
        print_notices(recorder)  # a damaged database set aside, or one that cannot be opened
        bench = Workbench(run_settings, recorder, query=query, instruction=settings.instruction, documents=documents)
        bench.attach(scorer)
        try:
            result = bench.run_now()
        except (SessionInputError, RankingInputError, ScoringError) as e:
            print_notices(recorder)
            fail(str(e))
        print_notices(recorder)
    finally:
        recorder.close()
    _note_cut_chunks(result)
    _print_result(result, fmt, top)


def _note_cut_chunks(result) -> None:
    """One line when the model saw only part of some chunks: their scores judge that part only."""
    cut = sum(c.truncated for d in result.documents for c in d.chunks)
    if cut:
        warn(
            f"note: {cut} chunk{'s' * (cut != 1)} did not fit the model and {'were' if cut != 1 else 'was'} cut; "
            "their scores judge only what the model saw (see truncated in --format json)"
        )


def _print_result(result, fmt: Format, top: int | None) -> None:
    from .run_format import write_csv, write_json, write_jsonl

    if fmt == Format.json:
        write_json(result, sys.stdout, top)
    elif fmt == Format.jsonl:
        write_jsonl(result, sys.stdout, top)
    elif fmt == Format.csv:
        write_csv(result, sys.stdout, top)
    else:
        from .table import print_table

        print_table(result, top)


def eval_command(
    queries: Path = typer.Argument(..., help="JSONL of judged queries (see sample_data/queries.jsonl)"),
    paths: list[str] = typer.Argument(..., help="The documents: files or folders"),
    model: Optional[str] = ModelOpt,
    device: Optional[Device] = DeviceOpt,
    dtype: Optional[DType] = DTypeOpt,
    quantize: Optional[Quantize] = QuantOpt,
    chunk_tokens: Optional[int] = ChunkOpt,
    chunk_overlap: Optional[int] = OverlapOpt,
    max_length: Optional[int] = MaxLenOpt,
    instruction: Optional[str] = typer.Option(None, "--instruction", "-i", help="Instruction for queries that name none"),
    offline: Optional[bool] = OfflineOpt,
) -> None:
    """Judge a setup: for each query, where does the first chunk holding the answer rank?"""
    from .evaluate import read_queries

    settings, options, run_settings = configure(
        instruction=instruction, model=model, device=device, dtype=dtype, quantize=quantize,
        chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap, max_length=max_length, offline=offline,
    )
    try:
        judged = read_queries(queries)
    except (OSError, ValueError) as e:
        fail(str(e), 2)
    documents = documents_to_score(paths)
    scorer = load_scorer(options)

    from .engine.ranking import RankingInputError
    from .engine.scorer import ScoringError
    from .evaluate import evaluate, summary
    from .session import NullRecorder, SessionInputError, Workbench

    # Not recorded: a sweep over judged queries would bury the user's own runs in the history.
    bench = Workbench(run_settings, NullRecorder("eval runs are not recorded"), documents=documents)
    bench.attach(scorer)
    try:
        outcomes = evaluate(bench, judged, settings.instruction)
    except (SessionInputError, RankingInputError, ScoringError) as e:
        fail(str(e))
    for o in outcomes:
        mark = "MISS" if o.rank is None else f"#{o.rank}"
        typer.echo(f"{o.query.id:>5} {mark:>5}  top: {o.top_doc:<34} {o.query.query[:60]}")
    figures = summary(outcomes)
    typer.echo(f"{scorer.info.model_id}: hit@1 {figures['hit@1']:.2f}  hit@5 {figures['hit@5']:.2f}  "
               f"MRR {figures['mrr']:.3f}  over {figures['queries']} queries")
