"""`workbench eval`: judge a setup, and compare instructions, on queries with known answers.

Every (instruction, query) pair runs through `Workbench.run_now`, the session path the app and
`workbench score` use; nothing is recorded in the run log. Input problems (queries file, qrels,
unknown documents, unknown presets) are all reported, one line each, before any model loads,
and end with exit status 2. See workbench/evaluation for the metrics and formats.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .cli_common import (
    AggOpt, Aggregate, BackendApi, BackendApiOpt, BackendOpt, BackendScores, BackendScoresOpt, ChunkOpt, CompileOpt, DbOpt, Device, DeviceOpt, DType, DTypeOpt, MaxLenOpt, ModelOpt, OfflineOpt,
    OverlapOpt, QuantOpt, Quantize, TopKOpt, configure, documents_to_score, fail, load_scorer, warn,
)
from .cli_first_stage import FirstStage, eval_row


class EvalFormat(str, Enum):
    table = "table"
    json = "json"


def eval_command(
    queries: Path = typer.Argument(..., help="JSONL of judged queries (see sample_data/queries.jsonl)"),
    paths: list[str] = typer.Argument(..., help="The documents: files or folders"),
    qrels: Optional[Path] = typer.Option(None, "--qrels", help="TREC qrels (QUERY 0 ITEM GRADE) replacing the queries' 'relevant' lists"),
    instructions: Optional[list[str]] = typer.Option(
        None, "--instruction", "-i", help="An instruction to judge (repeatable; the first is the baseline); "
        "used for queries that name none"),
    presets: Optional[str] = typer.Option(None, "--presets", help="Comma-separated instruction preset names to judge too (after --instruction)"),
    override: bool = typer.Option(False, "--override-query-instructions", help="Use the judged instructions for queries that name their own too"),
    k: int = typer.Option(10, "--k", min=1, help="Cutoff for nDCG@k, MRR@k and Recall@k"),
    fmt: EvalFormat = typer.Option(EvalFormat.table, "--format", "-f", help="table, or json for scripts"),
    run_file: Optional[str] = typer.Option(None, "--run-file", help="Write TREC run files PREFIX.N.run (chunks) and PREFIX.N.docs.run per instruction"),
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
    offline: Optional[bool] = OfflineOpt,
    compile: Optional[bool] = CompileOpt,
    db: Optional[Path] = DbOpt,
    first_stage: Optional[FirstStage] = typer.Option(
        None, "--first-stage", help="Judge a first stage too (bm25 or embedding) on the same chunks: a row of that name, compared with the first instruction"),
) -> None:
    """Judge a setup: nDCG@k, MRR@k and Recall@k per instruction, at chunk and document level,
    with per-query wins/losses and paired significance tests against the first instruction."""
    from .evaluation import apply_qrels, check_against_documents, read_qrels, read_queries

    settings, options, run_settings = configure(
        model=model, device=device, dtype=dtype, quantize=quantize, chunk_tokens=chunk_tokens,
        chunk_overlap=chunk_overlap, max_length=max_length, aggregate=aggregate, top_k=top_k, offline=offline, db=db,
        backend=backend or None, backend_api=backend_api, backend_scores=backend_scores, compile=compile,
    )
    judged, problems = read_queries(queries)
    if qrels is not None:
        lines, qrel_problems = read_qrels(qrels)
        problems += qrel_problems
        judged = apply_qrels(judged, lines, problems)
    candidates = _candidates(instructions or [], presets, settings.db, problems)
    if problems and not judged:
        _stop(problems)
    documents = documents_to_score(paths)
    texts = {d.id: d.text for d in documents}
    problems += check_against_documents(judged, texts)
    if problems:
        _stop(problems)
    if not judged:
        fail(f"{queries}: no judged query in it", 2)
    scorer = load_scorer(options)

    from .engine.ranking import RankingInputError
    from .engine.scorer import ScoringError
    from .evaluation import report, sweep
    from .session import NullRecorder, SessionInputError, Workbench

    # Not recorded: a sweep over judged queries would bury the user's own runs in the history.
    bench = Workbench(run_settings, NullRecorder("eval runs are not recorded"), documents=documents)
    bench.attach(scorer)
    try:
        results = sweep(bench, judged, candidates, settings.instruction, texts, k, override=override,
                        progress=(lambda m: typer.echo(m, err=True)) if len(candidates) > 1 else None)
    except (SessionInputError, RankingInputError, ScoringError) as e:
        fail(str(e))
    if first_stage is not None:
        results.append(eval_row(first_stage, bench, run_settings.chunking, judged, texts, k))
    info = scorer.info
    data = report(results, judged, k, {"id": info.model_id, "fallback": bool(info.is_fallback)})
    for note in data["notes"]:
        warn(f"note: {note}")
    if run_file:
        _write_runs(run_file, results)
    if fmt == EvalFormat.json:
        typer.echo(json.dumps(_finite(data), ensure_ascii=False, allow_nan=False, indent=2))
    else:
        from .evaluation.table import print_report

        print_report(data, judged)


def _stop(problems: list[str]):
    for p in problems:
        typer.secho(f"error: {p}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _candidates(instructions: list[str], presets: str | None, db: Path | None, problems: list[str]):
    from .evaluation import Candidate

    out = []
    for n, text in enumerate(instructions, 1):
        if not text.strip():
            problems.append(f"--instruction number {n} is empty")
        out.append(Candidate(f"i{n}", text))
    names = [p.strip() for p in (presets or "").split(",") if p.strip()]
    if presets is not None and not names:
        problems.append("--presets needs one or more preset names, separated by commas")
    if names:
        known = _known_presets(db, problems)
        for name in names:
            if name in known:
                out.append(Candidate(name, known[name]))
            elif known:
                problems.append(f"unknown instruction preset {name!r}; known presets: {', '.join(known)}")
    return out or [Candidate("default", None)]


def _known_presets(db: Path | None, problems: list[str]) -> dict[str, str]:
    from .store import NoDatabaseError, Presets, StoreError, open_store
    from .store.schema import DEFAULT_PRESETS

    try:
        store = open_store(db, readonly=True)
    except NoDatabaseError:
        return dict(DEFAULT_PRESETS)  # no database yet: the presets a new one starts with
    except StoreError as e:
        problems.append(f"cannot read the instruction presets: {e}")
        return {}
    try:
        return {p.name: p.text for p in Presets(store).list()}
    except StoreError as e:
        problems.append(f"cannot read the instruction presets: {e}")
        return {}
    finally:
        store.close()


def _write_runs(prefix: str, results) -> None:
    from .evaluation import write_run

    for n, r in enumerate(results, 1):
        for suffix, level in ((".run", "chunk"), (".docs.run", "document")):
            path = Path(f"{prefix}.{n}{suffix}")
            rows = [(qid, item, score) for qid, j in r.judged.items() for item, score in j.runs[level]]
            try:
                with path.open("w", encoding="utf-8") as out:
                    write_run(out, rows, f"workbench-{r.candidate.label}")
            except OSError as e:
                fail(f"cannot write the run file {path}: {e.strerror or e}")
            typer.echo(f"wrote {path} ({r.candidate.label}, {level} level)", err=True)


def _finite(value):
    """Strict JSON: a non-finite number (there should be none) becomes null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
