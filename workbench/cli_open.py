"""`workbench open` (also a bare `workbench [PATH...]`): the interactive app."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

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
    MaxLenOpt,
    ModelOpt,
    OfflineOpt,
    OverlapOpt,
    QuantOpt,
    Quantize,
    TopKOpt,
    check_session_name,
    configure,
    fail,
)


def open_app(
    paths: list[str] = typer.Argument(None, help="Documents: files or folders"),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="Start with this query"),
    starter_query: str = typer.Option(
        "", "--starter-query", help="Query to start with when neither --query nor the last session gives one (a first launch shows a ranking)"
    ),
    instruction: Optional[str] = typer.Option(None, "--instruction", "-i", help=INSTRUCTION_HELP),
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
    session: Optional[str] = typer.Option(None, "--session", help="Log runs into the session of this name"),
    new: bool = typer.Option(False, "--new", help="Start clean: do not restore the last session's documents, query and settings"),
    queries: Optional[Path] = typer.Option(None, "--queries", help="Judged queries (as for `workbench eval`), scored in the background in the Query set pane (F10)"),
    qrels: Optional[Path] = typer.Option(None, "--qrels", help="TREC qrels for --queries"),
) -> None:
    """Open the interactive workbench (the default command)."""
    from .documents import load_documents

    # What the user asked for on this command line: the app lets these win over a restored session.
    asked = {"query": query, "instruction": instruction, "chunk_tokens": chunk_tokens,
             "chunk_overlap": chunk_overlap, "aggregate": aggregate, "top_k": top_k}
    settings, options, run_settings = configure(
        instruction=instruction, model=model, device=device, dtype=dtype, quantize=quantize, chunk_tokens=chunk_tokens,
        chunk_overlap=chunk_overlap, max_length=max_length, aggregate=aggregate, top_k=top_k, offline=offline, db=db,
        backend=backend or None, backend_api=backend_api, backend_scores=backend_scores, compile=compile,
    )
    check_session_name(session)
    loaded = load_documents(paths or [])  # problems are shown in the app, once its window is open
    try:
        from .ui.app import WorkbenchApp, WorkbenchConfig
    except ImportError as e:
        fail(f"the interactive app could not start: {e}")
    config = WorkbenchConfig(
        load_options=options,
        documents=loaded.documents,
        problems=loaded.problems,
        query=query or "",
        starter_query=starter_query,
        instruction=settings.instruction,
        chunking=run_settings.chunking,
        aggregate=run_settings.aggregate,
        top_k=run_settings.top_k,
        db=settings.db,
        session=session,
        debounce_s=None if settings.debounce_ms is None else settings.debounce_ms / 1000,
        fresh=new,
        explicit=frozenset(name for name, value in asked.items() if value is not None),
        documents_given=bool(paths),
        queries=queries,
        qrels=qrels,
    )
    WorkbenchApp(config).run()
