"""Metrics of the ranking on screen from the user's labels: nDCG@k, MRR@k and Recall@k at chunk
and document level, computed by the same code as `workbench eval` (workbench.evaluation)."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.engine.types import Document, RankResult

from .labelling import QueryLabels

LIVE_K = 10


def live_metrics(result: RankResult, labels: QueryLabels, documents: Sequence[Document],
                 k: int = LIVE_K) -> dict[str, dict[str, float]] | None:
    """level ("chunk", "document") -> measure -> value; None without a label of grade >= 1."""
    if not any(grade > 0 for grade in labels.grades.values()):
        return None
    from workbench.evaluation.judged import JudgedQuery, Label
    from workbench.evaluation.metrics import per_query, resolve
    from workbench.evaluation.trec import Item

    texts = {d.id: d.text for d in documents}
    judged = [
        Label(Item(doc_id) if (start, end) == (0, len(texts.get(doc_id, ""))) else Item(doc_id, span=(start, end)),
              grade, "label")
        for (doc_id, start, end), grade in labels.grades.items()
        if doc_id in texts
    ]
    query = JudgedQuery("live", result.query, result.instruction, tuple(judged))
    return per_query({"live": resolve(query, result, texts)}, k).get("live") or None


def metrics_line(values: dict[str, dict[str, float]] | None) -> str:
    """One line for the screen, e.g. "chunks nDCG@10 0.83 MRR@10 1.00 R@10 0.50 · documents …"."""
    if not values:
        return ""
    return " · ".join(
        f"{'chunks' if level == 'chunk' else 'documents'} " + " ".join(f"{name} {v:.2f}" for name, v in measures.items())
        for level, measures in values.items()
    )
