"""Plain data passed between the engine, the store, the CLI and the UI.

Nothing here imports torch or Textual, so any layer can use these types cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Aggregate = Literal["max", "first", "mean", "topk"]
AGGREGATES: tuple[str, ...] = ("max", "first", "mean", "topk")
DEVICES: tuple[str, ...] = ("auto", "cuda", "cpu")
DTYPES: tuple[str, ...] = ("auto", "bf16", "fp16", "fp32")
QUANTIZATIONS: tuple[str, ...] = ("none", "8bit", "4bit")
# Rerank server APIs (engine/remote/protocol.py) and how to read the number a server answers.
BACKEND_APIS: tuple[str, ...] = ("auto", "vllm", "vllm-score", "rerank")
BACKEND_SCORES: tuple[str, ...] = ("probability", "logit")

# Every default is written here once; settings, CLI help, the app and the store read them.
DEFAULT_MODEL = "Qwen/Qwen3-Reranker-0.6B"
DEFAULT_CHUNK_TOKENS = 256
DEFAULT_CHUNK_OVERLAP = 32
DEFAULT_AGGREGATE = "max"
DEFAULT_TOP_K = 3  # k for the topk aggregate
DEFAULT_DEVICE, DEFAULT_DTYPE, DEFAULT_QUANTIZATION = "auto", "auto", "none"
DEFAULT_DEBOUNCE_MS = 400  # the app's pause after typing before a live run starts


@dataclass(frozen=True)
class Document:
    """A document to rank. `id` is unique within a run; `path` is where it came from, if a file."""

    id: str
    text: str
    path: str | None = None


@dataclass(frozen=True)
class ChunkSpan:
    """A chunk of a document: characters [start, end) of the document's text."""

    doc_id: str
    index: int
    start: int
    end: int
    tokens: int  # tokens of the chunk text alone, by the scorer's tokenizer

    def text_of(self, document_text: str) -> str:
        return document_text[self.start : self.end]


@dataclass(frozen=True)
class Prompt:
    """Exactly what the model sees for one pair.

    `ids` is the full token id sequence; `truncated` says whether the document part was cut to fit
    `max_length`, and `kept_chars` how many characters of the document text survived when it was.
    """

    ids: tuple[int, ...]
    truncated: bool = False
    kept_chars: int | None = None
    # (query text, document text) as a rerank server is sent them; None for local models.
    texts: tuple[str, str] | None = field(default=None, compare=False)

    @property
    def tokens(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are split. `tokens == 0` turns chunking off (one pair per document)."""

    tokens: int = DEFAULT_CHUNK_TOKENS
    overlap: int = DEFAULT_CHUNK_OVERLAP

    def __post_init__(self) -> None:
        if self.tokens < 0:
            raise ValueError("chunk size must be 0 (off) or a positive number of tokens")
        if self.tokens and not 0 <= self.overlap < self.tokens:
            raise ValueError("chunk overlap must be at least 0 and smaller than the chunk size")

    @property
    def enabled(self) -> bool:
        return self.tokens > 0


@dataclass(frozen=True)
class ModelInfo:
    """What was loaded and how: shown in the UI, written to JSON output and to the run log."""

    model_id: str  # what the user named (hub id or path), or the fallback's name
    kind: Literal["qwen3-reranker", "embedding-fallback", "remote-reranker"]
    device: str
    dtype: str
    quantization: str = "none"
    revision: str | None = None  # hub commit, or a content hash of local weights
    max_length: int = 8192
    attn_implementation: str | None = None
    fallback_reason: str | None = None  # set when the offline fallback stands in for a reranker
    choices: tuple[str, ...] = ()  # how auto settings were resolved, for display
    backend: str | None = None  # a rerank server's kind, version and address ("vllm 0.11.0 at ...")
    # What else decides a remote model's numbers (API, score scale): part of the cache identity.
    backend_identity: str | None = None

    @property
    def is_fallback(self) -> bool:
        return self.kind == "embedding-fallback"

    def fingerprint(self) -> str:
        """Identity for caches: same fingerprint + same prompt ids must give the same logit."""
        parts = [self.kind, self.model_id, self.revision or "-", self.dtype, self.quantization, self.device]
        if self.backend_identity:
            # Not the URL: replicas of one model share their cached scores.
            parts.append(self.backend_identity)
        return "|".join(parts)

    def to_dict(self) -> dict:
        return {
            "id": self.model_id,
            "kind": self.kind,
            "revision": self.revision,
            "device": self.device,
            "dtype": self.dtype,
            "quantization": self.quantization,
            "max_length": self.max_length,
            "attn_implementation": self.attn_implementation,
            "fallback": self.is_fallback,
            "fallback_reason": self.fallback_reason,
            "backend": self.backend,
        }


def sigmoid(x: float) -> float:
    # Numerically safe for large |x| (logit differences of +-30 are common on clear cases).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass
class ChunkScore:
    """One scored chunk. `logit` is the raw score (yes-no logit difference for a reranker),
    `score` the probability in 0..1 on a fixed scale comparable across documents and runs."""

    doc_id: str
    chunk: ChunkSpan
    logit: float
    score: float
    prompt_tokens: int
    truncated: bool
    cached: bool = False


@dataclass
class DocumentScore:
    doc_id: str
    path: str | None
    score: float
    rank: int
    chunks: list[ChunkScore] = field(default_factory=list)  # in document order


@dataclass
class RunStats:
    pairs: int = 0  # chunk-query pairs in the run
    scored: int = 0  # pairs scored by this run (the rest came from a cache); a text met twice is sent once
    cached: int = 0
    prompt_tokens: int = 0  # tokens in the prompts sent to the model (cache hits and copies excluded)
    # Tokens the model actually ran: a prompt head shared by every pair counts once (it is
    # computed once), so tokens/s is the model's real rate. 0: not known (older logged runs).
    model_tokens: int = 0
    latency_s: float = 0.0  # wall time of the whole run
    first_result_s: float | None = None  # wall time to the first batch of scores

    @property
    def tokens_per_s(self) -> float:
        tokens = self.model_tokens or self.prompt_tokens
        return tokens / self.latency_s if self.latency_s > 0 else 0.0


@dataclass
class RankResult:
    """A finished (or cancelled) run: every chunk score plus the document ranking."""

    query: str
    instruction: str
    model: ModelInfo
    chunking: ChunkSettings
    aggregate: str
    top_k: int
    documents: list[DocumentScore]  # best first
    stats: RunStats
    cancelled: bool = False

    def ranked_chunks(self) -> list[ChunkScore]:
        """All chunk scores, best first; ties as `workbench.engine.ordering` documents them."""
        from .ordering import rank_chunks

        return rank_chunks([c for d in self.documents for c in d.chunks], {d.doc_id: d.rank for d in self.documents})
