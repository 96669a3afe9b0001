"""The Python API: load a setup once, rerank many times.

    import workbench
    reranker = workbench.load_setup("setup.toml")       # or a dict of the same keys
    for hit in reranker.rerank("how do tides work?", ["text one", "text two"], top_n=5):
        print(hit.rank, hit.score, hit.index, hit.best_chunk.start, hit.best_chunk.end)

Scores come from the session's run path (`Workbench.run_now`), the one `workbench score` takes,
so a setup gives the same scores here, in the CLI and in the app. The model loads on the first
`rerank` (or at once with `load_setup(..., eager=True)`) and is kept by the Reranker; one lock
serialises scoring, so a Reranker can be shared by the threads of a retriever.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .setup_file import Setup, SetupError, SetupSource, read_setup

if TYPE_CHECKING:
    from .engine.types import ChunkScore, DocumentScore, ModelInfo
    from .session import Workbench

__all__ = ["BestChunk", "RerankedDocument", "Reranker", "Setup", "SetupError", "load_setup"]


@dataclass(frozen=True)
class BestChunk:
    """The document's best-scoring chunk: characters [start, end) of its text."""

    index: int
    start: int
    end: int
    score: float  # probability of "yes", 0..1
    logit: float  # the model's raw yes-no logit difference
    truncated: bool  # the model saw only the start of this chunk (it did not fit max_length)


@dataclass(frozen=True)
class RerankedDocument:
    """One input document, ranked. `index` is its position in the list given to `rerank`."""

    index: int
    text: str
    rank: int  # 1 = best
    score: float  # the document's score, 0..1, from its chunks' by the setup's aggregate
    logit: float  # the raw logit behind `score` (max/first: that chunk's; mean/topk: logit(score))
    best_chunk: BestChunk | None  # None only when no chunk was scored
    normalized: float | None = None  # the setup's normalize (minmax/zscore) over this call's documents
    chunks: int = 0  # how many chunks were scored


class Reranker:
    """A loaded setup. `rerank` is thread-safe (calls are serialised); the model is loaded once."""

    def __init__(self, setup: Setup, *, eager: bool = False) -> None:
        self.setup = setup
        self._lock = threading.Lock()
        self._bench: Workbench | None = None
        if eager:
            self.load()

    @property
    def model(self) -> ModelInfo | None:
        """What was loaded (None before the first rerank of a lazy Reranker)."""
        return self._bench.model if self._bench is not None else None

    def load(self) -> None:
        """Load the model now (otherwise the first `rerank` does). Raises SetupError if it cannot be."""
        with self._lock:
            self._loaded()

    def _loaded(self) -> Workbench:
        if self._bench is None:
            from .engine.loading import ModelLoadError, load_scorer
            from .session import Workbench

            try:
                # A rerank call returns whole: no batch is scored early for a quick first row.
                scorer = load_scorer(replace(self.setup.load_options(), quick_first_rows=False))
            except (ModelLoadError, ValueError) as e:
                raise SetupError(f"cannot load the setup's model: {e}") from None
            if scorer.info.is_fallback:
                warnings.warn(f"no reranker loaded; scores come from the offline embedding fallback "
                              f"({scorer.info.fallback_reason})", RuntimeWarning, stacklevel=4)
            bench = Workbench(self.setup.run_settings(), instruction=self.setup.instruction)
            bench.attach(scorer)
            self._bench = bench
        return self._bench

    def rerank(self, query: str, documents: Sequence[str], top_n: int | None = None) -> list[RerankedDocument]:
        """`documents` ranked for `query`, best first (the best `top_n` only, when given).
        An empty list gives an empty list; a document that is not a str raises TypeError."""
        texts = [_text(n, d) for n, d in enumerate(documents)]
        if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1):
            raise ValueError(f"top_n must be a whole number of at least 1, or None for all (got {top_n!r})")
        if not isinstance(query, str) or not query.strip():
            raise ValueError("the query is empty: pass the text you are searching for")
        if not texts:
            return []
        from .engine.types import Document
        from .session import SessionInputError

        with self._lock:
            bench = self._loaded()
            bench.set_query(query)
            bench.set_documents([Document(id=str(n), text=t) for n, t in enumerate(texts)])
            try:
                result = bench.run_now()
            except SessionInputError as e:  # never expected: the inputs were checked above
                raise ValueError(str(e)) from None
            finally:
                bench.set_documents([])  # the texts are the caller's: keep none between calls
        normalized = self._normalized(result)
        ranked = [_ranked(d, texts, result.aggregate, normalized.get(d.doc_id)) for d in result.documents]
        return ranked[:top_n] if top_n is not None else ranked

    def _normalized(self, result) -> dict[str, float | None]:
        if self.setup.normalize == "none":
            return {}
        from .calibration import normalize_run

        return normalize_run(result, self.setup.normalize).documents

    def __repr__(self) -> str:
        state = self.model.model_id if self.model is not None else "not loaded yet"
        return f"Reranker(model={self.setup.model or 'default'!r}, {state})"


def load_setup(source: SetupSource, *, eager: bool = False) -> Reranker:
    """A Reranker for a setup file (TOML or JSON), a dict of setup keys, or a Setup.

    The model loads on the first `rerank`, or here with `eager=True`. Raises SetupError (a
    ValueError) with one line naming the file and key when the setup cannot be used."""
    return Reranker(read_setup(source), eager=eager)


def _text(n: int, document: object) -> str:
    if not isinstance(document, str):
        raise TypeError(f"document {n} is a {type(document).__name__}, not text: rerank takes a list of str")
    return document


def _ranked(d: DocumentScore, texts: list[str], aggregate: str, normalized: float | None) -> RerankedDocument:
    best: ChunkScore | None = max(d.chunks, key=lambda c: c.logit, default=None)
    chunk = None
    if best is not None:
        chunk = BestChunk(best.chunk.index, best.chunk.start, best.chunk.end, best.score, best.logit, best.truncated)
    deciding = best if aggregate == "max" else d.chunks[0] if aggregate == "first" and d.chunks else None
    logit = deciding.logit if deciding is not None else _logit(d.score)
    index = int(d.doc_id)
    return RerankedDocument(index, texts[index], d.rank, d.score, logit, chunk, normalized, len(d.chunks))


def _logit(p: float) -> float:
    if not math.isfinite(p):
        return p
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p / (1.0 - p))
