"""Command line: `workbench [PATH...]` opens the app; `workbench score` ranks for scripts;
`workbench sessions` and `workbench locate` reach the run log."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .engine.types import AGGREGATES, DEVICES, DTYPES, QUANTIZATIONS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Tune and inspect LLM rerankers (Qwen3-Reranker) on your own documents.",
)


def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A str Enum for typer from the engine's own list of allowed values (one source of truth)."""
    return Enum(name, {v if v[0].isalpha() else f"q{v}": v for v in values}, type=str)


# The engine's own lists (importing them loads no torch, so `--help` stays instant).
Device = _choices("Device", DEVICES)
DType = _choices("DType", DTYPES)
Quantize = _choices("Quantize", QUANTIZATIONS)
Aggregate = _choices("Aggregate", AGGREGATES)
Format = _choices("Format", ("table", "json", "jsonl", "csv"))


MODEL_HELP = "Hub id or local directory of a Qwen3 reranker. Unset: Qwen/Qwen3-Reranker-0.6B, or the offline fallback if it cannot be loaded."
ModelOpt = typer.Option(None, "--model", "-m", help=MODEL_HELP)
DeviceOpt = typer.Option(None, "--device", help="auto picks cuda when a GPU is present")
DTypeOpt = typer.Option(None, "--dtype", help="auto: bf16 on GPU, fp32 on CPU")
QuantOpt = typer.Option(None, "--quantize", help="bitsandbytes 8-bit or 4-bit (NF4); the yes/no head stays unquantised")
ChunkOpt = typer.Option(None, "--chunk-tokens", help="Chunk size in tokens (default 256); 0 turns chunking off")
OverlapOpt = typer.Option(None, "--chunk-overlap", help="Tokens shared by consecutive chunks (default 32)")
MaxLenOpt = typer.Option(None, "--max-length", help="Tokens per prompt (default 8192, as the official code)")
AggOpt = typer.Option(None, "--aggregate", help="Document score from chunk scores (default max)")
TopKOpt = typer.Option(None, "--top-k", help="k for --aggregate topk: the mean of the best k chunks (default 3)")
DbOpt = typer.Option(None, "--db", help="SQLite run log (default: in the data directory; see `workbench locate`)")
OfflineOpt = typer.Option(None, "--offline/--online", help="Never contact the model hub")


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _options(settings, model, device, dtype, quantize, max_length, offline):
    from .engine.loading import LoadOptions

    try:
        return LoadOptions(
            model=model or settings.model,
            device=(device.value if device else settings.device),
            dtype=(dtype.value if dtype else settings.dtype),
            quantize=(quantize.value if quantize else settings.quantize),
            max_length=settings.max_length if max_length is None else max_length,  # 0 is refused, not "default"
            batch_tokens=settings.batch_tokens,
            offline=settings.offline if offline is None else offline,
        )
    except ValueError as e:
        _fail(str(e), 2)


# The settings below are checked before any model loads: a load takes seconds to minutes, and a
# typo should not cost that.


def _chunking(settings, chunk_tokens, chunk_overlap, max_length: int):
    from .engine.prompt import check_chunk_fits
    from .engine.types import ChunkSettings

    tokens = settings.chunk_tokens if chunk_tokens is None else chunk_tokens
    overlap = settings.chunk_overlap if chunk_overlap is None else chunk_overlap
    if tokens and overlap >= tokens and chunk_overlap is None:
        overlap = max(0, tokens // 8)  # a small explicit chunk size with the default overlap
    try:
        chunking = ChunkSettings(tokens=tokens, overlap=overlap)
        check_chunk_fits(chunking.tokens, max_length)
    except ValueError as e:
        _fail(str(e), 2)
    return chunking


def _aggregation(settings, aggregate, top_k) -> tuple[str, int]:
    from .engine.aggregate import check_aggregate

    how = aggregate.value if aggregate else settings.aggregate
    k = settings.top_k if top_k is None else top_k  # an explicit 0 is an error, not "the default"
    try:
        check_aggregate(how, k)
    except ValueError as e:
        _fail(str(e), 2)
    return how, k


def _load_settings():
    from .settings import ConfigError, Settings

    try:
        return Settings()
    except ConfigError as e:  # already one line naming the file (and line) or the variable
        _fail(str(e), 2)


@app.command()
def score(
    paths: list[str] = typer.Argument(None, help="Files (.txt/.md), folders of them, or - for stdin"),
    query: str = typer.Option(..., "--query", "-q", help="The search query"),
    instruction: Optional[str] = typer.Option(None, "--instruction", "-i", help="Task instruction (default: the official one)"),
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
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this run in the run log"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the persistent score cache"),
) -> None:
    """Rank documents (or their chunks) for a query and print the ranking."""
    from .documents import load_documents
    from .engine.cache import MemoryScoreCache
    from .engine.ranking import Ranker, RankingInputError
    from .engine.scorer import ScoringError

    settings = _load_settings()
    if not query.strip():
        _fail("the query is empty: pass the text you are searching for with --query", 2)
    options = _options(settings, model, device, dtype, quantize, max_length, offline)
    chunking = _chunking(settings, chunk_tokens, chunk_overlap, options.max_length)
    how, k = _aggregation(settings, aggregate, top_k)
    loaded = load_documents(paths or [], str(docs_jsonl) if docs_jsonl else None, stdin=sys.stdin)
    for problem in loaded.problems:
        typer.secho(problem, fg=typer.colors.YELLOW, err=True)
    if not loaded.documents:
        _fail("nothing to score: no readable document was given", 1)
    instruction = settings.instruction if instruction is None else instruction

    scorer = _load_scorer(options)
    log = None if (no_log and no_cache) else _open_log(db or settings.db)
    ranker = Ranker(scorer, cache=MemoryScoreCache(backing=log.score_cache() if log and not no_cache else None))
    run_id = None if (log is None or no_log) else log.begin(query, instruction, loaded.documents, chunking, how, k, scorer.info)
    try:
        result = ranker.rank(query, instruction, loaded.documents, chunking=chunking, aggregate=how, top_k=k)
    except (RankingInputError, ScoringError) as e:
        if log is not None:
            log.discard(run_id)  # a run that produced nothing is not history
        _fail(str(e))
    if log is not None:
        log.finish(run_id, result)
        for warning in log.warnings:
            typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    _note_cut_chunks(result)
    _print_result(result, fmt, top)


def _note_cut_chunks(result) -> None:
    """One line when the model saw only part of some chunks: their scores judge that part only."""
    cut = sum(c.truncated for d in result.documents for c in d.chunks)
    if cut:
        typer.secho(
            f"note: {cut} chunk{'s' * (cut != 1)} did not fit the model and {'were' if cut != 1 else 'was'} cut; "
            "their scores judge only what the model saw (see truncated in --format json)",
            fg=typer.colors.YELLOW,
            err=True,
        )


def _load_scorer(options):
    """Load with progress on stderr; say loudly when the offline fallback stands in."""
    from .engine.loading import ModelLoadError, load_scorer

    try:
        scorer = load_scorer(options, lambda msg: typer.echo(msg, err=True))
    except ModelLoadError as e:
        _fail(str(e))
    if scorer.info.is_fallback:
        typer.secho(
            "WARNING: no reranker loaded; scores come from the offline embedding fallback "
            f"({scorer.info.fallback_reason})",
            fg=typer.colors.YELLOW,
            err=True,
        )
    return scorer


def _open_log(db: Path | None):
    """The run log, or None with a warning: a broken log must not stop scoring."""
    from .runlog import RunLogger

    try:
        logger = RunLogger.open(db)
    except Exception as e:  # noqa: BLE001 - any store failure degrades to "not logged"
        typer.secho(f"warning: run log unavailable, this run is not recorded ({e})", fg=typer.colors.YELLOW, err=True)
        return None
    if logger.notice:
        typer.secho(logger.notice, fg=typer.colors.YELLOW, err=True)
    return logger


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


@app.command("eval")
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
    from .documents import load_documents
    from .engine.ranking import Ranker
    from .evaluate import evaluate, read_queries, summary

    settings = _load_settings()
    options = _options(settings, model, device, dtype, quantize, max_length, offline)
    chunking = _chunking(settings, chunk_tokens, chunk_overlap, options.max_length)
    try:
        judged = read_queries(queries)
    except (OSError, ValueError) as e:
        _fail(str(e), 2)
    loaded = load_documents(paths)
    for problem in loaded.problems:
        typer.secho(problem, fg=typer.colors.YELLOW, err=True)
    if not loaded.documents:
        _fail("nothing to score: no readable document was given")
    scorer = _load_scorer(options)
    outcomes = evaluate(Ranker(scorer), judged, loaded.documents, chunking,
                        instruction if instruction is not None else settings.instruction)
    for o in outcomes:
        mark = "MISS" if o.rank is None else f"#{o.rank}"
        typer.echo(f"{o.query.id:>5} {mark:>5}  top: {o.top_doc:<34} {o.query.query[:60]}")
    figures = summary(outcomes)
    typer.echo(f"{scorer.info.model_id}: hit@1 {figures['hit@1']:.2f}  hit@5 {figures['hit@5']:.2f}  "
               f"MRR {figures['mrr']:.3f}  over {figures['queries']} queries")


@app.command("open", hidden=True)
def open_app(
    paths: list[str] = typer.Argument(None, help="Documents: files or folders"),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="Start with this query"),
    instruction: Optional[str] = typer.Option(None, "--instruction", "-i"),
    model: Optional[str] = ModelOpt,
    device: Optional[Device] = DeviceOpt,
    dtype: Optional[DType] = DTypeOpt,
    quantize: Optional[Quantize] = QuantOpt,
    chunk_tokens: Optional[int] = ChunkOpt,
    chunk_overlap: Optional[int] = OverlapOpt,
    max_length: Optional[int] = MaxLenOpt,
    aggregate: Optional[Aggregate] = AggOpt,
    top_k: Optional[int] = TopKOpt,
    offline: Optional[bool] = OfflineOpt,
    db: Optional[Path] = DbOpt,
    session: Optional[str] = typer.Option(None, "--session", help="Log runs into the session of this name"),
) -> None:
    """Open the interactive workbench (the default command)."""
    from .documents import load_documents

    settings = _load_settings()
    options = _options(settings, model, device, dtype, quantize, max_length, offline)
    chunking = _chunking(settings, chunk_tokens, chunk_overlap, options.max_length)
    how, k = _aggregation(settings, aggregate, top_k)
    loaded = load_documents(paths or [])
    try:
        from .ui.app import WorkbenchApp, WorkbenchConfig
    except ImportError as e:
        _fail(f"the interactive app could not start: {e}")
    config = WorkbenchConfig(
        load_options=options,
        documents=loaded.documents,
        problems=loaded.problems,
        query=query or "",
        instruction=instruction if instruction is not None else settings.instruction,
        chunking=chunking,
        aggregate=how,
        top_k=k,
        db=db or settings.db,
        session=session,
        debounce_s=settings.debounce_ms / 1000,
    )
    WorkbenchApp(config).run()


def _mount_store_commands() -> None:
    from .cli_sessions import locate, sessions_app

    app.add_typer(sessions_app, name="sessions", help="List, show, export and delete logged sessions and runs")
    app.command("locate", help="Print where the database and config live")(locate)


_mount_store_commands()

SUBCOMMANDS = {"score", "eval", "open", "sessions", "locate"}


def main() -> None:
    """Entry point: a bare `workbench [PATH...]` means `workbench open [PATH...]`."""
    argv = sys.argv[1:]
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["open", *argv]
    app(args=argv, prog_name="workbench")


if __name__ == "__main__":
    main()
