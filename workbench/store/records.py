"""What the store hands back: sessions and whole stored runs (list rows are history.HistoryRow)."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.engine.types import (
    ChunkScore,
    ChunkSettings,
    Document,
    DocumentScore,
    ModelInfo,
    RankResult,
    RunStats,
)

RUN_STATUSES = ("running", "done", "cancelled", "interrupted")


@dataclass(frozen=True)
class SessionInfo:
    id: int
    name: str
    created_at: str
    notes: str = ""
    runs: int = 0
    last_run_at: str | None = None
    interrupted: int = 0  # runs whose process died before they finished


@dataclass
class StoredRun:
    """A run as logged: its inputs, the model, and (once finished) every score, ready to re-show."""

    id: int
    session_id: int
    session_name: str
    created_at: str
    finished_at: str | None
    # 'running' (in flight, or its process died where that cannot be told), 'done', 'cancelled',
    # or 'interrupted' (its process died before it finished)
    status: str
    query: str
    instruction: str
    chunking: ChunkSettings
    aggregate: str
    top_k: int
    model: ModelInfo
    fingerprint: dict
    stats: RunStats
    documents: list[Document]  # input order
    document_scores: list[DocumentScore] = field(default_factory=list)  # best first, scored only
    chunk_scores: list[ChunkScore] = field(default_factory=list)  # best first: rank = index + 1
    document_hashes: dict[str, str] = field(default_factory=dict)  # doc id -> sha256 of its text

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def to_rank_result(self) -> RankResult:
        """The run's ranking in the engine's own shape, so the UI shows it without recomputing."""
        return RankResult(
            query=self.query,
            instruction=self.instruction,
            model=self.model,
            chunking=self.chunking,
            aggregate=self.aggregate,
            top_k=self.top_k,
            documents=self.document_scores,
            stats=self.stats,
            cancelled=self.status in ("cancelled", "interrupted"),  # both stopped part-way
        )
