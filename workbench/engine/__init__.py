"""The scoring engine: prompt, chunking, model loading, scoring, aggregation. No Textual here."""

from .prompt import DEFAULT_INSTRUCTION
from .types import ChunkScore, ChunkSettings, ChunkSpan, Document, DocumentScore, ModelInfo, RankResult

__all__ = [
    "DEFAULT_INSTRUCTION",
    "ChunkScore",
    "ChunkSettings",
    "ChunkSpan",
    "Document",
    "DocumentScore",
    "ModelInfo",
    "RankResult",
]
