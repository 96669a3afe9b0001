"""What a run depends on, captured whole when it starts: a run never reads live state."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.engine.aggregate import check_aggregate
from workbench.engine.types import DEFAULT_AGGREGATE, DEFAULT_TOP_K, ChunkSettings, Document


@dataclass(frozen=True)
class RunSettings:
    """How documents are cut into chunks and how chunk scores make a document's score."""

    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    aggregate: str = DEFAULT_AGGREGATE
    top_k: int = DEFAULT_TOP_K

    def __post_init__(self) -> None:
        check_aggregate(self.aggregate, self.top_k)  # ValueError with a message for the user


@dataclass(frozen=True)
class RunInputs:
    """Everything one run ranks. `generation` tells a superseded run's late results apart."""

    generation: int
    query: str
    instruction: str
    documents: tuple[Document, ...]
    settings: RunSettings

    @property
    def chunking(self) -> ChunkSettings:
        return self.settings.chunking

    @property
    def aggregate(self) -> str:
        return self.settings.aggregate

    @property
    def top_k(self) -> int:
        return self.settings.top_k
