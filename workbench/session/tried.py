"""Every instruction tried for a query, with its metrics under the user's labels: the "best so
far" list. Built from the run log (the newest finished run per instruction), so instructions
tried in earlier launches count too. Blocks on the database: call it from a thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.engine.types import Document
from workbench.store.history import finished_runs_of_query

from .history import RunHistory
from .labelling import QueryLabels
from .live_metrics import LIVE_K, live_metrics

RUNS_READ = 100  # the newest finished runs of the query that are looked at


@dataclass(frozen=True)
class Tried:
    instruction: str
    run_id: int  # its newest finished run
    created_at: str
    runs: int  # finished runs with this instruction among those read
    metrics: dict[str, dict[str, float]] | None  # None without relevant labels

    def key_figure(self) -> float | None:
        """Chunk-level nDCG@k: what "best" means here."""
        return self.metrics["chunk"][f"nDCG@{LIVE_K}"] if self.metrics and "chunk" in self.metrics else None


def instructions_tried(history: RunHistory, query: str, labels: QueryLabels, documents: Sequence[Document]) -> list[Tried]:
    """Best first by chunk nDCG@k when labels allow, else newest first."""
    newest: dict[str, Tried] = {}
    for run_id in finished_runs_of_query(history.store, query, RUNS_READ):
        run = history.load(run_id)
        seen = newest.get(run.instruction)
        if seen is not None:
            newest[run.instruction] = Tried(seen.instruction, seen.run_id, seen.created_at, seen.runs + 1, seen.metrics)
            continue
        metrics = live_metrics(run.to_rank_result(), labels, documents)
        newest[run.instruction] = Tried(run.instruction, run.id, run.created_at, 1, metrics)
    tried = list(newest.values())  # newest first already
    tried.sort(key=lambda t: -(t.key_figure() if t.key_figure() is not None else -1.0))
    return tried
