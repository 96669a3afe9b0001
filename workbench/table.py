"""Human-readable ranking for the terminal (`workbench score --format table`)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console
from rich.table import Table

from .engine.types import RankResult


def print_table(result: RankResult, top: int | None = None, normalized: Mapping[str, float | None] | None = None) -> None:
    """`normalized` (doc id -> value, from `score --normalize`) adds a column when given."""
    console = Console()
    model = result.model
    title = f"{model.model_id} · {model.device} · {model.dtype}"
    if model.quantization != "none":
        title += f" · {model.quantization}"
    if model.is_fallback:
        title = f"[bold yellow]OFFLINE FALLBACK, not a reranker[/] · {title}"
    table = Table(title=title, caption=f"query: {result.query}", expand=False)
    table.add_column("rank", justify="right")
    table.add_column("score", justify="right")
    if normalized is not None:
        table.add_column("normalized", justify="right")
    table.add_column("document")
    table.add_column("chunks", justify="right")
    table.add_column("best chunk", justify="right")
    table.add_column("span")
    for d in result.documents[:top] if top else result.documents:
        best = max(d.chunks, key=lambda c: c.logit, default=None)
        value = None if normalized is None else normalized.get(d.doc_id)
        table.add_row(
            str(d.rank),
            f"{d.score:.4f}",
            *(() if normalized is None else ("-" if value is None else f"{value:.4f}",)),
            d.doc_id,
            str(len(d.chunks)),
            "-" if best is None else f"#{best.chunk.index} ({best.score:.3f})",
            "-" if best is None else f"{best.chunk.start}-{best.chunk.end}",
        )
    console.print(table)
    s = result.stats
    # Fewer tokens run through the model than the prompts hold where work is shared or kept: the
    # reranker's prompt head once per call, the offline fallback's chunk embeddings from earlier.
    ran = f", {s.model_tokens:,} through the model" if s.model_tokens and s.model_tokens != s.prompt_tokens else ""
    console.print(
        f"{s.pairs} pairs ({s.cached} cached), {s.prompt_tokens:,} prompt tokens{ran}, scored in {s.latency_s:.2f} s "
        f"({s.tokens_per_s:,.0f} tokens/s through the model)",
        style="dim",
    )
