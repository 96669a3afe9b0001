"""`workbench score`: the session's run path (workbench.session), headless.

It ranks (as `workbench eval` in cli_eval.py does) through `Workbench.run_now`, the steps the app takes, so a script and the app score
and record the same way. Settings are checked before any model loads (see `configure`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .calibration import NORMALIZATIONS
from .cli_common import (
    INSTRUCTION_HELP,
    AggOpt,
    Aggregate,
    BackendApi,
    BackendApiOpt,
    BackendOpt,
    BackendScores,
    BackendScoresOpt,
    ChunkOpt,
    CompileOpt,
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
    _choices,
    check_session_name,
    configure,
    documents_to_score,
    fail,
    load_scorer,
    print_notices,
    warn,
)
from .cli_corpus import score_corpus
from .cli_first_stage import FirstStage, FirstStageOpt, RerankTopOpt, check_flags as check_first_stage_flags, plan as first_stage_plan
from .cli_setup import with_setup

Normalization = _choices("Normalization", NORMALIZATIONS)  # workbench.calibration's list


def score(
    paths: list[str] = typer.Argument(None, help="Files (.txt/.md), folders of them, or - for stdin"),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="The search query"),
    instructions: Optional[list[str]] = typer.Option(
        None, "--instruction", "-i", help=INSTRUCTION_HELP + "; give it twice to compare instruction A with B"
    ),
    docs_jsonl: Optional[Path] = typer.Option(None, "--docs-jsonl", help='JSONL file of {"id", "text"} documents'),
    queries: Optional[Path] = typer.Option(None, "--queries", help='Corpus job: JSONL of {"id", "text"} queries, each scored against every --docs-jsonl document into --out (resumable)'),
    out: Optional[Path] = typer.Option(None, "--out", help="Corpus job (with --queries): the results file, one JSONL line per (query, document), ranks added at the end"),
    model: Optional[str] = ModelOpt,
    backend: Optional[list[str]] = BackendOpt,
    backend_api: Optional[BackendApi] = BackendApiOpt,
    backend_scores: Optional[BackendScores] = BackendScoresOpt,
    device: Optional[Device] = DeviceOpt,
    dtype: Optional[DType] = DTypeOpt,
    quantize: Optional[Quantize] = QuantOpt,
    chunk_tokens: Optional[int] = ChunkOpt,
    chunk_overlap: Optional[int] = OverlapOpt,
    max_length: Optional[int] = MaxLenOpt,
    aggregate: Optional[Aggregate] = AggOpt,
    top_k: Optional[int] = TopKOpt,
    top: Optional[int] = typer.Option(None, "--top", min=1, help="Print only the best N documents (comparisons: k of top-k, default 10)"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format"),
    offline: Optional[bool] = OfflineOpt,
    compile: Optional[bool] = CompileOpt,
    db: Optional[Path] = DbOpt,
    session: Optional[str] = typer.Option(
        None, "--session", help="Record the run in the session of this name (created if missing); default: a new session"
    ),
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this run in the run log"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the persistent score cache (nor the offline fallback's kept embeddings)"),
    compare_with: Optional[int] = typer.Option(
        None, "--compare-with", help="Compare this run (B) with the logged run of this id (A); see `workbench sessions`"
    ),
    normalize: Optional[Normalization] = typer.Option(
        None, "--normalize", help="Add a per-query normalized score: minmax or zscore over this run's chunks (documents over documents)"
    ),
    setup: Optional[Path] = typer.Option(None, "--setup", help="A setup file (workbench sessions export-setup): its values apply where no flag is given"),
    calibrate: bool = typer.Option(False, "--calibrate", help="Print the score distribution (and, with --qrels, the best cut-off)"),
    qrels: Optional[Path] = typer.Option(None, "--qrels", help="TREC qrels (qid 0 docid[#chunk] grade) for --calibrate"),
    qid: Optional[str] = typer.Option(None, "--qid", help="The query's id in --qrels (default: the file's only qid)"),
    first_stage: Optional[FirstStage] = FirstStageOpt,
    rerank_top: Optional[int] = RerankTopOpt,
) -> None:
    """Rank documents (or their chunks) for a query and print the ranking, or compare two setups."""
    if queries is not None or out is not None:  # the corpus-scale batch job: cli_corpus.py
        return score_corpus(**locals())
    instructions = list(instructions or [])
    comparing = len(instructions) == 2 or compare_with is not None
    flags, method = with_setup(setup, dict(
        instruction=instructions[0] if instructions else None, model=model, device=device, dtype=dtype,
        quantize=quantize, chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap, max_length=max_length,
        aggregate=aggregate, top_k=top_k, offline=offline, db=db,
        backend=backend or None, backend_api=backend_api, backend_scores=backend_scores, compile=compile,
    ), normalize.value if normalize is not None else None)
    normalize = Normalization(method if normalize is not None or not comparing else "none")  # a file's: single runs only
    _check_score_flags(instructions, compare_with, fmt, normalize, calibrate, qrels, qid)
    check_first_stage_flags(first_stage, rerank_top, comparing, calibrate, qrels)
    settings, options, run_settings = configure(**flags)
    if query is None or not query.strip():
        fail("the query is empty: pass the text you are searching for with --query (or a file of them with --queries)", 2)
    check_session_name(session)
    logged = _logged_run(settings.db, compare_with) if compare_with is not None else None
    judgments = _read_qrels(qrels, qid) if qrels is not None else None
    documents = documents_to_score(paths or [], str(docs_jsonl) if docs_jsonl else None, stdin=sys.stdin)
    scorer = load_scorer(options)

    from .engine.ranking import RankingInputError
    from .engine.scorer import ScoringError
    from .session import SessionInputError, Workbench
    from .session.sqlite_recorder import open_recorder

    recorder = open_recorder(settings.db, origin="score", session=session, log_runs=not no_log, cache_scores=not no_cache)
    run_ids: list[int | None] = []
    begin = recorder.begin

    def remember_id(*args, **kwargs):  # the log's id of each run, for the comparison's header
        run_ids.append(begin(*args, **kwargs))
        return run_ids[-1]

    recorder.begin = remember_id
    results = []
    try:
        print_notices(recorder)  # a damaged database set aside, or one that cannot be opened
        bench = Workbench(run_settings, recorder, query=query, instruction=settings.instruction, documents=documents)
        bench.attach(scorer)
        stage = first_stage_plan(bench, first_stage, rerank_top, run_settings.chunking)  # may narrow bench.documents
        try:
            results.append(bench.run_now())
            if len(instructions) == 2:
                bench.set_instruction(instructions[1])
                results.append(bench.run_now())
        except (SessionInputError, RankingInputError, ScoringError) as e:
            print_notices(recorder)
            fail(str(e))
        print_notices(recorder)
        hashes = {d.id: _text_hash(d.text) for d in bench.documents}
    finally:
        recorder.close()
    for result in results:
        _note_cut_chunks(result)
    if comparing:
        from .ab_compare import Side

        if logged is not None:
            a = Side("A", logged.to_rank_result(), logged.document_hashes or {}, logged.id)
            b = Side("B", results[0], hashes, run_ids[0] if run_ids else None)
        else:
            same = {doc_id: doc_id for doc_id in hashes}  # one session, the same documents: match by id
            a = Side("A", results[0], same, run_ids[0] if run_ids else None)
            b = Side("B", results[1], same, run_ids[1] if len(run_ids) > 1 else None)
        _print_comparison(a, b, fmt, top or 10)
        return
    if stage is not None:
        return stage.print(results[0], fmt, top, normalize.value)
    _print_result(results[0], fmt, top, normalize.value, calibrate or qrels is not None, judgments, qrels)


def _check_score_flags(instructions, compare_with, fmt, normalize, calibrate, qrels, qid) -> None:
    """Usage errors (exit 2) before anything loads."""
    if len(instructions) > 2:
        fail(f"--instruction was given {len(instructions)} times: compare two at a time (A and B)", 2)
    if len(instructions) == 2 and compare_with is not None:
        fail("--compare-with compares the logged run with one instruction: give --instruction once (or not at all)", 2)
    if len(instructions) == 2 or compare_with is not None:
        if fmt not in (Format.table, Format.json):
            fail("a comparison prints --format table or json", 2)
        if normalize.value != "none" or calibrate or qrels is not None:
            fail("--normalize, --calibrate and --qrels apply to a single run, not to a comparison", 2)
    if qid is not None and qrels is None:
        fail("--qid names the query in --qrels: give --qrels too", 2)


def _text_hash(text: str) -> str:
    from .store.runs import text_hash

    return text_hash(text)


def _logged_run(db, run_id: int):
    """The logged run to compare with (read-only); a clean failure when it cannot be had."""
    from .store import RunLog, StoreError, open_store

    try:
        store = open_store(db, readonly=True)
    except StoreError as e:
        fail(f"--compare-with {run_id}: {e}")
    try:
        run = RunLog(store).load_run(run_id)
    except StoreError as e:
        fail(f"--compare-with {run_id}: {e}")
    finally:
        store.close()
    if not run.chunk_scores:
        fail(f"--compare-with {run_id}: that run has no scores to compare (status: {run.status})")
    if run.status != "done":
        warn(f"warning: run {run_id} is {run.status}: comparing the scores it logged")
    return run


def _read_qrels(path: Path, qid: str | None):
    from .calibration import QrelsError, read_qrels

    try:
        return read_qrels(path, qid)[1]
    except QrelsError as e:
        fail(str(e), 2)


def _print_comparison(a, b, fmt: Format, k: int) -> None:
    from .ab_compare import compare, render
    from .run_format import dumps

    if a.result.query != b.result.query:
        warn(f"note: A's query ({a.result.query!r}) differs from B's ({b.result.query!r})")
    cmp = compare(a, b, k)
    for note in cmp.notes:
        warn(f"note: {note}")
    if fmt == Format.json:
        sys.stdout.write(dumps(cmp.to_dict(), indent=2) + "\n")
    else:
        typer.echo("\n".join(render(cmp)))


def _note_cut_chunks(result) -> None:
    """One line when the model saw only part of some chunks: their scores judge that part only."""
    cut = sum(c.truncated for d in result.documents for c in d.chunks)
    if cut:
        warn(
            f"note: {cut} chunk{'s' * (cut != 1)} did not fit the model and {'were' if cut != 1 else 'was'} cut; "
            "their scores judge only what the model saw (see truncated in --format json)"
        )


def _print_result(result, fmt: Format, top: int | None, normalize: str = "none", calibrate: bool = False,
                  judgments=None, qrels: Path | None = None) -> None:
    from .run_format import write_csv, write_json, write_jsonl

    norm = report = None
    if normalize != "none":
        from .calibration import normalize_run

        norm = normalize_run(result, normalize)
        for note in norm.notes:
            warn(f"note: {note}")
    if calibrate:
        from .calibration import calibration_report, label_chunks

        labels = None
        if judgments is not None:
            labels = label_chunks(result, judgments, str(qrels))
            for line in labels.unknown:
                warn(line)
        report = calibration_report(result, norm, labels)
    if fmt == Format.json:
        write_json(result, sys.stdout, top, norm, {"calibration": report} if report is not None else None)
    elif fmt == Format.jsonl:
        write_jsonl(result, sys.stdout, top, norm)
    elif fmt == Format.csv:
        write_csv(result, sys.stdout, top, norm)
    else:
        from .table import print_table

        print_table(result, top, normalized=norm.documents if norm is not None else None)
    if report is not None:
        from .calibration import render_report

        typer.echo("\n".join(render_report(report)), err=fmt != Format.table)
